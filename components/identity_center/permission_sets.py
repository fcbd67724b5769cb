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

EKS_ACCESS_ACTIONS = (
    "eks:AssociateAccessPolicy", "eks:CreateAccessEntry", "eks:UpdateAccessEntry", "eks:*PodIdentityAssociation",
)  # fmt: skip
"""Who is who inside a cluster: an access entry or access policy makes any IAM principal a cluster admin, a Pod
Identity association hands any role of the account to any service account. The stacks own them."""
SANDBOX_WORKLOAD_ROLE_PATH = "/sandbox-workloads/"
"""The only roles a developer may hand to a service (iam:PassRole): roles the platform creates for sandbox workloads
under this path. Developers create no roles (no IAM write)."""
MANAGED_BY_TAG = "ManagedBy"
"""The tag every resource a platform stack creates carries (core/tags.py `common_tags`): a function with it belongs
to a stack, not to a developer."""
LAMBDA_TAKEOVER_ACTIONS = ("lambda:DeleteFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration")
"""Replacing a function's code, handler, layers or environment runs the developer's code with the function's role."""


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


def escalation_denies(partition: str, production_account_ids: Sequence[str]) -> list[Statement]:
    """What PlatformEngineer (PowerUser) and Developer may never do, whatever their managed policy allows: become
    someone else inside a cluster, read a database's master credentials (RDS-managed secrets are named `rds!...`), or
    open a shell on an instance of a production account (the accounts whose profile says `production: true`)."""
    denies = [
        statement("DenyEksAccessChanges", list(EKS_ACCESS_ACTIONS), "*", effect="Deny"),
        statement(
            "DenyDatabaseMasterSecrets",
            "secretsmanager:GetSecretValue",
            f"arn:{partition}:secretsmanager:*:*:secret:rds!*",
            effect="Deny",
        ),
    ]
    ids = sorted(set(production_account_ids))
    if ids:
        denies.append(
            statement(
                "DenySessionsOnProductionInstances",
                "ssm:StartSession",
                [f"arn:{partition}:ec2:*:*:instance/*", f"arn:{partition}:ssm:*:*:managed-instance/*"],
                effect="Deny",
                condition={"StringEquals": {"aws:ResourceAccount": ids[0] if len(ids) == 1 else ids}},
            )
        )
    return denies


def lambda_escalation_denies(partition: str) -> list[Statement]:
    """Close the developer's sandbox grant (lambda:*) to privilege escalation through Lambda.

    A function runs with its execution role, so a developer escalates by (a) creating a function, or re-configuring
    one, with a role more powerful than their own, or (b) replacing the code of a function someone else gave such a
    role. (a) needs iam:PassRole on that role: denied for every role outside `/sandbox-workloads/`, whatever any
    Allow (today's or a future one) says, and developers cannot create roles. "Functions the developer did not
    create" is not expressible in IAM, so (b) is closed for what the platform's stacks manage: every such function
    carries the `ManagedBy` tag, and its code and configuration are denied (and so is removing the tag). What is
    left: a function someone creates by hand in the sandbox account, untagged, with a role of its own."""
    return [
        {
            "Sid": "DenyPassingRolesOutsideSandboxWorkloads",
            "Effect": "Deny",
            "Action": "iam:PassRole",
            "NotResource": f"arn:{partition}:iam::*:role{SANDBOX_WORKLOAD_ROLE_PATH}*",
        },
        statement(
            "DenyChangingManagedFunctions",
            list(LAMBDA_TAKEOVER_ACTIONS),
            f"arn:{partition}:lambda:*:*:function:*",
            effect="Deny",
            condition={"Null": {f"aws:ResourceTag/{MANAGED_BY_TAG}": "false"}},
        ),
        statement(
            "DenyUntaggingManagedFunctions",
            "lambda:UntagResource",
            f"arn:{partition}:lambda:*:*:function:*",
            effect="Deny",
            condition={"ForAnyValue:StringEquals": {"aws:TagKeys": [MANAGED_BY_TAG]}},
        ),
    ]


def permission_sets(
    sandbox_account_ids: Sequence[str], production_account_ids: Sequence[str] = (), *, partition: str = "aws"
) -> list[PermissionSet]:
    """The five permission sets people assume (short sessions for the powerful ones). Developers write only in
    `sandbox_account_ids`, the accounts of the environments whose profile says `sandbox: true` (none: nowhere).
    PlatformEngineer and Developer carry explicit denies against self-escalation (`escalation_denies`, with the
    accounts whose profile says `production: true`); the Developer's sandbox grant is closed to Lambda escalation
    (`lambda_escalation_denies`). `partition`: of the organisation's region (the component passes the stack's)."""
    ids = sorted(set(sandbox_account_ids))
    where = "the sandbox account" if len(ids) == 1 else "sandbox accounts"
    denies = escalation_denies(partition, production_account_ids)
    developer: list[Statement] = [statement("DescribeClusters", list(EKS_READ_ACTIONS))]
    if ids:
        developer.append(
            statement(
                "WriteInSandboxOnly",
                [f"{service}:*" for service in SANDBOX_WRITE_SERVICES],
                condition={"StringEquals": {"aws:PrincipalAccount": ids[0] if len(ids) == 1 else ids}},
            )
        )
    developer += [*denies, *lambda_escalation_denies(partition)]
    return [
        PermissionSet("PlatformAdmin", "Platform administrators: full access, short sessions", "PT1H",
                      ("AdministratorAccess",)),
        PermissionSet("PlatformEngineer", "Platform engineers: power user, no IAM or Organizations administration",
                      "PT4H", ("PowerUserAccess",), list(denies)),
        PermissionSet("Developer", f"Developers: read everywhere plus EKS describe; write only in {where}", "PT8H",
                      ("ReadOnlyAccess",), developer),
        PermissionSet("ReadOnly", "Auditors and observers: read only", "PT8H", ("ReadOnlyAccess",)),
        PermissionSet("BreakGlass", "Emergency access: full access, one-hour sessions, alerting group only", "PT1H",
                      ("AdministratorAccess",)),
    ]  # fmt: skip
