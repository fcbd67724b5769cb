"""Building blocks the components share, so each invariant lives in one place.

- `customer_key()`: a customer-managed KMS key (rotation on, 30-day deletion window, Pulumi `protect` where the stack
  protects stateful resources) and, optionally, its alias;
- `pod_identity_role()`: an IAM role for one Kubernetes service account through EKS Pod Identity (trust limited to
  that cluster, namespace and service account), its inline policy, managed policies and the association;
- `pinned_release()`: a Helm release pinned to a chart version from a repository, atomic, cleaned up on failure and
  with a bounded history.

Each creates its resources as children of the calling component (`owner`), named and aliased through
`owner.child_name(key)` / `owner.child_opts(key)`. Physical names derive from the key, never from the logical name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from core import iam
from core.component import PlatformComponent
from core.context import StackContext

KEY_DELETION_WINDOW_DAYS = 30
HELM_MAX_HISTORY = 10


def customer_key(
    owner: PlatformComponent,
    key: str,
    *,
    ctx: StackContext,
    description: str,
    policy: str,
    tags: Mapping[str, str],
    alias: str | None = None,
    provider: pulumi.ProviderResource | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> aws.kms.Key:
    """A rotating customer key `key` of `owner` with `policy` (see `iam.kms_key_policy`), protected like every
    stateful resource, and its alias (a full `alias/...` name, usually from `ctx.namer.alias`) when given.

    KMS refuses a key policy naming a principal that does not exist yet: pass the roles it names as `depends_on`."""
    kms_key = aws.kms.Key(
        owner.child_name(key),
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy,
        tags=dict(tags),
        opts=owner.child_opts(key, provider=provider, protect=ctx.protect, depends_on=depends_on),
    )
    if alias is not None:
        aws.kms.Alias(
            owner.child_name(key),
            name=alias,
            target_key_id=kms_key.key_id,
            opts=owner.child_opts(key, provider=provider),
        )
    return kms_key


@dataclass
class PodRole:
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation
    ready: list[pulumi.Resource]
    """What the service account's pods must wait for: the association and every policy."""


def pod_identity_role(
    owner: PlatformComponent,
    key: str,
    *,
    ctx: StackContext,
    cluster: str,
    namespace: str,
    service_account: str,
    description: str,
    policy: pulumi.Input[str],
    tags: Mapping[str, str],
    role_name: str | None = None,
    policy_name: str | None = None,
    managed_policies: Sequence[str] = (),
    cluster_resources: Sequence[pulumi.Resource] = (),
) -> PodRole:
    """Role `role_name` (default `<prefix>-<stack>-<key>`) that only `namespace/service_account` of `cluster` in
    this account can assume through EKS Pod Identity, with an inline `policy` (named `policy_name`, default `key`) and
    AWS managed policies.

    The cluster is named by a plain string, so the association waits for `cluster_resources` (the cluster component)
    explicitly: otherwise a first `pulumi up` creates it while the cluster is still being created, and it fails."""
    role = aws.iam.Role(
        owner.child_name(key),
        name=role_name or ctx.namer.physical(key, service="iam-role"),
        description=description,
        assume_role_policy=iam.pod_identity_trust(
            ctx, cluster=cluster, namespace=namespace, service_account=service_account
        ),
        tags=dict(tags),
        opts=owner.child_opts(key),
    )
    inline = aws.iam.RolePolicy(
        owner.child_name(key), name=policy_name or key, role=role.id, policy=policy, opts=owner.child_opts(key)
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            owner.child_name(f"{key}-{managed}"),
            role=role.name,
            policy_arn=ctx.managed_policy(managed),
            opts=owner.child_opts(f"{key}-{managed}"),
        )
        for managed in managed_policies
    ]
    association = aws.eks.PodIdentityAssociation(
        owner.child_name(key),
        cluster_name=cluster,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=dict(tags),
        opts=owner.child_opts(key, depends_on=cluster_resources),
    )
    return PodRole(role=role, association=association, ready=[association, inline, *attachments])


def pinned_release(
    owner: PlatformComponent,
    key: str,
    *,
    chart: str,
    version: str,
    repository: str,
    namespace: str,
    values: Mapping[str, Any],
    provider: pulumi.ProviderResource,
    name: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
    **extra: Any,
) -> k8s.helm.v3.Release:
    """Release `name` (default: `key`) of `chart` at exactly `version` from `repository`. `atomic` rolls a failed
    upgrade back, `cleanup_on_fail` removes what a failed install created; `extra` passes e.g. `timeout`."""
    return k8s.helm.v3.Release(
        owner.child_name(key),
        name=name or key,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository),
        namespace=namespace,
        atomic=True,
        cleanup_on_fail=True,
        max_history=HELM_MAX_HISTORY,
        values=dict(values),
        opts=owner.child_opts(key, provider=provider, depends_on=depends_on),
        **extra,
    )
