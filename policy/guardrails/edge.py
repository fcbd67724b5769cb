"""Edge invariants: CloudFront distributions serve viewers over modern TLS only, behind a WAF."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get, items, truthy

MANDATORY = EnforcementLevel.MANDATORY
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
DEFAULT_PROTOCOLS = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]


def _viewer_tls_and_waf(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    allowed = config(args, "minimumProtocolVersions", DEFAULT_PROTOCOLS)
    viewer = get(args.props, "viewerCertificate", default={})
    if truthy(get(viewer, "cloudfrontDefaultCertificate")):
        fail(report, args, "uses the default *.cloudfront.net certificate (TLSv1 allowed)", viewer,
             "serve an ACM certificate with sslSupportMethod sni-only")  # fmt: skip
    else:
        version = get(viewer, "minimumProtocolVersion")
        if version not in allowed:
            fail(
                report, args, "viewer TLS minimum is too old", version, "minimumProtocolVersion " + " or ".join(allowed)
            )
    behaviors = [get(args.props, "defaultCacheBehavior", default={}), *items(get(args.props, "orderedCacheBehaviors"))]
    for behavior in behaviors:
        policy = get(behavior, "viewerProtocolPolicy")
        if policy not in ("redirect-to-https", "https-only"):
            path = get(behavior, "pathPattern", default="default")
            fail(report, args, f"cache behavior {path} serves plain HTTP", policy,
                 "viewerProtocolPolicy redirect-to-https or https-only")  # fmt: skip
    if not get(args.props, "webAclId"):
        fail(report, args, "no WAF web ACL", None, "set webAclId to a CLOUDFRONT-scope wafv2 WebACL (us-east-1)")


cloudfront_viewer_tls_and_waf = ResourceValidationPolicy(
    name="cloudfront-viewer-tls-and-waf",
    description="CloudFront distributions use an ACM certificate with TLS 1.2+, HTTPS-only viewers and a WAF WebACL.",
    enforcement_level=MANDATORY,
    validate=_viewer_tls_and_waf,
    config_schema=PolicyConfigSchema(
        properties={
            "minimumProtocolVersions": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_PROTOCOLS,
                "description": "Accepted viewerCertificate.minimumProtocolVersion values.",
            }
        }
    ),
)

POLICIES = [cloudfront_viewer_tls_and_waf]
