"""Identity: the account-level guardrails of the stack's account, and who may use its cluster.

Creates:
- the account-level S3 public access block, all four flags on;
- EBS encryption by default for the account (volumes created without explicit encryption are still encrypted; the
  platform's own launch templates and node classes name their customer key explicitly);
- in environment stacks, EKS access entries for the roles Identity Center provisions in this account and for the
  environment's CI deployer role: PlatformAdmin -> cluster admin; PlatformEngineer -> admin of the application
  namespaces; Developer -> view (prod, stg) or edit of the application namespaces (sandbox); CI deployer -> cluster
  admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.component import PlatformComponent
from core.context import StackContext
from core.sections.organization import IdentityConfig
from core.tags import merge_tags

TYPE = "aws-platform:platform:Identity"


@dataclass(frozen=True, kw_only=True)
class ClusterAccess:
    cluster_name: str
    sso: IdentityConfig
    deployer_role_arn: str
    app_namespaces: Sequence[str]


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
        Grant("ci-deployer", access.deployer_role_arn, "AmazonEKSClusterAdminPolicy"),
    ]


@dataclass(frozen=True, kw_only=True)
class IdentityArgs:
    ctx: StackContext
    cluster: ClusterAccess | None = None
    depends_on: Sequence[pulumi.Resource] = ()
    """What the access entries need first (the cluster)."""
    legacy_aliases: bool = True
    """Alias children to their pre-prefix names (see `components.base`). False for a second instance in one stack."""


class Identity(PlatformComponent):
    account_public_access_block_id: pulumi.Output[str]

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts, legacy_aliases=args.legacy_aliases)
        ctx = args.ctx
        block = aws.s3.AccountPublicAccessBlock(
            self.child_name("account"),
            account_id=ctx.account_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child_opts("account"),
        )
        aws.ebs.EncryptionByDefault(self.child_name("account"), enabled=True, opts=self.child_opts("account"))
        self.account_public_access_block_id = block.id

        if args.cluster is not None:
            for grant in grants(args.cluster):
                entry = aws.eks.AccessEntry(
                    self.child_name(grant.key),
                    cluster_name=args.cluster.cluster_name,
                    principal_arn=grant.principal_arn,
                    type="STANDARD",
                    tags=merge_tags(ctx.tags, None, ctx.namer.physical(f"eks-{grant.key}")),
                    opts=self.child_opts(grant.key, depends_on=args.depends_on),
                )
                aws.eks.AccessPolicyAssociation(
                    self.child_name(grant.key),
                    cluster_name=args.cluster.cluster_name,
                    principal_arn=grant.principal_arn,
                    policy_arn=ctx.eks_access_policy(grant.policy),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                        type="namespace" if grant.namespaces else "cluster",
                        namespaces=list(grant.namespaces) or None,
                    ),
                    opts=self.child_opts(grant.key, depends_on=[entry]),
                )
        self.register_outputs({"accountPublicAccessBlockId": self.account_public_access_block_id})
