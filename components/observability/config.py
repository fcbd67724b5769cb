"""The `observability` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.platform_services import ObservabilityConfig
from core.sections.platform_services import parse_observability as _parse_observability
from core.validation import Section

__all__ = ["ObservabilityConfig", "parse_observability"]


def parse_observability(sec: Section, *, context: ValidationContext, top: Section) -> ObservabilityConfig | None:
    return _parse_observability(sec)
