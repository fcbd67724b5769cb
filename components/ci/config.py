"""The `ci` section of the shared-services stack: who may publish images, repository by repository."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, field_validator

from components.ci.github import SUBJECT_SYNTAX, SubjectKind, parse_subject, valid_subject
from core.schema import Invalid, Model

PUBLISHER_SUBJECT_KINDS: tuple[SubjectKind, ...] = ("branch", "tag")
"""What an image publisher may be trusted from: code on a branch or a tag of the repository."""

CUSTOMISED_PUBLISHER_SYNTAX = (
    "repo:<owner>/<repo>:ref:refs/heads/<branch>:job_workflow_ref:<owner>/<repo>/.github/workflows/<file>"
    "@refs/heads/<branch>"
)
"""A publisher subject of the platform repository, whose OIDC subject is customised (components/ci/github.py
SUBJECT_CLAIM_KEYS): the branch and the workflow file that runs on it."""

SUBJECTS_MOVED = (
    "nothing: each ECR repository now has its own publisher role; move the subjects to "
    "aws-platform:ci.imagePublishers, a map from each repository of artifacts.repositories to the subjects that may "
    "push to it, and delete ci.imagePublisherSubjects"
)

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


def publisher_subject_problem(subject: str) -> str | None:
    """Why `subject` may not push images, whatever the repository (the rules that need the platform repository's name
    are in `publisher_problems`), or None."""
    parsed = parse_subject(subject)
    problem = valid_subject(subject, PUBLISHER_SUBJECT_KINDS)
    if problem is not None and parsed.kind in _REFUSED_PUBLISHER_KINDS:
        return _REFUSED_PUBLISHER_KINDS[parsed.kind]
    if problem is None and parsed.customised and parsed.workflow_ref != parsed.base.split(":ref:", 1)[-1]:
        return f"{CUSTOMISED_PUBLISHER_SYNTAX}: the workflow's ref is the ref the job runs on"
    return problem


class CiConfig(Model):
    """The CI identities of the organisation (GitHub Actions through OIDC)."""

    image_publishers: dict[str, tuple[str, ...]]
    """ECR repository -> the GitHub OIDC subjects allowed to push images to it.
    Each repository (one of artifacts.repositories) gets its own publisher role, which may push only to it. A subject
    names one repository and a branch (`repo:<owner>/<repo>:ref:refs/heads/<branch>`) or tags
    (`repo:<owner>/<repo>:ref:refs/tags/<pattern>`, `*` allowed in the pattern); never a pull request or an
    environment. The platform repository (githubRepository) customises its subject, so its workflows are named as
    `repo:<owner>/<repo>:ref:refs/heads/main:job_workflow_ref:<owner>/<repo>/.github/workflows/<file>@refs/heads/main`."""
    moved_publisher_subjects: Any = Field(default=None, alias="imagePublisherSubjects", exclude=True)
    """No longer set here: `imagePublishers` maps each ECR repository to the subjects that may push to it."""

    @field_validator("image_publishers")
    @classmethod
    def _publishers(cls, publishers: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if not publishers:
            raise ValueError("at least one repository and the subjects that may push to it")
        found: list[tuple[str, Any, str]] = []
        for repository, subjects in publishers.items():
            if not subjects:
                found.append((repository, [], "at least one subject"))
            for index, subject in enumerate(subjects):
                problem = publisher_subject_problem(subject)
                if problem is not None:
                    found.append((f"{repository}[{index}]", subject, problem))
        if found:
            raise Invalid(*found)
        return publishers

    @field_validator("moved_publisher_subjects")
    @classmethod
    def _subjects_moved(cls, subjects: Any) -> Any:
        if subjects is not None:
            raise ValueError(SUBJECTS_MOVED)
        return subjects


def publisher_problems(
    publishers: Mapping[str, Sequence[str]], *, repositories: Sequence[str], platform_repository: str
) -> list[tuple[str, Any, str]]:
    """The rules of `ci.imagePublishers` that need other keys, as (key path, value, allowed):
    - each repository is one of `artifacts.repositories` (a publisher role for no repository would push nowhere);
    - subjects of the platform repository use its customised form (the documented form never matches its tokens, so
      such a trust would be dead), and only the platform repository's subjects use it (other repositories present
      the documented form unless they customise theirs, which the platform does not know)."""
    found: list[tuple[str, Any, str]] = []
    for repository, subjects in publishers.items():
        if repository not in repositories:
            allowed = "a repository of artifacts.repositories: " + ", ".join(repositories)
            found.append((f"ci.imagePublishers.{repository}", repository, allowed))
        for index, subject in enumerate(subjects):
            parsed = parse_subject(subject)
            own = re.sub(r"@\d+", "", parsed.repository)  # the immutable spelling names the same repository
            path = f"ci.imagePublishers.{repository}[{index}]"
            if own == platform_repository and not parsed.customised:
                allowed = (
                    f"the customised form for the platform repository {platform_repository}, whose OIDC subject "
                    f"carries the workflow: {CUSTOMISED_PUBLISHER_SYNTAX}"
                )
                found.append((path, subject, allowed))
            elif own != platform_repository and parsed.customised:
                allowed = (
                    f"{_PUBLISH_FROM}: only the platform repository ({platform_repository}) customises its subject "
                    "with job_workflow_ref"
                )
                found.append((path, subject, allowed))
    return found
