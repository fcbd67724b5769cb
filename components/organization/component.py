"""Organization: OUs, optional account creation, service control policies and the organization CloudTrail.

Creates (in the management account, or through `log_archive_provider` in the shared-services account):
- the OUs of the environment profiles' `ou` paths (today `workloads` with `prod`, `stg`, `sandbox` below it, and
  `infrastructure`), under the configured root;
- member accounts in their profile's OU when `organization.createAccounts` is true (protected; existing accounts are
  imported instead, see the README);
- the SCPs of `scp` (region restriction, data protection, account baseline and security services on the top-level
  OUs, the cost guard on the OUs of sandbox environments), minified, attached so no OU exceeds five direct
  attachments;
- an organization trail (all regions, log file validation, KMS) into the log archive in the shared-services account:
  a versioned, encrypted, public-blocked, TLS-only bucket with S3 Object Lock in COMPLIANCE mode (retention:
  `cloudTrailRetentionDays`), a bucket policy that lets nobody but break-glass delete logs or the bucket or change
  its policy, lifecycle rules or lock, and lifecycle rules that delete nothing before the retention. The trail and
  its bucket are Pulumi-protected whatever `protectStatefulResources` says.

The security services and the break-glass alerting are their own components (`security_services.py`,
`alerting.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.organization import scp
from components.organization.config import OrganizationConfig
from core import iam
from core.blocks import customer_key
from core.buckets import Bucket, tls_only_statement
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
    protected_state: scp.ProtectedState
    """The Pulumi state backend (its bucket and secrets keys) the SCPs keep away from everyone but break-glass and
    the organization pipeline (`scp.ProtectedState.of_state_backend` of the shared-services account's context)."""
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
            state=args.protected_state,
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

        self.trail_bucket, self.trail_arn = self._trail(ctx, cfg, args.exemptions, args.log_archive_provider)
        self.register_outputs({"ouIds": self.ou_ids, "trailArn": self.trail_arn, "trailBucket": self.trail_bucket})

    @staticmethod
    def _tags(ctx: StackContext, name: str) -> dict[str, str]:
        return merge_tags(ctx.tags, None, ctx.namer.physical(name))

    def _trail(
        self, ctx: StackContext, cfg: OrganizationConfig, exemptions: scp.Exemptions, provider: pulumi.ProviderResource
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
        bucket = self._log_archive_bucket(
            archive,
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
                *log_archive_denies(bucket_arn, exemptions.break_glass_arn(ctx.partition)),
            ],
            retention_days=cfg.cloudtrail_retention_days,
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
            # The audit record of the whole organisation: protected whatever the stack's protect flag says.
            opts=self.child_opts("organization", depends_on=[bucket.policy], protect=True),
        )
        return bucket_name, trail.arn

    def _log_archive_bucket(
        self,
        ctx: StackContext,
        *,
        bucket_name: str,
        kms_key_arn: pulumi.Input[str],
        statements: list[iam.Statement],
        retention_days: int,
        provider: pulumi.ProviderResource,
    ) -> Bucket:
        """The trail's bucket: what `core.buckets.secure_bucket` builds (same resources, same logical names, so the
        existing bucket is updated in place), plus S3 Object Lock, and with the bucket policy applied last.

        The policy denies PutBucketPolicy, PutLifecycleConfiguration and PutBucketObjectLockConfiguration to everyone
        but break-glass, this stack included: it must land after the lifecycle rules and the Object Lock
        configuration, or an update that changes them together would be refused halfway. secure_bucket creates its
        policy before its lifecycle rules with no dependency between them, hence this variant.

        Object Lock is enabled on the existing, versioned bucket (PutObjectLockConfiguration: S3 allows it on an
        existing versioned bucket, so no replacement) with a COMPLIANCE default retention of `retention_days`.
        Noncurrent versions expire `retention_days` after becoming noncurrent and current ones after
        `retention_days`, so the lifecycle deletes nothing the retention still covers (Object Lock would refuse to
        anyway)."""
        key = "trail"
        logical = self.child_name(key)
        child = self.child_opts(key, provider=provider)
        bucket = aws.s3.Bucket(
            logical,
            bucket=bucket_name,
            force_destroy=False,
            tags=merge_tags(ctx.tags, None, bucket_name),
            opts=self.child_opts(key, provider=provider, protect=True),
        )
        aws.s3.BucketOwnershipControls(
            logical,
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        block = aws.s3.BucketPublicAccessBlock(
            logical,
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            logical,
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            logical,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        lock = aws.s3.BucketObjectLockConfiguration(
            logical,
            bucket=bucket.id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode="COMPLIANCE", days=retention_days
                )
            ),
            # Object Lock cannot be switched off once on; the configuration is protected like the bucket.
            opts=self.child_opts(key, provider=provider, depends_on=[versioning], protect=True),
        )
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            logical,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=retention_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                ),
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=retention_days),
                ),
            ],
            opts=child,
        )
        arn = f"arn:{ctx.partition}:s3:::{bucket_name}"
        policy = aws.s3.BucketPolicy(
            logical,
            bucket=bucket.id,
            policy=iam.document([tls_only_statement(arn), *statements]),
            opts=self.child_opts(key, provider=provider, depends_on=[block, lifecycle, lock]),
        )
        return Bucket(bucket=bucket, policy=policy, name=bucket_name, arn=arn)


LOG_ARCHIVE_BUCKET_ACTIONS = (
    "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy",
    "s3:PutLifecycleConfiguration",
)  # fmt: skip
"""Deleting the bucket or its policy, replacing the policy, shortening the lock, re-writing the lifecycle rules: the
bucket-level `Delete*`, `Put*Policy` and `PutLifecycle*` actions S3 has (and the Object Lock configuration, which
would otherwise let a new default retention shorten what is kept)."""
LOG_ARCHIVE_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion")
"""The object-level deletes (a delete marker, a version). Tag deletes are left out: they destroy no log."""


def log_archive_denies(bucket_arn: str, break_glass_arn: str) -> list[iam.Statement]:
    """The log archive's bucket policy denies: nobody but break-glass deletes logs or the bucket, or changes its
    policy, lifecycle or Object Lock configuration (this stack's own role included: such a change is an emergency
    change). Past such a policy, S3 lets only the bucket account's root user delete or replace it (its lock-out
    recovery), and the account-baseline SCP denies the root user of every member account."""
    except_break_glass = {"ArnNotLike": {"aws:PrincipalArn": break_glass_arn}}
    return [
        iam.statement(
            "DenyLogArchiveBucketChanges",
            list(LOG_ARCHIVE_BUCKET_ACTIONS),
            bucket_arn,
            effect="Deny",
            principal={"AWS": "*"},
            condition=except_break_glass,
        ),
        iam.statement(
            "DenyLogArchiveDeletes",
            list(LOG_ARCHIVE_OBJECT_ACTIONS),
            f"{bucket_arn}/*",
            effect="Deny",
            principal={"AWS": "*"},
            condition=except_break_glass,
        ),
    ]
