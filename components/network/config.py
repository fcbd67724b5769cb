"""The `network` section: VPC block, availability zones, NAT mode, endpoints, IPv6."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.environments import STRICT_ENVIRONMENTS
from core.validation import Section

NAT_MODES = ("perAz", "single")

REQUIRED_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts")
"""Interface endpoints every VPC gets: image pulls and IRSA/Pod Identity token exchange stay on the AWS network."""

OPTIONAL_INTERFACE_ENDPOINTS = (
    "aps-workspaces", "autoscaling", "ec2", "ec2messages", "ecs", "eks", "eks-auth", "elasticfilesystem",
    "elasticloadbalancing", "events", "kms", "logs", "monitoring", "rds", "secretsmanager", "sns", "sqs", "ssm",
    "ssmmessages", "xray",
)  # fmt: skip
"""Extra interface endpoints a stack may ask for (short service names, as in com.amazonaws.<region>.<name>)."""


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    vpc_cidr: str
    availability_zones: tuple[str, ...]
    nat_gateways: str
    """"perAz" (one NAT gateway per AZ) or "single" (sandbox only)."""
    interface_endpoints: tuple[str, ...]
    """Every interface endpoint to create: the required ones first, then the stack's extras."""
    enable_ipv6: bool


def check_address_plan(sec: Section, plan: Mapping[str, Any]) -> dict[str, ipaddress.IPv4Network]:
    networks: dict[str, ipaddress.IPv4Network] = {}
    for env, cidr in plan.items():
        try:
            net = ipaddress.IPv4Network(cidr)
        except (ValueError, TypeError):
            sec.bad(f"addressPlan.{env}", cidr, "an IPv4 CIDR block such as 10.10.0.0/16")
            continue
        networks[env] = net
    for env, net in networks.items():
        for other, other_net in networks.items():
            if env < other and net.overlaps(other_net):
                sec.bad(f"addressPlan.{other}", str(other_net), f"a block that does not overlap {env} ({net})")
    return networks


def parse_network(
    sec: Section, *, environment: str, region: str | None, plan: Mapping[str, ipaddress.IPv4Network]
) -> NetworkConfig | None:
    vpc_cidr = sec.string("vpcCidr", allowed="a private IPv4 /16 such as 10.10.0.0/16")
    azs = sec.string_list("availabilityZones", allowed="a list of availability zone names")
    nat = sec.choice("natGateways", NAT_MODES)
    extra_endpoints = sec.string_list("interfaceEndpoints", default=[])
    ipv6 = sec.boolean("enableIpv6", default=False)
    sec.finish()

    if vpc_cidr is not None:
        _check_vpc_cidr(sec, vpc_cidr, environment=environment, plan=plan)

    if azs is not None:
        strict = environment in STRICT_ENVIRONMENTS
        wanted = "exactly 3" if strict else "2 or 3"
        if (strict and len(azs) != 3) or not (2 <= len(azs) <= 3):
            sec.bad("availabilityZones", azs, f"{wanted} availability zones for environment {environment}")
        if len(set(azs)) != len(azs):
            sec.bad("availabilityZones", azs, "distinct availability zones")
        if region is not None:
            for az in azs:
                if not re.fullmatch(re.escape(region) + r"[a-z]", az):
                    sec.bad(
                        "availabilityZones", az, f"a zone of the stack's region {region} ({region}a, {region}b, ...)"
                    )

    if nat == "single" and environment in STRICT_ENVIRONMENTS:
        sec.bad("natGateways", nat, f"perAz (environment {environment} needs a NAT gateway in every AZ)")

    if extra_endpoints is not None:
        for name in extra_endpoints:
            if name in REQUIRED_INTERFACE_ENDPOINTS:
                sec.bad("interfaceEndpoints", name, "only extra services; ecr.api, ecr.dkr and sts are always created")
            elif name not in OPTIONAL_INTERFACE_ENDPOINTS:
                sec.bad("interfaceEndpoints", name, "one of " + ", ".join(OPTIONAL_INTERFACE_ENDPOINTS))
        if len(set(extra_endpoints)) != len(extra_endpoints):
            sec.bad("interfaceEndpoints", extra_endpoints, "each service listed once")

    if None in (vpc_cidr, azs, nat, extra_endpoints, ipv6):
        return None
    assert vpc_cidr is not None
    assert azs is not None
    assert nat is not None
    assert extra_endpoints is not None
    return NetworkConfig(
        vpc_cidr=vpc_cidr,
        availability_zones=tuple(azs),
        nat_gateways=nat,
        interface_endpoints=REQUIRED_INTERFACE_ENDPOINTS + tuple(extra_endpoints),
        enable_ipv6=bool(ipv6),
    )


def _check_vpc_cidr(
    sec: Section, vpc_cidr: str, *, environment: str, plan: Mapping[str, ipaddress.IPv4Network]
) -> None:
    try:
        net = ipaddress.IPv4Network(vpc_cidr)
    except ValueError:
        sec.bad("vpcCidr", vpc_cidr, "an IPv4 network address with prefix, such as 10.10.0.0/16")
        return
    if net.prefixlen != 16:
        sec.bad("vpcCidr", vpc_cidr, "a /16 block")
    if not any(net.subnet_of(p) for p in _PRIVATE_RANGES):
        sec.bad("vpcCidr", vpc_cidr, "a private (RFC 1918) block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    own = plan.get(environment)
    if own is None:
        sec.bad("vpcCidr", vpc_cidr, f"a block reserved for {environment} in addressPlan (it has no entry)")
    elif own != net:
        sec.bad("vpcCidr", vpc_cidr, f"{own}, the block addressPlan reserves for {environment}")
    for other, other_net in sorted(plan.items()):
        if other != environment and net.overlaps(other_net):
            sec.bad("vpcCidr", vpc_cidr, f"a block that does not overlap {other}'s {other_net}")


_PRIVATE_RANGES = tuple(ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
