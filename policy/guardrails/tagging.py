"""Tagging: every taggable AWS resource carries the required tags (owner, cost centre, ...)."""

from __future__ import annotations

import functools
import importlib
import inspect
import keyword
from collections.abc import Mapping, Sequence

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get

MANDATORY = EnforcementLevel.MANDATORY
DEFAULT_REQUIRED_TAGS = ["Project", "Environment", "Owner", "CostCenter", "ManagedBy"]
EXTRA_TAGGABLE = {"eks:index:Cluster"}


@functools.cache
def taggable(type_token: str) -> bool:
    """Whether a resource type takes a `tags` input, read from the installed pulumi-aws SDK."""
    if type_token in EXTRA_TAGGABLE:
        return True
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return False
    module_name = parts[1].split("/")[0]
    try:
        # `lambda` is a Python keyword: its SDK module is `pulumi_aws.lambda_`.
        suffix = "_" if keyword.iskeyword(module_name) else ""
        module = importlib.import_module(
            "pulumi_aws" if module_name == "index" else f"pulumi_aws.{module_name}{suffix}"
        )
    except ImportError:
        return False
    cls = getattr(module, parts[2], None)
    init = getattr(cls, "_internal_init", None)
    return init is not None and "tags" in inspect.signature(init).parameters


def _tag_map(tags: object) -> dict[str, object]:
    if isinstance(tags, Mapping):
        return {str(k): tags[k] for k in tags}
    if isinstance(tags, Sequence) and not isinstance(tags, str):  # autoscaling groups: [{key, value, ...}]
        return {str(get(t, "key")): get(t, "value") for t in tags}
    return {}


def _required_tags(args: ResourceArgs, report: ReportViolation) -> None:
    if not taggable(args.resource_type):
        return
    required = config(args, "requiredTags", DEFAULT_REQUIRED_TAGS)
    tags = _tag_map(get(args.props, "tags"))
    missing = [key for key in required if not tags.get(key)]
    if missing:
        fail(
            report,
            args,
            f"required tags are missing: {', '.join(missing)}",
            sorted(tags),
            "pass tags explicitly (provider default_tags are invisible to input checks)",
        )


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Taggable resources carry the required tags.",
    enforcement_level=MANDATORY,
    validate=_required_tags,
    config_schema=PolicyConfigSchema(
        properties={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_REQUIRED_TAGS,
                "description": "Tag keys every taggable resource must carry with a non-empty value.",
            }
        }
    ),
)

POLICIES = [required_tags]
