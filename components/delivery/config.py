"""The `delivery` section: Argo CD (GitOps), its root application and Argo Rollouts canary analysis."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from core.schema import Bool, ChartVersion, Model, NonEmpty, context_of

_REPO_URL = re.compile(r"^(https://[\w.-]+/[\w./-]+?(\.git)?|git@[\w.-]+:[\w./-]+?\.git)$")
_PATH = re.compile(r"^[\w./-]+$")
_RATIO = "a ratio between 0 and 1, e.g. 0.02"


def _ratio(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(_RATIO)
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise ValueError(_RATIO) from None
    if not 0 < ratio < 1:
        raise ValueError(_RATIO)
    return ratio


Ratio = Annotated[float, BeforeValidator(_ratio)]
"""A number strictly between 0 and 1 (also as the decimal string the engine passes)."""


class GitOpsSource(Model):
    """Where Argo CD reads this cluster's applications."""

    repo_url: str
    """The GitOps repository: https://host/owner/repo(.git) or git@host:owner/repo.git."""
    path: str
    """The directory of this cluster's applications, relative to the repository root (e.g. clusters/prod)."""
    target_revision: NonEmpty = "main"
    """The branch, tag or commit Argo CD follows."""

    @field_validator("repo_url")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not _REPO_URL.match(value):
            raise ValueError("https://host/owner/repo(.git) or git@host:owner/repo.git")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value) or ".." in value:
            raise ValueError("a relative directory path")
        return value


class DeliveryConfig(Model):
    """Argo CD and Argo Rollouts."""

    argocd_chart_version: ChartVersion = Field(alias="argoCdChartVersion")
    """The argo-cd chart version (vendor/ holds its artefacts)."""
    rollouts_chart_version: ChartVersion
    """The argo-rollouts chart version."""
    high_availability: Bool = Field(default=False, validate_default=True)
    """Run Argo CD highly available (several replicas, redis-ha); required in production environments, where the
    default false is refused."""
    gitops: GitOpsSource
    """The repository and directory of this cluster's applications (the root application)."""
    canary_max_error_rate: Ratio = 0.02
    """The error ratio above which a canary analysis fails and Argo Rollouts aborts the rollout (0-1, exclusive)."""

    @field_validator("high_availability")
    @classmethod
    def _ha(cls, value: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if value is False and ctx.profile is not None and ctx.profile.production:
            raise ValueError(f"true ({ctx.environment} runs Argo CD highly available)")
        return value
