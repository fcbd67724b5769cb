"""Tagging: the common tags every taggable resource carries, merged in one fixed order.

Order: common tags (project, environment, stack, owner, cost centre, managed-by, then the stack's extra tags, which
may not override those), then the component's own tags, then `Name` last. Tags are always passed explicitly on each
resource, so input-level checks (tests, the policy pack) can see them; provider default_tags alone are invisible there.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.settings import RESERVED_TAG_KEYS
from core.settings import CommonConfig as StackConfig

REQUIRED_TAG_KEYS = ("Project", "Environment", "Owner", "CostCenter", "ManagedBy")
"""Tags the policy pack requires on every taggable resource."""


def common_tags(cfg: StackConfig) -> dict[str, str]:
    required = {
        "Project": cfg.project,
        "Environment": cfg.environment,
        "Stack": cfg.stack,
        "Owner": cfg.tags.owner,
        "CostCenter": cfg.tags.cost_center,
        "ManagedBy": "pulumi",
    }
    return {**cfg.tags.extra, **required}


def merge_tags(
    common: Mapping[str, str], component: Mapping[str, str] | None = None, name: str | None = None
) -> dict[str, str]:
    """Merge tags in the house order: common, component, then `Name`."""
    merged = dict(common)
    for key, value in (component or {}).items():
        if key in RESERVED_TAG_KEYS:
            raise ValueError(f"component tag {key!r} would override a reserved tag; reserved: {RESERVED_TAG_KEYS}")
        merged[key] = value
    if name is not None:
        merged["Name"] = name
    return merged
