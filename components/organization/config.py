"""The `organization` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.organization import Account, OrganizationConfig
from core.sections.organization import parse_organization as _parse_organization
from core.validation import Section

__all__ = ["Account", "OrganizationConfig", "parse_organization"]


def parse_organization(sec: Section, *, context: ValidationContext, top: Section) -> OrganizationConfig | None:
    return _parse_organization(sec, stack_account=context.account_id)
