"""The `ci` section of the shared-services stack: who may publish images."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from components.ci.github import SUBJECT_SYNTAX, SubjectKind, subject_kind, valid_subject
from core.schema import Invalid, Model

PUBLISHER_SUBJECT_KINDS: tuple[SubjectKind, ...] = ("branch", "tag")
"""What the image publisher may be trusted from: code on a branch or a tag of the repository."""

_PUBLISH_FROM = f"{SUBJECT_SYNTAX['branch']} | {SUBJECT_SYNTAX['tag']}"
# Why the other documented forms may not publish (components/ci/github.py cites GitHub's "Example subject claims"):
# GitHub puts `pull_request` in the subject of any run a pull request event triggers, and the environment name (not the
# ref) in the subject of a job that references an environment.
_REFUSED_PUBLISHER_KINDS: dict[SubjectKind, str] = {
    "pull_request": (
        f"{_PUBLISH_FROM}; not pull_request: every run a pull request triggers presents that subject, whoever opened "
        "it and whatever it changes (the workflow file included), so unreviewed code could push images the "
        "environments pull"
    ),
    "environment": (
        f"{_PUBLISH_FROM}; not environment: a job that references an environment presents the environment instead "
        "of its branch or tag, so the trust could not tell which ref built the image; publish from a protected "
        "branch or a release tag"
    ),
}


class CiConfig(Model):
    """The CI identities of the organisation (GitHub Actions through OIDC)."""

    image_publisher_subjects: tuple[str, ...]
    """GitHub OIDC subjects allowed to push images.
    Each names one repository and a branch (`repo:<owner>/<repo>:ref:refs/heads/<branch>`) or tags
    (`repo:<owner>/<repo>:ref:refs/tags/<pattern>`, `*` allowed in the pattern); never a pull request or an
    environment."""

    @field_validator("image_publisher_subjects")
    @classmethod
    def _publisher_subjects(cls, subjects: tuple[str, ...]) -> tuple[str, ...]:
        if not subjects:
            raise ValueError("at least one subject")
        found: list[tuple[str, Any, str]] = []
        for index, subject in enumerate(subjects):
            kind = subject_kind(subject)
            problem = valid_subject(subject, PUBLISHER_SUBJECT_KINDS)
            if problem is not None and kind in _REFUSED_PUBLISHER_KINDS:
                problem = _REFUSED_PUBLISHER_KINDS[kind]
            if problem is not None:
                found.append((f"[{index}]", subject, problem))
        if found:
            raise Invalid(*found)
        return subjects
