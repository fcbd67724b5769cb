"""People and CI access as plain documents: Identity Center permission sets and GitHub OIDC trust (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.iam import Statement, document, statement, trust_statement

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
_SUBJECT = re.compile(
    r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:"
    r"(ref:refs/heads/[A-Za-z0-9_./-]+|ref:refs/tags/[A-Za-z0-9_.*/-]+|environment:[A-Za-z0-9_.-]+|pull_request)$"
)

# Services a developer may change in sandbox. IAM, Organizations and account settings are deliberately absent.
SANDBOX_WRITE_SERVICES = (
    "cloudwatch", "dynamodb", "ec2", "ecr", "eks", "elasticloadbalancing", "events", "lambda", "logs", "rds", "s3",
    "secretsmanager", "sns", "sqs", "ssm", "xray",
)  # fmt: skip
EKS_READ_ACTIONS = ("eks:AccessKubernetesApi", "eks:DescribeCluster", "eks:ListClusters")


@dataclass(frozen=True)
class PermissionSet:
    name: str
    description: str
    session_duration: str
    managed_policies: tuple[str, ...]
    """AWS managed policy names (arn:<partition>:iam::aws:policy/<name>)."""
    inline: list[Statement] = field(default_factory=list)

    def inline_document(self) -> str | None:
        return document(self.inline) if self.inline else None


def permission_sets(sandbox_account_id: str) -> list[PermissionSet]:
    """The five permission sets people assume (short sessions for the powerful ones)."""
    return [
        PermissionSet("PlatformAdmin", "Platform administrators: full access, short sessions", "PT1H",
                      ("AdministratorAccess",)),
        PermissionSet("PlatformEngineer", "Platform engineers: power user, no IAM or Organizations administration",
                      "PT4H", ("PowerUserAccess",)),
        PermissionSet(
            "Developer",
            "Developers: read everywhere plus EKS describe; write only in the sandbox account",
            "PT8H",
            ("ReadOnlyAccess",),
            [
                statement("DescribeClusters", list(EKS_READ_ACTIONS)),
                statement(
                    "WriteInSandboxOnly",
                    [f"{service}:*" for service in SANDBOX_WRITE_SERVICES],
                    condition={"StringEquals": {"aws:PrincipalAccount": sandbox_account_id}},
                ),
            ],
        ),
        PermissionSet("ReadOnly", "Auditors and observers: read only", "PT8H", ("ReadOnlyAccess",)),
        PermissionSet("BreakGlass", "Emergency access: full access, one-hour sessions, alerting group only", "PT1H",
                      ("AdministratorAccess",)),
    ]  # fmt: skip


def valid_subject(subject: str) -> str | None:
    """Why a GitHub OIDC `sub` pattern is not acceptable, or None. Wildcards are refused outside tag patterns, so
    a trust can never cover a whole organisation or every repository."""
    repo = subject.split(":")[1] if subject.count(":") >= 2 else ""
    if "*" in repo or "?" in repo:
        return "a subject naming one repository (no wildcard owner or repository)"
    if _SUBJECT.match(subject) is None:
        return "repo:<owner>/<repo>:ref:refs/heads/<branch> | ref:refs/tags/<pattern> | environment:<name>"
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


def ecr_pull_from_accounts(partition: str, account_ids: Sequence[str]) -> str:
    """Repository policy: the environment accounts may pull (their node roles need ecr:BatchGetImage etc.)."""
    return document(
        [
            statement(
                "PullFromEnvironmentAccounts",
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                None,
                principal={"AWS": sorted(f"arn:{partition}:iam::{a}:root" for a in account_ids)},
            )
        ]
    )
