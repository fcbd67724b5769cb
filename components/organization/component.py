"""Organization: OUs, optional account creation, service control policies and the organization CloudTrail.

Creates (in the management account, or through `log_archive_provider` in the shared-services account):
- the OUs of the environment profiles' `ou` paths (today `workloads` with `prod`, `stg`, `sandbox` below it, and
  `infrastructure`), under the configured root;
- member accounts in their profile's OU when `organization.createAccounts` is true (protected; existing accounts are
  imported instead, see the README);
- the SCPs of `scp` (region restriction, data protection, account baseline and security services on the top-level
  OUs, the cost guard on the OUs of sandbox environments), minified, attached so no OU exceeds five direct
  attachments;
- an organization trail (all regions, log file validation, KMS) into a versioned, encrypted, public-blocked,
  TLS-only bucket with a lifecycle rule, in the shared-services account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.organization import scp
from components.organization.config import OrganizationConfig
from core import iam
from core.blocks import customer_key
from core.buckets import secure_bucket
from core.component import PlatformComponent
from core.context import StackContext
from core.profiles import ou_layout
from core.tags import merge_tags

TYPE = "aws-platform:platform:Organization"


@dataclass(frozen=True, kw_only=True)
class OrganizationArgs:
    ctx: StackContext
    config: OrganizationConfig
    allowed_regions: tuple[str, ...]
    exemptions: scp.Exemptions
    log_archive_provider: pulumi.ProviderResource
    """Provider of the shared-services account, which keeps the trail's bucket and key."""


class Organization(PlatformComponent):
    ou_ids: dict[str, pulumi.Output[str]]
    policy_ids: dict[str, pulumi.Output[str]]
    trail_arn: pulumi.Output[str]
    trail_bucket: str

    def __init__(self, name: str, args: OrganizationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx, cfg = args.ctx, args.config

        ous: dict[str, aws.organizations.OrganizationalUnit] = {}
        for key, parent_key in ou_layout(cfg.profiles).items():
            parent_id = cfg.root_id if parent_key is None else ous[parent_key].id
            ous[key] = aws.organizations.OrganizationalUnit(
                self.child_name(f"ou-{key}"),
                name=key,
                parent_id=parent_id,
                tags=self._tags(ctx, f"ou-{key}"),
                opts=self.child_opts(f"ou-{key}"),
            )
        self.ou_ids = {key: ou.id for key, ou in ous.items()}

        if cfg.create_accounts:
            for account in cfg.accounts.values():
                aws.organizations.Account(
                    self.child_name(f"account-{account.key}"),
                    name=f"{ctx.namer.prefix}-{account.key}",
                    email=account.email,
                    parent_id=ous[cfg.profiles[account.key].ou_name].id,
                    role_name=cfg.member_access_role,
                    iam_user_access_to_billing="DENY",
                    close_on_deletion=False,
                    tags=self._tags(ctx, f"account-{account.key}"),
                    # Never let a code change close an account.
                    opts=self.child_opts(f"account-{account.key}", protect=True, ignore_changes=["roleName"]),
                )

        policies = scp.organization_scps(
            allowed_regions=args.allowed_regions,
            exemptions=args.exemptions,
            partition=ctx.partition,
            sandbox_denied_types=cfg.sandbox_denied_instance_types,
            profiles=cfg.profiles,
        )
        self.policy_ids = {}
        for policy in policies:
            resource = aws.organizations.Policy(
                self.child_name(f"scp-{policy.name}"),
                name=f"{ctx.namer.prefix}-{policy.name}",
                description=policy.description,
                type="SERVICE_CONTROL_POLICY",
                content=policy.content,
                tags=self._tags(ctx, f"scp-{policy.name}"),
                opts=self.child_opts(f"scp-{policy.name}"),
            )
            self.policy_ids[policy.name] = resource.id
            for target in policy.targets:
                aws.organizations.PolicyAttachment(
                    self.child_name(f"scp-{policy.name}-{target}"),
                    policy_id=resource.id,
                    target_id=ous[target].id,
                    opts=self.child_opts(f"scp-{policy.name}-{target}"),
                )

        self.trail_bucket, self.trail_arn = self._trail(ctx, cfg, args.log_archive_provider)
        self.register_outputs({"ouIds": self.ou_ids, "trailArn": self.trail_arn, "trailBucket": self.trail_bucket})

    @staticmethod
    def _tags(ctx: StackContext, name: str) -> dict[str, str]:
        return merge_tags(ctx.tags, None, ctx.namer.physical(name))

    def _trail(
        self, ctx: StackContext, cfg: OrganizationConfig, provider: pulumi.ProviderResource
    ) -> tuple[str, pulumi.Output[str]]:
        archive = ctx.for_account(cfg.accounts["shared-services"].id)
        trail_name = ctx.namer.physical("organization")
        trail_arn = ctx.arn("cloudtrail", f"trail/{trail_name}")
        cloudtrail = {"Service": ctx.service_principal("cloudtrail")}
        from_this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
        key = customer_key(
            self,
            "trail",
            ctx=ctx,
            description=f"{ctx.namer.base} organization CloudTrail",
            policy=iam.kms_key_policy(
                archive,
                [
                    iam.statement(
                        "CloudTrailEncrypts",
                        "kms:GenerateDataKey*",
                        principal=cloudtrail,
                        condition={
                            **from_this_trail,
                            "StringLike": {
                                "kms:EncryptionContext:aws:cloudtrail:arn": ctx.arn("cloudtrail", "trail/*", region="*")
                            },
                        },
                    ),
                    iam.statement("CloudTrailDescribesKey", "kms:DescribeKey", principal=cloudtrail),
                ],
            ),
            tags=self._tags(ctx, "trail"),
            provider=provider,
        )
        bucket_name = ctx.namer.physical("org-trail", archive.account_id, ctx.region, service="s3-bucket")
        bucket_arn = f"arn:{ctx.partition}:s3:::{bucket_name}"
        bucket = secure_bucket(
            self,
            "trail",
            ctx=archive,
            bucket_name=bucket_name,
            kms_key_arn=key.arn,
            statements=[
                iam.statement(
                    "CloudTrailAclCheck", "s3:GetBucketAcl", bucket_arn, principal=cloudtrail, condition=from_this_trail
                ),
                iam.statement(
                    "CloudTrailWrite",
                    "s3:PutObject",
                    f"{bucket_arn}/AWSLogs/*",
                    principal=cloudtrail,
                    condition=from_this_trail,
                ),
            ],
            expire_days=cfg.cloudtrail_retention_days,
            protect=ctx.protect,
            provider=provider,
        )
        trail = aws.cloudtrail.Trail(
            self.child_name("organization"),
            name=trail_name,
            s3_bucket_name=bucket.name,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            kms_key_id=key.arn,
            tags=self._tags(ctx, "organization-trail"),
            opts=self.child_opts("organization", depends_on=[bucket.policy]),
        )
        return bucket_name, trail.arn
