"""Artifacts: the platform's container registry, in the shared-services account.

Creates a customer KMS key and, per configured repository, an ECR repository with immutable tags, scan on push and
KMS encryption, a lifecycle policy (untagged images expire, a bounded number of tagged images kept) and a repository
policy that lets the environment accounts pull. Registry-wide enhanced scanning (Amazon Inspector, continuous) when
configured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.artifacts.config import ArtifactsConfig
from components.artifacts.policies import ecr_pull_from_accounts
from core import iam
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Artifacts"


@dataclass(frozen=True, kw_only=True)
class ArtifactsArgs:
    ctx: StackContext
    """Context of the shared-services account (the registry's account)."""
    config: ArtifactsConfig
    pull_account_ids: Sequence[str]


class Artifacts(PlatformComponent):
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ArtifactsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx, cfg = args.ctx, args.config
        key = customer_key(
            self,
            "registry",
            ctx=ctx,
            description=f"{ctx.namer.base} container images",
            policy=iam.kms_key_policy(
                ctx,
                [
                    iam.via_services_statement(ctx, ("ecr",)),
                    iam.statement(
                        "EnvironmentAccountsPullThroughEcr",
                        ["kms:Decrypt", "kms:DescribeKey"],
                        principal={"AWS": sorted(f"arn:{ctx.partition}:iam::{a}:root" for a in args.pull_account_ids)},
                        condition={"StringEquals": {"kms:ViaService": f"ecr.{ctx.region}.{ctx.dns_suffix}"}},
                    ),
                ],
            ),
            tags=merge_tags(ctx.tags, None, ctx.namer.physical("registry")),
        )
        self.repository_urls = {}
        for repo in cfg.repositories:
            repository = aws.ecr.Repository(
                self.child_name(repo),
                name=repo,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
                ],
                force_delete=False,
                tags=merge_tags(ctx.tags, None, ctx.namer.physical(f"ecr-{repo.replace('/', '-')}")),
                opts=self.child_opts(repo, protect=ctx.protect),
            )
            aws.ecr.LifecyclePolicy(
                self.child_name(repo),
                repository=repository.name,
                policy=lifecycle_policy(cfg),
                opts=self.child_opts(repo),
            )
            aws.ecr.RepositoryPolicy(
                self.child_name(repo),
                repository=repository.name,
                policy=ecr_pull_from_accounts(ctx.partition, args.pull_account_ids),
                opts=self.child_opts(repo),
            )
            self.repository_urls[repo] = repository.repository_url
        if cfg.enhanced_scanning:
            aws.ecr.RegistryScanningConfiguration(
                self.child_name("enhanced"),
                scan_type="ENHANCED",
                rules=[
                    aws.ecr.RegistryScanningConfigurationRuleArgs(
                        scan_frequency="CONTINUOUS_SCAN",
                        repository_filters=[
                            aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                                filter="*", filter_type="WILDCARD"
                            )
                        ],
                    )
                ],
                opts=self.child_opts("enhanced"),
            )
        self.register_outputs({"repositoryUrls": self.repository_urls})


def repository_arn(ctx: StackContext, repository: str) -> str:
    """The ARN of the platform's ECR repository `repository` (in `ctx`'s account and region)."""
    return ctx.arn("ecr", f"repository/{repository}")


def repository_arns(ctx: StackContext, config: ArtifactsConfig) -> list[str]:
    return [repository_arn(ctx, repo) for repo in config.repositories]


def lifecycle_policy(cfg: ArtifactsConfig) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire untagged images after {cfg.expire_untagged_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": cfg.expire_untagged_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the newest {cfg.keep_tagged_images} tagged images",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": ["*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": cfg.keep_tagged_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )
