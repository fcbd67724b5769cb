"""Explicit providers. Default providers are disabled in Pulumi.yaml, so every resource names one of these."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from core.config import StackConfig
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
