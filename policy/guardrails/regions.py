"""Regions: the provider's region, each resource's own `region` input (pulumi-aws v7) and availability zones."""

from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get, items

MANDATORY = EnforcementLevel.MANDATORY
DEFAULT_ALLOWED_REGIONS = ["eu-west-1", "eu-central-1"]
# Resources that must live in us-east-1 whatever the workload region: CloudFront's certificate and WebACL, the log
# group a CLOUDFRONT-scope WebACL may write to, and the CloudFront access-log delivery (source, destination, delivery).
DEFAULT_US_EAST_1_TYPES = [
    "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:wafv2/webAcl:WebAcl",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
    "aws:cloudwatch/logDelivery:LogDelivery",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
]
AWS_PROVIDER = "pulumi:providers:aws"
_AZ = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d)[a-z]$")

_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedRegions": {
            "type": "array",
            "items": {"type": "string"},
            "default": DEFAULT_ALLOWED_REGIONS,
            "description": "Regions resources may be created in.",
        },
        "usEast1Types": {
            "type": "array",
            "items": {"type": "string"},
            "default": DEFAULT_US_EAST_1_TYPES,
            "description": "Resource types also allowed in us-east-1 (CloudFront's global dependencies).",
        },
    }
)


def _allowed_for(args: ResourceArgs, region: str) -> bool:
    allowed = config(args, "allowedRegions", DEFAULT_ALLOWED_REGIONS)
    if region in allowed:
        return True
    return region == "us-east-1" and args.resource_type in config(args, "usEast1Types", DEFAULT_US_EAST_1_TYPES)


def _allowed_regions(args: ResourceArgs, report: ReportViolation) -> None:
    allowed = config(args, "allowedRegions", DEFAULT_ALLOWED_REGIONS)
    fix = "use one of " + ", ".join(allowed)
    if args.resource_type == AWS_PROVIDER:
        region = get(args.props, "region")
        if region is None:
            fail(report, args, "AWS provider has no explicit region (it would use the ambient one)", None, fix)
        elif region not in allowed and region != "us-east-1":
            fail(report, args, "AWS provider region is not allowed", region, fix)
        return
    if not args.resource_type.startswith("aws:"):
        return
    own = get(args.props, "region")
    if own is not None:
        if not _allowed_for(args, own):
            fail(report, args, "resource region is not allowed", own, fix)
        return
    provider = args.provider
    if provider is not None and provider.resource_type == AWS_PROVIDER:
        region = get(provider.props, "region")
        if region is not None and not _allowed_for(args, region):
            fail(report, args, f"its provider '{provider.name}' deploys to a region that is not allowed", region, fix)


allowed_regions = ResourceValidationPolicy(
    name="allowed-regions",
    description="AWS providers and resources (including the per-resource region input) use allowed regions only.",
    enforcement_level=MANDATORY,
    validate=_allowed_regions,
    config_schema=_SCHEMA,
)


def _zones(args: ResourceArgs) -> list[str]:
    zones = [get(args.props, "availabilityZone"), *items(get(args.props, "availabilityZones"))]
    return [z for z in zones if isinstance(z, str)]


def _availability_zones(args: ResourceArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:"):
        return
    for zone in _zones(args):
        match = _AZ.match(zone)
        if match is None:
            continue  # zone ids (euw1-az1) carry no region name
        if not _allowed_for(args, match.group(1)):
            allowed = config(args, "allowedRegions", DEFAULT_ALLOWED_REGIONS)
            fail(report, args, "availability zone is in a region that is not allowed", zone, f"use {allowed}")


availability_zones = ResourceValidationPolicy(
    name="allowed-availability-zones",
    description="Availability-zone inputs name zones of allowed regions only.",
    enforcement_level=MANDATORY,
    validate=_availability_zones,
    config_schema=_SCHEMA,
)

POLICIES = [allowed_regions, availability_zones]
