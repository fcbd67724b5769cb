"""The `network` section: VPC block, availability zones, NAT mode, endpoints, IPv6."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from core.schema import Bool, Invalid, Model, context_of

NAT_MODES = ("perAz", "single")

REQUIRED_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts")
"""Interface endpoints every VPC gets: image pulls and IRSA/Pod Identity token exchange stay on the AWS network."""

OPTIONAL_INTERFACE_ENDPOINTS = (
    "aps-workspaces", "autoscaling", "ec2", "ec2messages", "ecs", "eks", "eks-auth", "elasticfilesystem",
    "elasticloadbalancing", "events", "kms", "logs", "monitoring", "rds", "secretsmanager", "sns", "sqs", "ssm",
    "ssmmessages", "xray",
)  # fmt: skip
"""Extra interface endpoints a stack may ask for (short service names, as in com.amazonaws.<region>.<name>)."""


REGION_ZONES: dict[str, tuple[str, ...]] = {
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"),
}
"""Availability zones of each region the organisation may use (AWS documentation, "Regions and Availability Zones";
zone names map to different physical zones per account, but the letters that exist are the same). Add a region here
before allowing it."""


class NetworkConfig(Model):
    """The environment's VPC."""

    vpc_cidr: str
    """The VPC's IPv4 block: a private /16, the one addressPlan reserves for the environment."""
    availability_zones: tuple[str, ...]
    """Zones of the stack's region to spread subnets, NAT gateways and nodes over: three where the environment is
    highly available, otherwise two or three."""
    nat_gateways: Literal["perAz", "single"]
    """`perAz` (a NAT gateway in every zone, required where highly available) or `single` (one, in the first zone)."""
    extra_interface_endpoints: tuple[str, ...] = Field(default=(), alias="interfaceEndpoints")
    """Interface endpoints besides the ones every VPC gets (ecr.api, ecr.dkr, sts), by short service name."""
    enable_ipv6: Bool = False
    """Dual stack: an Amazon-provided IPv6 /56 and a /64 per public subnet."""

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """Every interface endpoint to create: the required ones first, then the stack's extras."""
        return REQUIRED_INTERFACE_ENDPOINTS + self.extra_interface_endpoints

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, vpc_cidr: str, info: ValidationInfo) -> str:
        try:
            net = ipaddress.IPv4Network(vpc_cidr)
        except ValueError:
            raise ValueError("an IPv4 network address with prefix, such as 10.10.0.0/16") from None
        found: list[tuple[str, Any, str]] = []
        if net.prefixlen != 16:
            found.append(("", vpc_cidr, "a /16 block"))
        if not any(net.subnet_of(p) for p in _PRIVATE_RANGES):
            found.append(
                ("", vpc_cidr, "a private (RFC 1918) block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
            )
        ctx = context_of(info)
        plan, environment = ctx.address_plan, ctx.environment
        if environment is not None and plan:
            own = plan.get(environment)
            if own is None:
                found.append(("", vpc_cidr, f"a block reserved for {environment} in addressPlan (it has no entry)"))
            elif own != net:
                found.append(("", vpc_cidr, f"{own}, the block addressPlan reserves for {environment}"))
            for other, other_net in sorted(plan.items()):
                if other != environment and net.overlaps(other_net):
                    found.append(("", vpc_cidr, f"a block that does not overlap {other}'s {other_net}"))
        if found:
            raise Invalid(*found)
        return vpc_cidr

    @field_validator("availability_zones")
    @classmethod
    def _zones(cls, zones: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        ctx = context_of(info)
        found: list[tuple[str, Any, str]] = []
        strict = ctx.profile is not None and ctx.profile.highly_available
        if (strict and len(zones) != 3) or not 2 <= len(zones) <= 3:
            wanted = "exactly 3" if strict else "2 or 3"
            found.append(("", list(zones), f"{wanted} availability zones for environment {ctx.environment}"))
        if len(set(zones)) != len(zones):
            found.append(("", list(zones), "distinct availability zones"))
        if ctx.region is not None:
            known = REGION_ZONES.get(ctx.region)
            for index, zone in enumerate(zones):
                if not re.fullmatch(re.escape(ctx.region) + r"[a-z]", zone):
                    wanted = f"a zone of the stack's region {ctx.region} ({ctx.region}a, {ctx.region}b, ...)"
                    found.append((f"[{index}]", zone, wanted))
                elif known is not None and zone not in known:
                    found.append((f"[{index}]", zone, f"a zone that exists in {ctx.region}: " + ", ".join(known)))
            if known is None:
                found.append(("", list(zones), f"zones of a region listed in REGION_ZONES (not {ctx.region})"))
        if found:
            raise Invalid(*found)
        return zones

    @field_validator("nat_gateways")
    @classmethod
    def _nat(cls, nat: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if nat == "single" and ctx.profile is not None and ctx.profile.highly_available:
            raise ValueError(f"perAz (environment {ctx.environment} needs a NAT gateway in every AZ)")
        return nat

    @field_validator("extra_interface_endpoints")
    @classmethod
    def _endpoints(cls, endpoints: tuple[str, ...]) -> tuple[str, ...]:
        found: list[tuple[str, Any, str]] = []
        for index, name in enumerate(endpoints):
            if name in REQUIRED_INTERFACE_ENDPOINTS:
                found.append((f"[{index}]", name, "only extra services; ecr.api, ecr.dkr and sts are always created"))
            elif name not in OPTIONAL_INTERFACE_ENDPOINTS:
                found.append((f"[{index}]", name, "one of " + ", ".join(OPTIONAL_INTERFACE_ENDPOINTS)))
        if len(set(endpoints)) != len(endpoints):
            found.append(("", list(endpoints), "each service listed once"))
        if found:
            raise Invalid(*found)
        return endpoints


_PRIVATE_RANGES = tuple(ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
