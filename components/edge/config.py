"""The `edge` section: load balancer controller, domain and TLS, WAF, access logs, optional NLB and CloudFront."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from core.schema import ChartVersion, Int, Invalid, Model

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


def _domain(value: str) -> str:
    if not _DOMAIN.match(value):
        raise ValueError("a lowercase DNS name such as app.example.com")
    return value


class NlbConfig(Model):
    """A Network Load Balancer class for gRPC/HTTP2 Services, reachable on 443 from known client ranges only."""

    scheme: NlbScheme
    """`internal` (reachable from the VPC and its peers) or `internet-facing`."""
    allowed_cidrs: tuple[str, ...]
    """Client CIDR blocks allowed to reach the NLB on 443 (never the whole internet)."""

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        found: list[tuple[str, Any, str]] = []
        for index, cidr in enumerate(cidrs):
            try:
                net = ipaddress.ip_network(cidr)
            except ValueError:
                found.append((f"[{index}]", cidr, "CIDR blocks"))
                continue
            if net.prefixlen == 0:
                found.append((f"[{index}]", cidr, "specific client ranges (only 80/443 may be open to the world)"))
        if found:
            raise Invalid(*found)
        return cidrs


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
