"""The `identity` section of the environment stacks (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.organization import DEVELOPER_ACCESS, EKS_MAPPED_SETS, IdentityConfig
from core.sections.organization import parse_identity as _parse_identity
from core.validation import Section

__all__ = ["DEVELOPER_ACCESS", "EKS_MAPPED_SETS", "IdentityConfig", "parse_identity"]


def parse_identity(sec: Section, *, context: ValidationContext, top: Section) -> IdentityConfig | None:
    return _parse_identity(sec, environment=context.environment or "", account_id=context.account_id)
