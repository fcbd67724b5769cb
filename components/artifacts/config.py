"""The `artifacts` section of the shared-services stack: the image repositories and the state backend's retention."""

from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator

from core.schema import Bool, Int, Invalid, Model

_REPO_NAME = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*$")


class ArtifactsConfig(Model):
    """The container registry in the shared-services account and the retention of the Pulumi state."""

    repositories: tuple[str, ...]
    """ECR repository names such as shop.
    One repository per entry, each listed once; the environment accounts may pull from every one."""
    keep_tagged_images: Int = 100
    """Tagged images kept per repository (1-1000); older ones expire."""
    expire_untagged_days: Int = 7
    """Days before an untagged image expires (1-365)."""
    enhanced_scanning: Bool = True
    """Registry-wide enhanced scanning (Amazon Inspector, continuous); otherwise basic scan on push only."""
    state_noncurrent_version_days: Int = 90
    """Days to keep old versions of the Pulumi state objects (at least 30)."""

    @field_validator("repositories")
    @classmethod
    def _repositories(cls, repos: tuple[str, ...]) -> tuple[str, ...]:
        found: list[tuple[str, Any, str]] = []
        for index, repo in enumerate(repos):
            if not _REPO_NAME.match(repo) or len(repo) > 200:
                found.append((f"[{index}]", repo, "lowercase ECR repository names (letters, digits, . _ - /)"))
        if len(set(repos)) != len(repos):
            found.append(("", list(repos), "each repository once"))
        if found:
            raise Invalid(*found)
        return repos

    @field_validator("keep_tagged_images")
    @classmethod
    def _keep(cls, keep: int) -> int:
        if not 1 <= keep <= 1000:
            raise ValueError("1-1000")
        return keep

    @field_validator("expire_untagged_days")
    @classmethod
    def _untagged(cls, days: int) -> int:
        if not 1 <= days <= 365:
            raise ValueError("1-365")
        return days

    @field_validator("state_noncurrent_version_days")
    @classmethod
    def _noncurrent(cls, days: int) -> int:
        if days < 30:
            raise ValueError("at least 30 days")
        return days
