"""Edge guardrail judged on real SDK resources: CloudFront viewer TLS, HTTPS-only behaviours and WAF
(policy/guardrails/edge.py)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tests.policy_support import cant_run, judge, reported, unknown

POLICY = "cloudfront-viewer-tls-and-waf"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/spa/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def distribution(**changes: Any) -> Any:
    args: dict[str, Any] = {
        "enabled": True,
        "origins": [{"domain_name": "spa.s3.eu-west-1.amazonaws.com", "origin_id": "spa"}],
        "default_cache_behavior": {
            "target_origin_id": "spa",
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD"],
            "cached_methods": ["GET", "HEAD"],
        },
        "restrictions": {"geo_restriction": {"restriction_type": "none"}},
        "viewer_certificate": {
            "acm_certificate_arn": CERT,
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": "TLSv1.2_2021",
        },
        "web_acl_id": ACL,
    }
    args.update(changes)

    def body(opts: pulumi.ResourceOptions) -> None:
        aws.cloudfront.Distribution("spa", opts=opts, **args)

    return body


def test_a_hardened_distribution_passes() -> None:
    assert judge(distribution()).of(POLICY) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {
                "viewer_certificate": {
                    "acm_certificate_arn": CERT,
                    "ssl_support_method": "sni-only",
                    "minimum_protocol_version": "TLSv1.1_2016",
                }
            },
            'viewer TLS minimum is too old; got "TLSv1.1_2016"',
            id="old-tls",
        ),
        pytest.param(
            {"viewer_certificate": {"cloudfront_default_certificate": True}},
            "uses the default *.cloudfront.net certificate",
            id="default-certificate",
        ),
        pytest.param(
            {
                "default_cache_behavior": {
                    "target_origin_id": "spa",
                    "viewer_protocol_policy": "allow-all",
                    "allowed_methods": ["GET", "HEAD"],
                    "cached_methods": ["GET", "HEAD"],
                }
            },
            'cache behavior default serves plain HTTP; got "allow-all"',
            id="plain-http",
        ),
        pytest.param(
            {
                "ordered_cache_behaviors": [
                    {
                        "path_pattern": "/api/*",
                        "target_origin_id": "spa",
                        "viewer_protocol_policy": "allow-all",
                        "allowed_methods": ["GET", "HEAD"],
                        "cached_methods": ["GET", "HEAD"],
                    }
                ]
            },
            "cache behavior /api/* serves plain HTTP",
            id="plain-http-ordered",
        ),
        pytest.param({"web_acl_id": None}, "no WAF web ACL", id="no-waf"),
    ],
)
def test_weak_distributions_are_rejected(changes: dict[str, Any], expected: str) -> None:
    message = reported(judge(distribution(**changes)), POLICY)
    assert "Distribution 'spa' (aws:cloudfront/distribution:Distribution)" in message
    assert expected in message


def test_accepted_protocol_versions_come_from_config() -> None:
    config = {"all": "mandatory", POLICY: {"minimumProtocolVersions": ["TLSv1.3_2025"]}}
    assert "minimumProtocolVersion TLSv1.3_2025" in reported(judge(distribution(), config=config), POLICY)


def test_an_unknown_web_acl_makes_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        distribution(web_acl_id=unknown())(opts)  # the unknown must be made inside the program's event loop

    assert "during preview" in cant_run(judge(body, preview=True), POLICY)
