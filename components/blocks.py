"""Building blocks the components share, so each invariant lives in one place.

- `customer_key()`: a customer-managed KMS key (rotation on, 30-day deletion window, Pulumi `protect` where the stack
  protects stateful resources) and, optionally, its alias;
- `pod_identity_role()`: an IAM role for one Kubernetes service account through EKS Pod Identity (trust limited to
  that cluster, namespace and service account), its inline policy, managed policies and the association;
- `pinned_release()`: a Helm release pinned to a chart version from a repository, atomic, cleaned up on failure and
  with a bounded history.

Each creates its resources as children of the calling component (`opts.parent`), under the logical names given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from core import iam
from core.context import StackContext

KEY_DELETION_WINDOW_DAYS = 30
HELM_MAX_HISTORY = 10


def customer_key(
    logical: str,
    *,
    ctx: StackContext,
    description: str,
    policy: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    alias: str | None = None,
) -> aws.kms.Key:
    """A rotating customer key with `policy` (see `iam.kms_key_policy`), protected like every stateful resource, and
    its alias (a full `alias/...` name, usually from `ctx.namer.alias`) when given."""
    key = aws.kms.Key(
        logical,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy,
        tags=dict(tags),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=ctx.protect)),
    )
    if alias is not None:
        aws.kms.Alias(
            logical,
            name=alias,
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=opts.parent, provider=opts.provider),
        )
    return key


@dataclass
class PodRole:
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation
    ready: list[pulumi.Resource]
    """What the service account's pods must wait for: the association and every policy."""


def pod_identity_role(
    logical: str,
    *,
    ctx: StackContext,
    cluster: str,
    namespace: str,
    service_account: str,
    description: str,
    policy: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    role_name: str | None = None,
    policy_name: str | None = None,
    managed_policies: Sequence[str] = (),
    cluster_resources: Sequence[pulumi.Resource] = (),
) -> PodRole:
    """Role `role_name` (default `<prefix>-<stack>-<logical>`) that only `namespace/service_account` of `cluster` in
    this account can assume through EKS Pod Identity, with an inline `policy` and AWS managed policies.

    The cluster is named by a plain string, so the association waits for `cluster_resources` (the cluster component)
    explicitly: otherwise a first `pulumi up` creates it while the cluster is still being created, and it fails."""
    role = aws.iam.Role(
        logical,
        name=role_name or ctx.namer.physical(logical, service="iam-role"),
        description=description,
        assume_role_policy=iam.pod_identity_trust(
            ctx, cluster=cluster, namespace=namespace, service_account=service_account
        ),
        tags=dict(tags),
        opts=opts,
    )
    inline = aws.iam.RolePolicy(logical, name=policy_name or logical, role=role.id, policy=policy, opts=opts)
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{logical}-{managed}", role=role.name, policy_arn=ctx.managed_policy(managed), opts=opts
        )
        for managed in managed_policies
    ]
    association = aws.eks.PodIdentityAssociation(
        logical,
        cluster_name=cluster,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=dict(tags),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(cluster_resources))),
    )
    return PodRole(role=role, association=association, ready=[association, inline, *attachments])


def pinned_release(
    logical: str,
    *,
    chart: str,
    version: str,
    repository: str,
    namespace: str,
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    name: str | None = None,
    **extra: Any,
) -> k8s.helm.v3.Release:
    """Release `name` (default: `logical`) of `chart` at exactly `version` from `repository`. `atomic` rolls a failed
    upgrade back, `cleanup_on_fail` removes what a failed install created; `extra` passes e.g. `timeout`."""
    return k8s.helm.v3.Release(
        logical,
        name=name or logical,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository),
        namespace=namespace,
        atomic=True,
        cleanup_on_fail=True,
        max_history=HELM_MAX_HISTORY,
        values=dict(values),
        opts=opts,
        **extra,
    )
