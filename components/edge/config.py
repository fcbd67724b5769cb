"""The `edge` section: load balancer controller, domain and TLS, WAF, access logs, optional NLB and CloudFront."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.schema import ChartVersion, Int, Invalid, Model, context_of

SslPolicy = Literal[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
]
SSL_POLICIES: tuple[str, ...] = get_args(SslPolicy)
"""ALB TLS policies the platform allows: TLS 1.3, with TLS 1.2 only in its restricted forms."""
NlbScheme = Literal["internal", "internet-facing"]
NLB_SCHEMES: tuple[str, ...] = get_args(NlbScheme)
PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{5,31}$")
_PEER_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _domain(value: str) -> str:
    if not _DOMAIN.match(value):
        raise ValueError("a lowercase DNS name such as app.example.com")
    return value


def _cidr_problems(key: str, cidr: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | None, list[Any]]:
    try:
        net = ipaddress.ip_network(cidr)
    except (ValueError, TypeError):
        return None, [(key, cidr, "CIDR blocks")]
    if net.prefixlen == 0:
        return None, [(key, cidr, "specific client ranges (only 80/443 may be open to the world)")]
    return net, []


class NlbConfig(Model):
    """A Network Load Balancer class for gRPC/HTTP2 Services, reachable on 443 from known client ranges only."""

    scheme: NlbScheme
    """`internal` (reachable from the VPC and its peers) or `internet-facing`."""
    allowed_cidrs: tuple[str, ...] | None = None
    """Client CIDR blocks inside this environment's VPC allowed to reach the NLB on 443. Default: the whole VPC
    (its addressPlan block). A block outside the VPC is refused here: name it under peerRanges."""
    peer_ranges: dict[str, str] = Field(default_factory=dict)
    """Client ranges outside the VPC (peered networks, VPNs, an office) also allowed on 443, by name, e.g.
    `{corporate-vpn: 172.20.0.0/16}`: each is a deliberate, named exception. Never another environment's VPC block,
    never the whole internet."""

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        if cidrs is None:
            return None
        ctx = context_of(info)
        own = ctx.address_plan.get(ctx.environment or "")
        found: list[tuple[str, Any, str]] = []
        for index, cidr in enumerate(cidrs):
            net, problems = _cidr_problems(f"[{index}]", cidr)
            found += problems
            if net is not None and own is not None and not (net.version == 4 and net.subnet_of(own)):
                found.append(
                    (
                        f"[{index}]",
                        cidr,
                        f"a block inside this environment's VPC {own} (name outside ranges under peerRanges)",
                    )
                )
        if found:
            raise Invalid(*found)
        return cidrs

    @field_validator("peer_ranges")
    @classmethod
    def _peers(cls, peers: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        ctx = context_of(info)
        found: list[tuple[str, Any, str]] = []
        for name, cidr in peers.items():
            if not _PEER_NAME.match(name):
                found.append((name, name, "a name of lowercase letters, digits and hyphens"))
            net, problems = _cidr_problems(name, cidr)
            found += problems
            if net is None:
                continue
            if net.version != 4:
                found.append((name, cidr, "an IPv4 range (the NLB's rules are IPv4)"))
                continue
            for env, block in sorted(ctx.address_plan.items()):
                if env != ctx.environment and net.overlaps(block):
                    found.append((name, cidr, f"a range that does not overlap environment {env}'s VPC {block}"))
        if found:
            raise Invalid(*found)
        return peers


def covered_by_certificate(host: str, domain: str) -> bool:
    """Whether the ALB certificate (`domain` and `*.domain`) covers `host`: the domain itself or one label under it."""
    if host == domain:
        return True
    label, _, rest = host.partition(".")
    return rest == domain and re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", label) is not None


class CloudFrontConfig(Model):
    """A CloudFront distribution in front of the ALB, with its own certificate (us-east-1) and WAF."""

    domain: str
    """The distribution's DNS name (an alias record in hostedZoneId), e.g. www.example.com."""
    price_class: PriceClass = "PriceClass_100"
    """Edge locations served: PriceClass_100 (North America, Europe), PriceClass_200 or PriceClass_All."""

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return _domain(value)


class EdgeConfig(Model):
    """Ingress: the AWS Load Balancer Controller, the shared ALB with WAF and TLS, optional NLB and CloudFront."""

    lb_controller_chart_version: ChartVersion
    """The aws-load-balancer-controller chart version (vendor/ holds its artefacts)."""
    domain: str
    """The application's DNS name, e.g. shop.example.com; the ALB's certificate covers it and `*.<domain>`."""
    hosted_zone_id: str | None = None
    """The Route 53 hosted zone of `domain` (e.g. Z0123456789ABC), where certificates are DNS-validated and records
    created. Without it, the ALB certificate waits until its exported validation record is created by hand."""
    ssl_policy: SslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """The ALB's TLS policy."""
    waf_rate_limit: Int = 2000
    """WAF rate limit: requests per 5 minutes per client IP, 100-2000000000."""
    access_log_days: Int = 90
    """Days ALB access logs are kept in S3, at least 1."""
    ingress_hosts: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """The hosts each application namespace may serve on the shared ALB, by namespace, e.g.
    `{shop: [hello.shop.example.com]}`. An Ingress of class `alb` in that namespace may name only these hosts (an
    admission policy refuses any other, a rule without a host, and a default backend), so no team can take another's
    host on the company certificate. Each host is `domain` or one label under it (what the certificate covers), and
    belongs to one namespace only."""
    nlb: NlbConfig | None = None
    """An NLB ingress class for gRPC/HTTP2 Services (none if absent)."""
    cloudfront: CloudFrontConfig | None = Field(default=None, alias="cloudFront")
    """A CloudFront distribution in front of the ALB (none if absent); needs hostedZoneId."""

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return _domain(value)

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not _ZONE_ID.match(value):
            raise ValueError("a Route 53 hosted zone id such as Z0123456789ABC")
        return value

    @field_validator("waf_rate_limit")
    @classmethod
    def _rate(cls, value: int) -> int:
        if not 100 <= value <= 2_000_000_000:
            raise ValueError("100-2000000000 requests per 5 minutes")
        return value

    @field_validator("access_log_days")
    @classmethod
    def _log_days(cls, value: int) -> int:
        if value < 1:
            raise ValueError("at least 1 day")
        return value

    @model_validator(mode="after")
    def _hosts_on_the_certificate(self) -> EdgeConfig:
        found: list[tuple[str, Any, str]] = []
        owner: dict[str, str] = {}
        for namespace, hosts in self.ingress_hosts.items():
            if not _NAMESPACE.match(namespace):
                found.append((f"ingressHosts.{namespace}", namespace, "a namespace name (DNS-1123 label)"))
            for index, host in enumerate(hosts):
                key = f"ingressHosts.{namespace}[{index}]"
                if not covered_by_certificate(host, self.domain):
                    wanted = f"{self.domain} or one label under it (what the ALB certificate covers)"
                    found.append((key, host, wanted))
                elif host in owner:
                    found.append((key, host, f"a host no other namespace has (ingressHosts.{owner[host]} has it)"))
                else:
                    owner[host] = namespace
        if found:
            raise Invalid(*found)
        return self

    @model_validator(mode="after")
    def _cloudfront_needs_a_zone(self) -> EdgeConfig:
        if self.cloudfront is not None and self.hosted_zone_id is None:
            raise Invalid(
                (
                    "cloudFront",
                    {"domain": self.cloudfront.domain},
                    "a hostedZoneId as well (its certificate is DNS-validated)",
                )
            )
        return self
