"""IAM and KMS policy documents as plain, deterministic JSON (pure functions, no Pulumi)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from core.context import StackContext

Statement = dict[str, Any]


def document(statements: Sequence[Statement]) -> str:
    """A policy document, serialised with stable key order so plans do not show spurious diffs."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def statement(
    sid: str,
    actions: Sequence[str] | str,
    resources: Sequence[str] | str = "*",
    *,
    effect: str = "Allow",
    principal: Mapping[str, Any] | None = None,
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    st: Statement = {"Sid": sid, "Effect": effect, "Action": _one_or_list(actions), "Resource": _one_or_list(resources)}
    if principal is not None:
        st["Principal"] = dict(principal)
    if condition:
        st["Condition"] = dict(condition)
    return st


def _one_or_list(value: Sequence[str] | str) -> str | list[str]:
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else sorted(value)


def service_trust(ctx: StackContext, service: str, *, source_arn: str | None = None) -> str:
    """Trust policy letting an AWS service assume a role, only on behalf of this account (confused-deputy guard)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return document(
        [
            statement(
                "ServiceAssumeRole",
                "sts:AssumeRole",
                principal={"Service": ctx.service_principal(service)},
                condition=condition,
            )
        ]
    )


def kms_key_policy(ctx: StackContext, service_statements: Sequence[Statement] = ()) -> str:
    """A key policy: the account administers the key through IAM, plus any service grants the caller adds."""
    admin = statement("AccountAdministersKeyThroughIam", "kms:*", principal={"AWS": ctx.account_root})
    return document([admin, *service_statements])


def logs_key_statement(ctx: StackContext, log_group_pattern: str) -> Statement:
    """Let CloudWatch Logs use a key, only for log groups of this account matching `log_group_pattern`."""
    return statement(
        "CloudWatchLogsUsesKey",
        ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        principal={"Service": f"logs.{ctx.region}.{ctx.dns_suffix}"},
        condition={
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": ctx.arn("logs", f"log-group:{log_group_pattern}")}
        },
    )
