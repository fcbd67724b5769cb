"""The `artifacts` section (being converted to the declared schema; see core/schema.py)."""

from __future__ import annotations

from core.schema import ValidationContext
from core.sections.organization import ArtifactsConfig
from core.sections.organization import parse_artifacts as _parse_artifacts
from core.validation import Section

__all__ = ["ArtifactsConfig", "parse_artifacts"]


def parse_artifacts(sec: Section, *, context: ValidationContext, top: Section) -> ArtifactsConfig | None:
    return _parse_artifacts(sec)
