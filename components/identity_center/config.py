"""The `identityCenter` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.organization import PERMISSION_SETS, IdentityCenterConfig
from core.sections.organization import parse_identity_center as _parse_identity_center
from core.validation import Section

__all__ = ["PERMISSION_SETS", "IdentityCenterConfig", "parse_identity_center"]


def parse_identity_center(sec: Section, *, context: ValidationContext, top: Section) -> IdentityCenterConfig | None:
    return _parse_identity_center(sec)
