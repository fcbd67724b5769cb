"""Building blocks the components share, so each invariant lives in one place.

- `customer_key()`: a customer-managed KMS key (rotation on, 30-day deletion window, Pulumi `protect` where the stack
  protects stateful resources) and, optionally, its alias: the only way the platform makes keys;
- `pod_identity_role()`: an IAM role for one Kubernetes service account through EKS Pod Identity (trust limited to
  that cluster, namespace and service account), its inline policies, managed policies and the association;
- `labelled_namespace()`: a Kubernetes namespace with its labels (Pod Security Admission among them), protected where
  the stack protects stateful resources (deleting a namespace deletes its volumes' claims and every object in it);
- `namespace_labels_patch()`: labels on a namespace the platform does not create (`default`, `kube-system`), applied
  as a server-side patch so nothing else of the namespace is replaced or claimed;
- `network_policies()`: NetworkPolicy manifests (`core.kubernetes.network_policy`) applied as
  `networking.k8s.io/v1` objects;
- `addon()`: a cluster add-on installed with Helm: its namespace and Pod Identity role when asked, and the pinned
  release (`pinned_release()`: exactly one chart version, atomic, cleaned up on failure, bounded history), which waits
  for the cluster's system nodes and add-ons (`cluster.ready`) and for its role.

Each creates its resources as children of the calling component (`owner`), named and aliased through
`owner.child_name(key)` / `owner.child_opts(key)`. Physical names derive from the key, never from the logical name.
The cluster comes as a handle (`core.handles.ClusterHandle`): policy documents and tags use its literal
`cluster_name`, API calls that need the cluster its `name` Output, Kubernetes objects its `provider`, so nothing is
created before the cluster it needs.
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
from core.handles import ClusterHandle

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
    cluster: ClusterHandle,
    namespace: str,
    service_account: str,
    description: str,
    tags: Mapping[str, str],
    policy: pulumi.Input[str] | None = None,
    policies: Mapping[str, pulumi.Input[str]] | None = None,
    role_name: str | None = None,
    policy_name: str | None = None,
    managed_policies: Sequence[str] = (),
) -> PodRole:
    """Role `role_name` (default `<prefix>-<stack>-<key>`) that only `namespace/service_account` of `cluster` in
    this account can assume through EKS Pod Identity, with an inline `policy` (named `policy_name`, default `key`)
    and/or inline `policies` (by name, each the child `<key>-<name>`), and AWS managed policies.

    The trust policy names the cluster by its literal name (a plain document the policy pack can read at preview); the
    association takes the cluster's `name` Output, so it is never created before the cluster."""
    if policy is None and not policies:
        raise ValueError(f"pod identity role {key}: give an inline policy")
    role = aws.iam.Role(
        owner.child_name(key),
        name=role_name or ctx.namer.physical(key, service="iam-role"),
        description=description,
        assume_role_policy=iam.pod_identity_trust(
            ctx, cluster=cluster.cluster_name, namespace=namespace, service_account=service_account
        ),
        tags=dict(tags),
        opts=owner.child_opts(key),
    )
    inline: list[pulumi.Resource] = []
    if policy is not None:
        inline.append(
            aws.iam.RolePolicy(
                owner.child_name(key), name=policy_name or key, role=role.id, policy=policy, opts=owner.child_opts(key)
            )
        )
    for name, document in (policies or {}).items():
        inline.append(
            aws.iam.RolePolicy(
                owner.child_name(f"{key}-{name}"),
                name=name,
                role=role.id,
                policy=document,
                opts=owner.child_opts(f"{key}-{name}"),
            )
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
        cluster_name=cluster.name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=dict(tags),
        opts=owner.child_opts(key),
    )
    return PodRole(role=role, association=association, ready=[association, *inline, *attachments])


def labelled_namespace(
    owner: PlatformComponent,
    name: str,
    *,
    cluster: ClusterHandle,
    labels: Mapping[str, str],
    protect: bool,
) -> k8s.core.v1.Namespace:
    """Namespace `name` (the child `name`) with `labels`: give it Pod Security Admission labels
    (`core.kubernetes.pod_security_labels`). `protect` (pass `ctx.protect`): Pulumi refuses to delete it, so a config
    edit cannot take a namespace and its volumes with it. It needs only the Kubernetes API, so it waits for nothing
    else. A namespace that already exists (created earlier by Helm) is adopted: the provider applies server-side."""
    return k8s.core.v1.Namespace(
        owner.child_name(name),
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=dict(labels)),
        opts=owner.child_opts(name, provider=cluster.provider, protect=protect),
    )


def namespace_labels_patch(
    owner: PlatformComponent, name: str, *, cluster: ClusterHandle, labels: Mapping[str, str]
) -> k8s.core.v1.NamespacePatch:
    """Labels on the existing namespace `name` (the child `<name>-labels`), as a server-side apply patch: only these
    labels are owned, nothing is replaced, and deleting the patch removes just them."""
    key = f"{name}-labels"
    return k8s.core.v1.NamespacePatch(
        owner.child_name(key),
        metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=name, labels=dict(labels)),
        opts=owner.child_opts(key, provider=cluster.provider),
    )


def network_policies(
    owner: PlatformComponent,
    manifests: Sequence[Mapping[str, Any]],
    *,
    cluster: ClusterHandle,
    depends_on: Sequence[pulumi.Resource] = (),
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Each NetworkPolicy manifest as the child `netpol-<namespace>-<name>`, after `depends_on` (its namespace)."""
    created = []
    for manifest in manifests:
        meta = manifest["metadata"]
        key = f"netpol-{meta['namespace']}-{meta['name']}"
        created.append(
            k8s.networking.v1.NetworkPolicy(
                owner.child_name(key),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=meta["name"], namespace=meta["namespace"], labels=dict(meta.get("labels") or {}) or None
                ),
                spec=manifest["spec"],
                opts=owner.child_opts(key, provider=cluster.provider, depends_on=depends_on),
            )
        )
    return created


def pinned_release(
    owner: PlatformComponent,
    key: str,
    *,
    chart: str,
    version: str,
    repository: str | None,
    namespace: str,
    values: Mapping[str, Any] | None,
    provider: pulumi.ProviderResource,
    name: str | None = None,
    atomic: bool = True,
    depends_on: Sequence[pulumi.Resource] = (),
    **extra: Any,
) -> k8s.helm.v3.Release:
    """Release `name` (default: `key`) of `chart` at exactly `version` from `repository` (None: `chart` is a full
    `oci://` reference). `atomic` rolls a failed upgrade back and `cleanup_on_fail` removes what a failed install
    created; `atomic=False` leaves both at Helm's defaults. `extra` passes e.g. `timeout`, `skip_crds`."""
    rollback: dict[str, Any] = {"atomic": True, "cleanup_on_fail": True} if atomic else {}
    return k8s.helm.v3.Release(
        owner.child_name(key),
        name=name or key,
        chart=chart,
        version=version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repository) if repository is not None else None,
        namespace=namespace,
        max_history=HELM_MAX_HISTORY,
        values=dict(values) if values is not None else None,
        opts=owner.child_opts(key, provider=provider, depends_on=depends_on),
        **rollback,
        **extra,
    )


@dataclass(frozen=True, kw_only=True)
class PodRoleSpec:
    """The Pod Identity role an add-on's service account assumes (see `pod_identity_role`)."""

    service_account: str
    description: str
    tags: Mapping[str, str]
    policy: pulumi.Input[str] | None = None
    policies: Mapping[str, pulumi.Input[str]] | None = None
    managed_policies: Sequence[str] = ()
    role_name: str | None = None
    policy_name: str | None = None
    key: str | None = None
    """The role's child key; default: the add-on's."""


@dataclass
class Addon:
    release: k8s.helm.v3.Release
    namespace: k8s.core.v1.Namespace | None
    """The namespace the add-on created, when it was asked to."""
    role: PodRole | None


def addon(
    owner: PlatformComponent,
    key: str,
    *,
    ctx: StackContext,
    cluster: ClusterHandle,
    namespace: str,
    chart: str,
    version: str,
    repository: str | None,
    values: Mapping[str, Any] | None,
    create_namespace: bool = False,
    namespace_labels: Mapping[str, str] | None = None,
    role: PodRoleSpec | PodRole | None = None,
    release_name: str | None = None,
    atomic: bool = True,
    depends_on: Sequence[pulumi.Resource] = (),
    **extra: Any,
) -> Addon:
    """Add-on `key` of `owner` in `cluster`: the Helm release `release_name` (default `key`) of `chart` pinned to
    `version`, in `namespace`.

    The namespace: with `namespace_labels`, the add-on creates it (`labelled_namespace()`, the child `<namespace>`)
    with those labels (Pod Security Admission), protected where the stack protects stateful resources; with
    `create_namespace`, Helm creates it unlabelled; otherwise it must exist. `role`: a `PodRoleSpec` creates the Pod
    Identity role of the service account in `namespace` (`pod_identity_role()`); a `PodRole` made beforehand (when
    something else must name the role first) is only waited for. The release waits for `cluster.ready` (pods need
    the system nodes and the add-ons that run before workloads), for the namespace, for the role's association and
    policies, and for `depends_on`."""
    if create_namespace and namespace_labels is not None:
        raise ValueError(f"add-on {key}: Helm creates the namespace, or the add-on does with labels, not both")
    ns = None
    if namespace_labels is not None:
        ns = labelled_namespace(owner, namespace, cluster=cluster, labels=namespace_labels, protect=ctx.protect)
    pod_role = None
    if isinstance(role, PodRoleSpec):
        pod_role = pod_identity_role(
            owner,
            role.key or key,
            ctx=ctx,
            cluster=cluster,
            namespace=namespace,
            service_account=role.service_account,
            description=role.description,
            tags=role.tags,
            policy=role.policy,
            policies=role.policies,
            role_name=role.role_name,
            policy_name=role.policy_name,
            managed_policies=role.managed_policies,
        )
    elif role is not None:
        pod_role = role
    release = pinned_release(
        owner,
        key,
        name=release_name,
        chart=chart,
        version=version,
        repository=repository,
        namespace=namespace,
        values=values,
        provider=cluster.provider,
        atomic=atomic,
        depends_on=[
            *cluster.ready,
            *([ns] if ns is not None else []),
            *(pod_role.ready if pod_role is not None else []),
            *depends_on,
        ],
        create_namespace=True if create_namespace else None,
        **extra,
    )
    return Addon(release=release, namespace=ns, role=pod_role)
