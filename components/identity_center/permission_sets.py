"""The permission sets people assume through IAM Identity Center, as plain documents (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.iam import Statement, document, statement

# Services a developer may change in a sandbox account. IAM, Organizations and account settings are deliberately
# absent.
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


def permission_sets(sandbox_account_ids: Sequence[str]) -> list[PermissionSet]:
    """The five permission sets people assume (short sessions for the powerful ones). Developers write only in
    `sandbox_account_ids`, the accounts of the environments whose profile says `sandbox: true` (none: nowhere)."""
    ids = sorted(set(sandbox_account_ids))
    where = "the sandbox account" if len(ids) == 1 else "sandbox accounts"
    developer: list[Statement] = [statement("DescribeClusters", list(EKS_READ_ACTIONS))]
    if ids:
        developer.append(
            statement(
                "WriteInSandboxOnly",
                [f"{service}:*" for service in SANDBOX_WRITE_SERVICES],
                condition={"StringEquals": {"aws:PrincipalAccount": ids[0] if len(ids) == 1 else ids}},
            )
        )
    return [
        PermissionSet("PlatformAdmin", "Platform administrators: full access, short sessions", "PT1H",
                      ("AdministratorAccess",)),
        PermissionSet("PlatformEngineer", "Platform engineers: power user, no IAM or Organizations administration",
                      "PT4H", ("PowerUserAccess",)),
        PermissionSet("Developer", f"Developers: read everywhere plus EKS describe; write only in {where}", "PT8H",
                      ("ReadOnlyAccess",), developer),
        PermissionSet("ReadOnly", "Auditors and observers: read only", "PT8H", ("ReadOnlyAccess",)),
        PermissionSet("BreakGlass", "Emergency access: full access, one-hour sessions, alerting group only", "PT1H",
                      ("AdministratorAccess",)),
    ]  # fmt: skip
