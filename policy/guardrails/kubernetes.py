"""EKS and node invariants: private-ish API endpoint, full control-plane logging, IMDSv2 everywhere nodes boot."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get, items, num, number, truthy

MANDATORY = EnforcementLevel.MANDATORY
ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
WORLD = ("0.0.0.0/0", "::/0")
KARPENTER_DEFAULT_METADATA = {"httpTokens": "required", "httpPutResponseHopLimit": 1}


def _endpoint(args: ResourceArgs) -> tuple[bool, list[str]] | None:
    """(public endpoint enabled, public CIDRs) with AWS and pulumi-eks defaults applied (both default to public)."""
    if args.resource_type == "aws:eks/cluster:Cluster":
        vpc = get(args.props, "vpcConfig", default={})
        public = get(vpc, "endpointPublicAccess", default=True)
        cidrs = items(get(vpc, "publicAccessCidrs"))
    elif args.resource_type == "eks:index:Cluster":
        public = get(args.props, "endpointPublicAccess", default=True)
        cidrs = items(get(args.props, "publicAccessCidrs"))
    else:
        return None
    return truthy(public), [str(c) for c in cidrs]


def _endpoint_not_world(args: ResourceArgs, report: ReportViolation) -> None:
    endpoint = _endpoint(args)
    if endpoint is None:
        return
    public, cidrs = endpoint
    if not public:
        return
    if not config(args, "allowPublicEndpoint", True):
        fail(report, args, "the API endpoint is public", cidrs, "set endpointPublicAccess=false (private only)")
    elif not cidrs or any(c in WORLD for c in cidrs):
        fail(
            report,
            args,
            "the public API endpoint is open to the whole internet (no CIDRs means 0.0.0.0/0)",
            cidrs or None,
            "set publicAccessCidrs to your office/VPN ranges, or endpointPublicAccess=false",
        )


def _log_types(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type not in ("aws:eks/cluster:Cluster", "eks:index:Cluster"):
        return
    required = config(args, "requiredLogTypes", ALL_LOG_TYPES)
    enabled = [str(t) for t in items(get(args.props, "enabledClusterLogTypes"))]
    missing = [t for t in required if t not in enabled]
    if missing:
        fail(report, args, f"control-plane log types are off: {', '.join(missing)}", enabled, "enable all five")


def _metadata_options(args: ResourceArgs) -> object | None:
    if args.resource_type in ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"):
        return get(args.props, "metadataOptions", default={})
    if args.resource_type == EC2_NODE_CLASS:
        # Karpenter v1 defaults to httpTokens required and hop limit 1; judge the options only when they are set.
        return get(args.props, "spec", "metadataOptions", default=KARPENTER_DEFAULT_METADATA)
    return None


def _imdsv2(args: ResourceArgs, report: ReportViolation) -> None:
    options = _metadata_options(args)
    if options is None:
        return
    tokens = get(options, "httpTokens")
    if tokens != "required":
        fail(report, args, "IMDSv2 is not required (httpTokens)", tokens, 'set metadataOptions.httpTokens="required"')
    max_hops = config(args, "maxHopLimit", 1)
    hops = number(get(options, "httpPutResponseHopLimit"))
    if hops is None or hops > max_hops:
        fail(
            report,
            args,
            f"IMDS hop limit is not pinned at or below {num(max_hops)}",
            hops,
            f"set httpPutResponseHopLimit={num(max_hops)} (pods then cannot reach node credentials)",
        )


POLICIES = [
    ResourceValidationPolicy(
        name="eks-endpoint-not-public",
        description="The EKS API endpoint is private, or public only to listed CIDRs (never 0.0.0.0/0).",
        enforcement_level=MANDATORY,
        validate=_endpoint_not_world,
        config_schema=PolicyConfigSchema(
            properties={
                "allowPublicEndpoint": {
                    "type": "boolean",
                    "default": True,
                    "description": "Whether a CIDR-restricted public endpoint is acceptable (false: private only).",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="eks-control-plane-logging",
        description="EKS clusters send all five control-plane log types to CloudWatch.",
        enforcement_level=MANDATORY,
        validate=_log_types,
        config_schema=PolicyConfigSchema(
            properties={
                "requiredLogTypes": {
                    "type": "array",
                    "items": {"type": "string", "enum": ALL_LOG_TYPES},
                    "default": ALL_LOG_TYPES,
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="imdsv2-required",
        description="Launch templates, instances and Karpenter EC2NodeClasses require IMDSv2 with a low hop limit.",
        enforcement_level=MANDATORY,
        validate=_imdsv2,
        config_schema=PolicyConfigSchema(
            properties={
                "maxHopLimit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 64,
                    "default": 1,
                    "description": "Highest httpPutResponseHopLimit allowed.",
                }
            }
        ),
    ),
]
