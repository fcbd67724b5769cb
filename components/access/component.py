"""Cluster access: who may use the environment's cluster, through EKS access entries (never the aws-auth ConfigMap).

The roles Identity Center provisions in this account get the EKS access policy their permission set stands for:
PlatformAdmin cluster admin, PlatformEngineer admin of the application namespaces, Developer view, or edit of the
application namespaces where the profile is a sandbox; the environment's CI deployer is cluster admin. Entries name
the cluster by its handle's `name` Output, so they are created only once the control plane exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access.config import IdentityConfig
from components.cluster.component import Cluster
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:ClusterAccess"
FORMER = ("aws-platform:platform:Identity", "identity")
"""Until the split, these entries were children of the `Identity` component named `identity`."""


@dataclass(frozen=True, kw_only=True)
class ClusterAccess:
    cluster: Cluster
    """The cluster the access entries are for (they name it by its `name` Output, so they wait for it)."""
    sso: IdentityConfig
    deployer_role_arn: str
    previewer_role_arn: str
    app_namespaces: Sequence[str]
    deployer_created_cluster: bool = False
    """EKS already gave the cluster's creator an admin entry; a second one for the same role would be refused."""


@dataclass(frozen=True)
class Grant:
    key: str
    principal_arn: str
    policy: str
    namespaces: tuple[str, ...] = ()
    """Empty: cluster scope."""


def grants(access: ClusterAccess) -> list[Grant]:
    """Who gets which EKS access policy, and where."""
    namespaces = tuple(access.app_namespaces)
    developer = (
        Grant("developer", access.sso.sso_role_arns["Developer"], "AmazonEKSEditPolicy", namespaces)
        if access.sso.developer_access == "edit"
        else Grant("developer", access.sso.sso_role_arns["Developer"], "AmazonEKSViewPolicy")
    )
    return [
        Grant("platform-admin", access.sso.sso_role_arns["PlatformAdmin"], "AmazonEKSClusterAdminPolicy"),
        Grant("platform-engineer", access.sso.sso_role_arns["PlatformEngineer"], "AmazonEKSAdminPolicy", namespaces),
        developer,
        *([] if access.deployer_created_cluster else [
            Grant("ci-deployer", access.deployer_role_arn, "AmazonEKSClusterAdminPolicy")
        ]),
        # Previews of the Kubernetes half read the cluster (server-side dry runs of the objects), never write it.
        Grant("ci-previewer", access.previewer_role_arn, "AmazonEKSViewPolicy"),
    ]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ClusterAccessArgs:
    ctx: StackContext
    access: ClusterAccess


class ClusterAccessEntries(PlatformComponent):
    def __init__(self, name: str, args: ClusterAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts, moved_from=FORMER)
        ctx, access = args.ctx, args.access
        for grant in grants(access):
            entry = aws.eks.AccessEntry(
                self.child_name(grant.key),
                cluster_name=access.cluster.name,
                principal_arn=grant.principal_arn,
                type="STANDARD",
                tags=merge_tags(ctx.tags, None, ctx.namer.physical(f"eks-{grant.key}")),
                opts=self.child_opts(grant.key),
            )
            aws.eks.AccessPolicyAssociation(
                self.child_name(grant.key),
                cluster_name=access.cluster.name,
                principal_arn=grant.principal_arn,
                policy_arn=ctx.eks_access_policy(grant.policy),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace" if grant.namespaces else "cluster",
                    namespaces=list(grant.namespaces) or None,
                ),
                opts=self.child_opts(grant.key, depends_on=[entry]),
            )
        self.register_outputs({})
