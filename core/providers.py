"""Explicit providers. Default providers are disabled in Pulumi.yaml, so every resource names one of these."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from core.context import partition_of
from core.settings import CommonConfig as StackConfig
from core.tags import common_tags


def aws_provider(cfg: StackConfig, *, region: str | None = None, name: str = "aws") -> aws.Provider:
    """The stack's AWS provider: region from config, and it refuses to act in any account but the configured one.

    Tags are also set as provider default tags, so resources created inside third-party components (pulumi-eks)
    carry them too; the platform's own resources still pass tags explicitly.
    """
    return aws.Provider(
        name,
        region=region or cfg.region,
        allowed_account_ids=[cfg.account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags=common_tags(cfg)),
    )


def component_opts(provider: pulumi.ProviderResource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(providers=[provider])


def member_account_provider(cfg: StackConfig, key: str, account_id: str, role_name: str) -> aws.Provider:
    """A provider acting in a member account of the organization through the role Organizations creates there.

    Used by the shared-services stack (which runs in the management account) to create CI roles, artifacts and state
    in member accounts. It, too, refuses any other account.
    """
    return aws.Provider(
        f"aws-{key}",
        region=cfg.region,
        allowed_account_ids=[account_id],
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=f"arn:{partition_of(cfg.region)[0]}:iam::{account_id}:role/{role_name}",
                session_name=f"pulumi-{cfg.stack}",
            )
        ],
        default_tags=aws.ProviderDefaultTagsArgs(tags=common_tags(cfg)),
    )
