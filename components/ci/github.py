"""GitHub Actions' way into AWS, as plain documents: OIDC subjects, the trust policy and an image push grant.

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

The platform repository customises its subject (`SUBJECT_CLAIM_KEYS`, GitHub's "Customizing the subject claims for an
organization or repository"): a documented form followed by `:job_workflow_ref:<owner>/<repo>/<workflow>@<ref>`, so a
trust can name the reviewed workflow and the ref it ran from (`deploy_subject`, `preview_subject_pattern`).
`parse_subject` splits a subject into the two parts; `valid_subject` accepts both forms.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from core.iam import document, statement, trust_statement

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"

SUBJECT_CLAIM_KEYS = ("repo", "context", "job_workflow_ref")
"""The platform repository's customised OIDC subject (GitHub's "Customizing the subject claims for an organization or
repository"): `repo:<owner>/<repo>:<context>:job_workflow_ref:<owner>/<repo>/<workflow>@<ref>`, so a trust names the
reviewed workflow and the ref it ran from, not only the environment. Set on the repository by components/github."""
DEPLOY_WORKFLOW = ".github/workflows/pulumi.yml"
"""The reusable workflow every deploy and preview job runs in (called from .github/workflows/platform.yml)."""


def deploy_subject(repo: str, stack: str) -> str:
    """The `sub` of a deploy job of `stack`: environment `<stack>`, the deploy workflow as it is on `main`."""
    return f"repo:{repo}:environment:{stack}:job_workflow_ref:{repo}/{DEPLOY_WORKFLOW}@refs/heads/main"


def preview_subject_pattern(repo: str, stack: str) -> str:
    """The `sub` pattern (StringLike) of a preview job of `stack`: environment `<stack>-preview`, the deploy workflow
    as it is in a pull request's merge ref (`refs/pull/<n>/merge`)."""
    return f"repo:{repo}:environment:{stack}-preview:job_workflow_ref:{repo}/{DEPLOY_WORKFLOW}@refs/pull/*/merge"


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


_WORKFLOW_REF = re.compile(
    rf"^(?P<base>.+):job_workflow_ref:(?P<repo>{_REPOSITORY})/(?P<path>\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml)"
    r"@(?P<ref>refs/heads/[A-Za-z0-9_./-]+|refs/tags/[A-Za-z0-9_./-]+|refs/pull/(?:\d+|\*)/merge)$"
)
"""The customised form (SUBJECT_CLAIM_KEYS): a documented form followed by `:job_workflow_ref:<owner>/<repo>/<workflow
file>@<ref>`. The only wildcard allowed in the workflow's ref is a pull request's number (`refs/pull/*/merge`, what a
preview trust matches); never in the workflow's repository or path."""


@dataclass(frozen=True)
class Subject:
    """A subject split into its documented part and, in the customised form, the workflow it names."""

    base: str
    """The documented form (`repo:<owner>/<repo>:<context>`)."""
    kind: SubjectKind | None
    workflow_repository: str | None = None
    workflow_path: str | None = None
    workflow_ref: str | None = None

    @property
    def repository(self) -> str:
        return self.base.split(":")[1] if self.base.count(":") >= 2 else ""

    @property
    def customised(self) -> bool:
        return self.workflow_path is not None


def parse_subject(subject: str) -> Subject:
    """`subject` split into its documented form and, when customised, the workflow part (see `_WORKFLOW_REF`)."""
    customised = _WORKFLOW_REF.match(subject)
    base = customised["base"] if customised else subject
    kind: SubjectKind | None = next((k for k in SUBJECT_KINDS if SUBJECT_FORMS[k].match(base)), None)
    if customised is None:
        return Subject(base=base, kind=kind)
    return Subject(
        base=base,
        kind=kind,
        workflow_repository=customised["repo"],
        workflow_path=customised["path"],
        workflow_ref=customised["ref"],
    )


def subject_kind(subject: str) -> SubjectKind | None:
    """Which documented form `subject` has (in the customised form: its documented part), or None."""
    return parse_subject(subject).kind


def valid_subject(subject: str, kinds: Collection[SubjectKind] = SUBJECT_KINDS) -> str | None:
    """Why a GitHub OIDC `sub` pattern is not acceptable as one of `kinds`, or None. Wildcards are refused outside
    tag patterns and a pull request's number in a customised subject's workflow ref, so a trust can never cover a
    whole organisation, every repository or every workflow. Both the documented and the customised form are accepted
    here; which one a trust may use is its caller's rule (the platform repository's subjects are customised)."""
    parsed = parse_subject(subject)
    repo = parsed.repository
    if any(c in repo or c in (parsed.workflow_repository or "") for c in "*?"):
        return "a subject naming one repository (no wildcard owner or repository)"
    if parsed.kind not in kinds:
        return " | ".join(SUBJECT_SYNTAX[kind] for kind in SUBJECT_KINDS if kind in kinds)
    if parsed.customised and parsed.workflow_repository != repo:
        return f"a job_workflow_ref in the subject's own repository ({repo}/.github/workflows/<file>@<ref>)"
    if parsed.customised and "*" in (parsed.workflow_ref or "") and parsed.kind != "environment":
        return "a pull request's merge ref pattern only in an environment subject (a preview job)"
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


def ecr_push_policy(repository_arn: str) -> str:
    """Push to one repository only, plus the token call ECR requires (`ecr:GetAuthorizationToken` acts on no
    repository, so it is granted on `*`)."""
    return document(
        [
            statement("GetAuthorizationToken", "ecr:GetAuthorizationToken"),
            statement(
                "PushToItsRepository",
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
                repository_arn,
            ),
        ]
    )
