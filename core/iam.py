"""IAM and KMS policy documents as plain, deterministic JSON (pure functions, no Pulumi)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: core.karpenter builds documents without a stack context
    from core.context import StackContext

Statement = dict[str, Any]


def document(statements: Sequence[Statement]) -> str:
    """A policy document, serialised with stable key order so plans do not show spurious diffs."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def statement(
    sid: str,
    actions: Sequence[str] | str,
    resources: Sequence[str] | str | None = "*",
    *,
    effect: str = "Allow",
    principal: Mapping[str, Any] | None = None,
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    """A statement of an identity policy (no principal) or a resource policy (with one). Trust policies use
    `trust_statement`: IAM refuses a Resource element in them."""
    st: Statement = {"Sid": sid, "Effect": effect, "Action": _one_or_list(actions)}
    if resources is not None:  # resource policies of some services (ECR) take no Resource element
        st["Resource"] = _one_or_list(resources)
    if principal is not None:
        st["Principal"] = dict(principal)
    if condition:
        st["Condition"] = dict(condition)
    return st


def trust_statement(
    sid: str, actions: Sequence[str] | str, *, principal: Mapping[str, Any], condition: Mapping[str, Any] | None = None
) -> Statement:
    """A statement of a role's trust policy: a principal and no Resource element (`CreateRole` refuses one with
    "MalformedPolicyDocument: Has prohibited field Resource")."""
    return statement(sid, actions, None, principal=principal, condition=condition)


def _one_or_list(value: Sequence[str] | str) -> str | list[str]:
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else sorted(value)


def service_trust(
    ctx: StackContext,
    service: str,
    *,
    source_arn: str | None = None,
    source_account: bool = True,
    actions: Sequence[str] = ("sts:AssumeRole",),
) -> str:
    """Trust policy letting an AWS service assume a role. Where the service sends aws:SourceAccount (log delivery,
    flow logs), the trust is limited to this account (confused-deputy guard); EC2 and EKS do not send it."""
    condition: dict[str, Any] = {}
    if source_account:
        condition["StringEquals"] = {"aws:SourceAccount": ctx.account_id}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return document(
        [
            trust_statement(
                "ServiceAssumeRole",
                list(actions),
                principal={"Service": ctx.service_principal(service)},
                condition=condition or None,
            )
        ]
    )


def pod_identity_trust(ctx: StackContext, *, cluster: str, namespace: str, service_account: str) -> str:
    """Trust for an EKS Pod Identity role, limited by the session tags Pod Identity sets to one service account of
    one namespace of one cluster in this account."""
    return document(
        [
            trust_statement(
                "EksPodIdentity",
                ["sts:AssumeRole", "sts:TagSession"],
                principal={"Service": ctx.service_principal("pods.eks")},
                condition={
                    "StringEquals": {
                        "aws:SourceAccount": ctx.account_id,
                        "aws:RequestTag/eks-cluster-name": cluster,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            )
        ]
    )


def kms_key_policy(ctx: StackContext, service_statements: Sequence[Statement] = ()) -> str:
    """A key policy: the account administers the key through IAM, plus any service grants the caller adds."""
    admin = statement("AccountAdministersKeyThroughIam", "kms:*", principal={"AWS": ctx.account_root})
    return document([admin, *service_statements])


def logs_key_statement(ctx: StackContext, log_group_pattern: str) -> Statement:
    """Let CloudWatch Logs use a key, only for log groups of this account matching `log_group_pattern`.

    The CloudWatch Logs guide's example also lists `kms:Describe*`, but no Describe action carries the encryption
    context this statement is conditioned on, so that part could never match; it is left out."""
    return statement(
        "CloudWatchLogsUsesKey",
        ["kms:Decrypt*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        principal={"Service": f"logs.{ctx.region}.{ctx.dns_suffix}"},
        condition={
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": ctx.arn("logs", f"log-group:{log_group_pattern}")}
        },
    )


def ebs_key_statements(ctx: StackContext) -> list[Statement]:
    """Let EC2 use a key for EBS volumes on behalf of any principal of this account (as the aws/ebs key does), so
    node groups, Karpenter and the Spot service can launch encrypted volumes without naming each service role."""
    via_ec2 = {"kms:CallerAccount": ctx.account_id, "kms:ViaService": f"ec2.{ctx.region}.{ctx.dns_suffix}"}
    return [
        statement(
            "EbsThroughEc2",
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            principal={"AWS": "*"},
            condition={"StringEquals": via_ec2},
        ),
        statement(
            "EbsGrantsThroughEc2",
            "kms:CreateGrant",
            principal={"AWS": "*"},
            condition={"StringEquals": via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


def kms_use_for_aws_resources(key_arn: str) -> list[Statement]:
    """What a controller that creates encrypted AWS resources (the EBS CSI driver) needs on a customer key."""
    return [
        statement(
            "UseKey",
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            key_arn,
        ),
        statement(
            "GrantForAwsResources",
            ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            key_arn,
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


def via_services_statement(ctx: StackContext, services: Sequence[str]) -> Statement:
    """Let AWS services (rds, secretsmanager, ...) use a key on behalf of principals of this account, as AWS managed
    keys do; IAM policies then decide who may ask the service."""
    return statement(
        "UseThroughAwsServices",
        [
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey*",
            "kms:ListGrants",
            "kms:ReEncrypt*",
        ],
        principal={"AWS": "*"},
        condition={
            "StringEquals": {
                "kms:CallerAccount": ctx.account_id,
                "kms:ViaService": sorted(f"{s}.{ctx.region}.{ctx.dns_suffix}" for s in services),
            }
        },
    )


# --- who may touch a resource: named roles and break-glass (resource policies) ---------------------------------------


def break_glass_arn_pattern(partition: str, permission_set: str) -> str:
    """aws:PrincipalArn of the break-glass role in any account, matched with ArnLike/ArnNotLike: the role IAM Identity
    Center creates for the break-glass permission set (Pulumi.yaml `breakGlassRoleName`, e.g. `BreakGlass`), at
    `aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<set>_<id>`."""
    return f"arn:{partition}:iam::*:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_{permission_set}_*"


def account_of_arn(arn: str) -> str:
    """The account field of an ARN (`arn:<partition>:<service>:<region>:<account>:...`)."""
    return arn.split(":")[4]


def partition_of_arn(arn: str) -> str:
    return arn.split(":")[1]


def roles_statement(
    sid: str,
    actions: Sequence[str] | str,
    resources: Sequence[str] | str | None,
    role_arns: Sequence[str],
    *,
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    """A resource-policy Allow for exactly the roles `role_arns`: the principal is each role's account and the role is
    pinned with `ArnEquals aws:PrincipalArn`. Unlike a role ARN in `Principal`, this is accepted before the role
    exists (KMS and S3 refuse a policy naming a role that does not exist yet) and keeps matching a role that is
    deleted and created again (a Principal would silently turn into the old role's unique id)."""
    if not role_arns:
        raise ValueError(f"{sid}: no role to allow")
    roots = sorted({f"arn:{partition_of_arn(a)}:iam::{account_of_arn(a)}:root" for a in role_arns})
    arns = sorted(set(role_arns))
    full: dict[str, Any] = {"ArnEquals": {"aws:PrincipalArn": arns[0] if len(arns) == 1 else arns}}
    full.update(condition or {})
    return statement(sid, actions, resources, principal={"AWS": roots[0] if len(roots) == 1 else roots}, condition=full)


def deny_others_statement(
    sid: str, actions: Sequence[str] | str, resources: Sequence[str] | str | None, allowed: Sequence[str]
) -> Statement:
    """A resource-policy Deny of `actions` to every principal whose aws:PrincipalArn matches none of `allowed` (role
    ARNs or ArnLike patterns such as `break_glass_arn_pattern`). An explicit Deny wins over any Allow, including the
    IAM policies of the resource's own account that a key policy's account statement or a bucket's same-account
    access would otherwise honour."""
    if not allowed:
        raise ValueError(f"{sid}: a Deny that exempts nobody")
    return statement(
        sid,
        actions,
        resources,
        effect="Deny",
        principal={"AWS": "*"},
        condition={"ArnNotLike": {"aws:PrincipalArn": sorted(set(allowed))}},
    )
