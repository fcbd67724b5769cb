"""The declared `edge` section: the old parser's keys, defaults and rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.edge.config import NLB_SCHEMES, SSL_POLICIES, EdgeConfig
from core.loading import Problems, validate
from core.schema import Model, ValidationContext
from offline.stackfiles import read_stack

P = "aws-platform"


class _Stack(Model):
    """The section where the stack config holds it, so problems carry their full key path."""

    edge: EdgeConfig


def _section(stack: str) -> dict[str, Any]:
    return json.loads(read_stack(stack).config[f"{P}:edge"])


def check(data: dict[str, Any]) -> tuple[EdgeConfig | None, str]:
    problems = Problems()
    result = validate(_Stack, {"edge": data}, context=ValidationContext(), project=P, problems=problems)
    return (result.edge if result is not None else None), "\n".join(str(p) for p in problems.items)


def refused(data: dict[str, Any]) -> str:
    config, message = check(data)
    assert config is None, f"{data} was accepted"
    assert message
    return message


def accepted(data: dict[str, Any]) -> EdgeConfig:
    config, message = check(data)
    assert config is not None, message
    return config


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_the_stacks_edge_sections_are_accepted(stack: str) -> None:
    config = accepted(_section(stack))
    assert config.domain == _section(stack)["domain"]
    assert config.ssl_policy in SSL_POLICIES


def test_prod_values_and_aliases() -> None:
    config = accepted(_section("prod"))
    assert config.lb_controller_chart_version == "1.17.1"
    assert config.hosted_zone_id == "Z0123456789PRODZONE1"
    assert config.nlb is not None
    assert config.nlb.scheme in NLB_SCHEMES
    assert config.nlb.allowed_cidrs is None, "the NLB admits its own VPC's block by default"
    assert config.cloudfront is not None
    assert (config.cloudfront.domain, config.cloudfront.price_class) == ("www.example.com", "PriceClass_100")


def test_defaults_are_the_old_parsers() -> None:
    config = accepted({"lbControllerChartVersion": "1.17.1", "domain": "shop.example.com"})
    assert config.hosted_zone_id is None
    assert config.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert config.waf_rate_limit == 2000
    assert config.access_log_days == 90
    assert config.nlb is None
    assert config.cloudfront is None
    with_cf = accepted({"lbControllerChartVersion": "1.17.1", "domain": "shop.example.com",
                        "hostedZoneId": "Z0123456789ABC", "cloudFront": {"domain": "www.example.com"}})  # fmt: skip
    assert with_cf.cloudfront is not None
    assert with_cf.cloudfront.price_class == "PriceClass_100"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"lbControllerChartVersion": "latest"}, 'edge.lbControllerChartVersion: got "latest"; allowed: a chart'),
        ({"domain": "Shop.Example.com"}, 'edge.domain: got "Shop.Example.com"; allowed: a lowercase DNS name'),
        ({"hostedZoneId": "zone-1"}, 'edge.hostedZoneId: got "zone-1"; allowed: a Route 53 hosted zone id'),
        ({"sslPolicy": "ELBSecurityPolicy-2016-08"}, "allowed: one of ELBSecurityPolicy-TLS13-1-2-2021-06"),
        ({"wafRateLimit": 99}, "edge.wafRateLimit: got 99; allowed: 100-2000000000 requests per 5 minutes"),
        ({"accessLogDays": 0}, "edge.accessLogDays: got 0; allowed: at least 1 day"),
        ({"nlb": {"scheme": "public", "allowedCidrs": []}}, 'edge.nlb.scheme: got "public"; allowed: one of internal'),
        ({"nlb": {"scheme": "internal", "allowedCidrs": ["10.0.0.0/8", "::/0"]}},
         'edge.nlb.allowedCidrs[1]: got "::/0"; allowed: specific client ranges'),
        ({"nlb": {"scheme": "internal", "allowedCidrs": ["10.0.0.1/8"]}},
         'edge.nlb.allowedCidrs[0]: got "10.0.0.1/8"; allowed: CIDR blocks'),
        ({"nlb": {"scheme": "internal", "peerRanges": {"vpn": "0.0.0.0/0"}}},
         'edge.nlb.peerRanges.vpn: got "0.0.0.0/0"; allowed: specific client ranges'),
        ({"cloudFront": {"domain": "www.example.com", "priceClass": "PriceClass_300"}},
         "edge.cloudFront.priceClass"),
        ({"cloudfront": {"domain": "www.example.com"}}, "edge.cloudfront: got"),
    ],
)  # fmt: skip
def test_the_old_rules_still_refuse(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in refused(_section("prod") | changes)


def test_cloudfront_needs_a_hosted_zone() -> None:
    data = _section("prod")
    del data["hostedZoneId"]
    message = refused(data)
    assert f'{P}:edge.cloudFront: got {{"domain": "www.example.com"}}; allowed: a hostedZoneId as well' in message
