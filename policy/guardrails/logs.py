"""Logging invariants: every CloudWatch log group has a finite retention."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get, num, number

MANDATORY = EnforcementLevel.MANDATORY


def _retention(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:cloudwatch/logGroup:LogGroup":
        return
    minimum = config(args, "minDays", 1)
    days = number(get(args.props, "retentionInDays"))
    if days is None or days <= 0:
        fail(report, args, "log group never expires", days, "set retentionInDays (e.g. 90, 365)")
    elif days < minimum:
        fail(report, args, f"retention is shorter than {num(minimum)} days", days, f"retentionInDays >= {num(minimum)}")


log_group_retention = ResourceValidationPolicy(
    name="log-group-retention",
    description="CloudWatch log groups set a retention (the AWS default keeps logs, and their cost, forever).",
    enforcement_level=MANDATORY,
    validate=_retention,
    config_schema=PolicyConfigSchema(
        properties={"minDays": {"type": "integer", "minimum": 1, "default": 1, "description": "Shortest retention."}}
    ),
)

POLICIES = [log_group_retention]
