"""The `ci` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.organization import CiConfig
from core.sections.organization import parse_ci as _parse_ci
from core.validation import Section

__all__ = ["CiConfig", "parse_ci"]


def parse_ci(sec: Section, *, context: ValidationContext, top: Section) -> CiConfig | None:
    return _parse_ci(sec)
