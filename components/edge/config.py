"""The `edge` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.platform_services import NLB_SCHEMES, SSL_POLICIES, CloudFrontConfig, EdgeConfig, NlbConfig
from core.sections.platform_services import parse_edge as _parse_edge
from core.validation import Section

__all__ = ["NLB_SCHEMES", "SSL_POLICIES", "CloudFrontConfig", "EdgeConfig", "NlbConfig", "parse_edge"]


def parse_edge(sec: Section, *, context: ValidationContext, top: Section) -> EdgeConfig | None:
    return _parse_edge(sec, environment=context.environment or "")
