"""RDS invariants: private, highly available, recoverable, IAM-authenticated and observable.

One policy per property, so each stack can set its own level (sandbox relaxes Multi-AZ and deletion protection)."""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get, number, truthy

MANDATORY = EnforcementLevel.MANDATORY
INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def _rds(types: tuple[str, ...]) -> Callable[[ResourceArgs], bool]:
    def applies(args: ResourceArgs) -> bool:
        return args.resource_type in types and not get(args.props, "replicateSourceDb")

    return applies


def _not_public(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type in (INSTANCE, CLUSTER_INSTANCE) and truthy(get(args.props, "publiclyAccessible")):
        fail(report, args, "instance is publicly accessible", True, "set publiclyAccessible=false")


def _multi_az(args: ResourceArgs, report: ReportViolation) -> None:
    if _rds((INSTANCE,))(args) and not truthy(get(args.props, "multiAz")):
        fail(report, args, "instance is single-AZ", get(args.props, "multiAz"), "set multiAz=true")


def _backups(args: ResourceArgs, report: ReportViolation) -> None:
    if not _rds((INSTANCE, CLUSTER))(args):
        return
    low, high = config(args, "minDays", 7), config(args, "maxDays", 35)
    days = number(get(args.props, "backupRetentionPeriod"))
    if days is None or not low <= days <= high:
        fail(
            report, args, f"backup retention is outside {low}-{high} days", days, f"backupRetentionPeriod={low}..{high}"
        )


def _deletion_protection(args: ResourceArgs, report: ReportViolation) -> None:
    if _rds((INSTANCE, CLUSTER))(args) and not truthy(get(args.props, "deletionProtection")):
        fail(report, args, "deletion protection is off", get(args.props, "deletionProtection"), "deletionProtection")


def _iam_auth(args: ResourceArgs, report: ReportViolation) -> None:
    if _rds((INSTANCE, CLUSTER))(args) and not truthy(get(args.props, "iamDatabaseAuthenticationEnabled")):
        value = get(args.props, "iamDatabaseAuthenticationEnabled")
        fail(report, args, "IAM database authentication is off", value, "iamDatabaseAuthenticationEnabled=true")


def _performance_insights(args: ResourceArgs, report: ReportViolation) -> None:
    if not _rds((INSTANCE,))(args):
        return
    # Database Insights "advanced" includes Performance Insights; "standard" does not turn it on.
    enabled = (
        truthy(get(args.props, "performanceInsightsEnabled")) or get(args.props, "databaseInsightsMode") == "advanced"
    )
    if not enabled:
        fail(report, args, "Performance Insights is off", None, "set performanceInsightsEnabled=true with a KMS key")
    elif not get(args.props, "performanceInsightsKmsKeyId"):
        fail(report, args, "Performance Insights data uses the AWS-managed key", None, "performanceInsightsKmsKeyId")


POLICIES = [
    ResourceValidationPolicy(
        name="rds-not-public",
        description="RDS instances and Aurora cluster instances are not publicly accessible.",
        enforcement_level=MANDATORY,
        validate=_not_public,
    ),
    ResourceValidationPolicy(
        name="rds-multi-az",
        description="RDS instances run Multi-AZ.",
        enforcement_level=MANDATORY,
        validate=_multi_az,
    ),
    ResourceValidationPolicy(
        name="rds-backup-retention",
        description="RDS instances and clusters keep automated backups for 7 to 35 days.",
        enforcement_level=MANDATORY,
        validate=_backups,
        config_schema=PolicyConfigSchema(
            properties={
                "minDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 7},
                "maxDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 35},
            }
        ),
    ),
    ResourceValidationPolicy(
        name="rds-deletion-protection",
        description="RDS instances and clusters have deletion protection.",
        enforcement_level=MANDATORY,
        validate=_deletion_protection,
    ),
    ResourceValidationPolicy(
        name="rds-iam-auth",
        description="RDS instances and clusters enable IAM database authentication.",
        enforcement_level=MANDATORY,
        validate=_iam_auth,
    ),
    ResourceValidationPolicy(
        name="rds-performance-insights",
        description="RDS instances enable Performance Insights, encrypted with a customer key.",
        enforcement_level=MANDATORY,
        validate=_performance_insights,
    ),
]
