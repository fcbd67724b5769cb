"""The `delivery` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.platform_services import DeliveryConfig, GitOpsSource
from core.sections.platform_services import parse_delivery as _parse_delivery
from core.validation import Section

__all__ = ["DeliveryConfig", "GitOpsSource", "parse_delivery"]


def parse_delivery(sec: Section, *, context: ValidationContext, top: Section) -> DeliveryConfig | None:
    return _parse_delivery(sec, environment=context.environment or "")
