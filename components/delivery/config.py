"""The `delivery` section: Argo CD (GitOps), its root application, the projects that bound what Git may deploy, and
Argo Rollouts canary analysis."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from core.schema import Bool, ChartVersion, Invalid, Model, NonEmpty, context_of

_REPO_URL = re.compile(r"^(https://[\w.-]+/[\w./-]+?(\.git)?|git@[\w.-]+:[\w./-]+?\.git)$")
_PATH = re.compile(r"^[\w./-]+$")
_RATIO = "a ratio between 0 and 1, e.g. 0.02"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_KEY_ID = re.compile(r"^([0-9A-F]{16}|[0-9A-F]{40})$")
_KEY_ID_TEXT = (
    "a GnuPG key id: the 16 hexadecimal digits of the long key id (e.g. 4AEE18F83AFDEB23) or the 40 of the fingerprint"
)
_REPO_TEXT = "https://host/owner/repo(.git) or git@host:owner/repo.git"


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
            raise ValueError(_REPO_TEXT)
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
    root_auto_prune: Bool = Field(default=True, validate_default=True)
    """Whether the root application deletes on its own what was removed from the GitOps path: the Argo CD
    Applications there and, through their finalizers, everything they deployed. Must be false in production
    environments, where the default true is refused: there a removal waits, OutOfSync, until an operator syncs the
    root with prune (`argocd app sync root --prune`)."""
    signature_keys: tuple[str, ...] = ()
    """GnuPG key ids (16 hexadecimal digits, or the 40 of the fingerprint) that commits must be signed with before
    Argo CD syncs them, in every project the platform manages (the root application's and each team's). Empty: no
    signature is required. The public keys must be imported into Argo CD (`argocd gpg add`) before a key is listed."""
    team_source_repos: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Repositories a team's project may read besides the GitOps repository, by application namespace (a key of
    workloads.namespaces), e.g. `{shop: [https://github.com/acme/aws-platform.git]}` for the manifests of
    apps/hello. Each is https://host/owner/repo(.git) or git@host:owner/repo.git."""

    @field_validator("root_auto_prune")
    @classmethod
    def _manual_prune_in_production(cls, value: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if value is True and ctx.profile is not None and ctx.profile.production:
            raise ValueError(f"false ({ctx.environment} prunes what the root application deployed only by hand)")
        return value

    @field_validator("signature_keys", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError(f"a list of key ids, each {_KEY_ID_TEXT}")
        found: list[tuple[str, Any, str]] = []
        keys: list[Any] = []
        for index, key in enumerate(value):
            normalized = key.strip().upper() if isinstance(key, str) else key
            if not isinstance(normalized, str) or not _KEY_ID.match(normalized):
                found.append((f"[{index}]", key, _KEY_ID_TEXT))
            elif normalized in keys:
                found.append((f"[{index}]", key, "a key id listed once"))
            keys.append(normalized)
        if found:
            raise Invalid(*found)
        return tuple(keys)

    @field_validator("team_source_repos")
    @classmethod
    def _team_repos(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        found: list[tuple[str, Any, str]] = []
        for namespace, repos in value.items():
            if not _NAMESPACE.match(namespace):
                found.append((namespace, namespace, "an application namespace (a DNS-1123 label)"))
            if not repos:
                found.append((namespace, [], "at least one repository (leave the namespace out for none)"))
            for index, repo in enumerate(repos):
                if not _REPO_URL.match(repo):
                    found.append((f"{namespace}[{index}]", repo, _REPO_TEXT))
        if found:
            raise Invalid(*found)
        return value

    @field_validator("high_availability")
    @classmethod
    def _ha(cls, value: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if value is False and ctx.profile is not None and ctx.profile.production:
            raise ValueError(f"true ({ctx.environment} runs Argo CD highly available)")
        return value
