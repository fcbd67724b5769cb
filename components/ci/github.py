"""GitHub Actions' way into AWS, as plain documents: OIDC subjects, the trust policy and the image push grant.

Subject (`sub`) forms, as GitHub documents them ("OpenID Connect reference", section "Example subject claims", the page
formerly titled "About security hardening with OpenID Connect":
https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims):

- environment: `repo:ORG-NAME/REPO-NAME:environment:ENVIRONMENT-NAME`, "when the job references an environment";
- pull_request: `repo:ORG-NAME/REPO-NAME:pull_request`, "when the workflow is triggered by a pull request event, but
  only if the job doesn't reference an environment";
- branch: `repo:ORG-NAME/REPO-NAME:ref:refs/heads/BRANCH-NAME`, "only if the job doesn't reference an environment, and
  if the workflow is not triggered by a pull request event";
- tag: `repo:ORG-NAME/REPO-NAME:ref:refs/tags/TAG-NAME`, under the same conditions as a branch.

The same page ("Immutable subject claims") documents the owner and repository ids that repositories created after
2026-07-15, or opted in, carry in the subject: `repo:OWNER@OWNER-ID/REPO@REPO-ID:ref:refs/heads/BRANCH`. Both
spellings are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any, Literal

from core.iam import document, statement, trust_statement

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"

SubjectKind = Literal["branch", "tag", "environment", "pull_request"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("branch", "tag", "environment", "pull_request")

_REPOSITORY = r"[A-Za-z0-9_.-]+(?:@\d+)?/[A-Za-z0-9_.-]+(?:@\d+)?"
"""owner/repo, each optionally with its immutable numeric id (owner@123/repo@456)."""

SUBJECT_FORMS: dict[SubjectKind, re.Pattern[str]] = {
    "branch": re.compile(rf"^repo:{_REPOSITORY}:ref:refs/heads/[A-Za-z0-9_./-]+$"),
    "tag": re.compile(rf"^repo:{_REPOSITORY}:ref:refs/tags/[A-Za-z0-9_.*/-]+$"),
    "environment": re.compile(rf"^repo:{_REPOSITORY}:environment:[A-Za-z0-9_.-]+$"),
    "pull_request": re.compile(rf"^repo:{_REPOSITORY}:pull_request$"),
}
"""The documented subject forms. A wildcard is allowed only in a tag pattern (`v*`): never in the owner, the
repository or a branch, so a trust can never cover a whole organisation, every repository or every branch."""

SUBJECT_SYNTAX: dict[SubjectKind, str] = {
    "branch": "repo:<owner>/<repo>:ref:refs/heads/<branch>",
    "tag": "repo:<owner>/<repo>:ref:refs/tags/<pattern>",
    "environment": "repo:<owner>/<repo>:environment:<name>",
    "pull_request": "repo:<owner>/<repo>:pull_request",
}


def subject_kind(subject: str) -> SubjectKind | None:
    """Which documented form `subject` has, or None."""
    return next((kind for kind in SUBJECT_KINDS if SUBJECT_FORMS[kind].match(subject)), None)


def valid_subject(subject: str, kinds: Collection[SubjectKind] = SUBJECT_KINDS) -> str | None:
    """Why a GitHub OIDC `sub` pattern is not acceptable as one of `kinds`, or None. Wildcards are refused outside
    tag patterns, so a trust can never cover a whole organisation or every repository."""
    repo = subject.split(":")[1] if subject.count(":") >= 2 else ""
    if "*" in repo or "?" in repo:
        return "a subject naming one repository (no wildcard owner or repository)"
    if subject_kind(subject) not in kinds:
        return " | ".join(SUBJECT_SYNTAX[kind] for kind in SUBJECT_KINDS if kind in kinds)
    return None


def github_trust(provider_arn: str, subjects: Sequence[str]) -> str:
    """Trust for GitHub Actions through OIDC: the audience pinned, the subject limited to the given patterns."""
    problems = [s for s in subjects if valid_subject(s) is not None]
    if problems or not subjects:
        raise ValueError(f"refusing GitHub OIDC subjects {problems or list(subjects)}")
    operator = "StringLike" if any("*" in s for s in subjects) else "StringEquals"
    condition: dict[str, Any] = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": GITHUB_AUDIENCE}}
    ordered = sorted(subjects)
    condition.setdefault(operator, {})[f"{GITHUB_OIDC_HOST}:sub"] = ordered[0] if len(ordered) == 1 else ordered
    return document(
        [
            trust_statement(
                "GitHubActions",
                "sts:AssumeRoleWithWebIdentity",
                principal={"Federated": provider_arn},
                condition=condition,
            )
        ]
    )


def ecr_push_policy(repository_arns: Sequence[str]) -> str:
    """Push to the given repositories only (and the account-wide token call ECR requires)."""
    return document(
        [
            statement("GetAuthorizationToken", "ecr:GetAuthorizationToken"),
            statement(
                "PushToPlatformRepositories",
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                list(repository_arns),
            ),
        ]
    )
