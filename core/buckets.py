"""A private, encrypted, versioned S3 bucket: the only way the platform creates buckets.

`secure_bucket()` creates, as children of the calling component (`owner`, named and aliased by `key`): the
bucket, ownership controls (bucket owner
enforced: ACLs off), a public access block with all four flags, versioning, default encryption (SSE-KMS with a
customer key and S3 Bucket Keys, or SSE-S3 only when a writer such as ALB access logging supports nothing else and
the bucket carries an `EncryptionException` tag), a bucket policy that denies non-TLS access plus the caller's
statements, and lifecycle rules. Side-by-side resources are linked to the bucket by property dependency, which is
how the policy pack joins them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from core import iam
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

ENCRYPTION_EXCEPTION_TAG = "EncryptionException"
DEFAULT_NONCURRENT_DAYS = 90
"""How long old versions stay in a bucket whose objects never expire."""


@dataclass
class Bucket:
    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    name: str
    arn: str


def tls_only_statement(bucket_arn: str) -> iam.Statement:
    return iam.statement(
        "DenyInsecureTransport",
        "s3:*",
        [bucket_arn, f"{bucket_arn}/*"],
        effect="Deny",
        principal={"AWS": "*"},
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )


def secure_bucket(
    owner: PlatformComponent,
    key: str,
    *,
    ctx: StackContext,
    bucket_name: str,
    kms_key_arn: pulumi.Input[str] | None,
    statements: Sequence[iam.Statement] = (),
    expire_days: int | None = None,
    noncurrent_days: int | None = None,
    sse_s3_reason: str | None = None,
    protect: bool = False,
    provider: pulumi.ProviderResource | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> Bucket:
    """Create the bucket and its guards. Policy documents stay plain strings: the bucket name is known.

    `noncurrent_days` is how long a replaced or deleted object's old version stays (default: `expire_days`, else
    90): never less than `expire_days`, the retention the bucket serves (a log overwritten or deleted by mistake
    must stay as long as the logs kept)."""
    if (kms_key_arn is None) == (sse_s3_reason is None):
        raise ValueError(f"bucket {bucket_name}: give a KMS key, or an SSE-S3 reason, not both or neither")
    if noncurrent_days is None:
        noncurrent_days = expire_days if expire_days is not None else DEFAULT_NONCURRENT_DAYS
    if expire_days is not None and noncurrent_days < expire_days:
        raise ValueError(
            f"bucket {bucket_name}: noncurrent versions ({noncurrent_days} days) must stay as long as the objects "
            f"({expire_days} days), the retention the bucket serves"
        )
    logical = owner.child_name(key)
    child = owner.child_opts(key, provider=provider, depends_on=depends_on)
    stateful = owner.child_opts(key, provider=provider, depends_on=depends_on, protect=protect)
    extra = {ENCRYPTION_EXCEPTION_TAG: sse_s3_reason} if sse_s3_reason else {}
    bucket = aws.s3.Bucket(
        logical,
        bucket=bucket_name,
        force_destroy=False,
        tags=merge_tags(ctx.tags, extra, bucket_name),
        opts=stateful,
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
    aws.s3.BucketVersioning(
        logical,
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=child,
    )
    if kms_key_arn is not None:
        default: Any = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        )
    else:
        default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
    aws.s3.BucketServerSideEncryptionConfiguration(
        logical,
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=kms_key_arn is not None
            )
        ],
        opts=child,
    )
    arn = f"arn:{ctx.partition}:s3:::{bucket_name}"
    policy = aws.s3.BucketPolicy(
        logical,
        bucket=bucket.id,
        policy=iam.document([tls_only_statement(arn), *statements]),
        # The public access block must exist first, or a policy with service principals can be refused.
        opts=owner.child_opts(key, provider=provider, depends_on=[*depends_on, block]),
    )
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="noncurrent-versions",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=noncurrent_days
            ),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=7
            ),
        )
    ]
    if expire_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_days),
            )
        )
    aws.s3.BucketLifecycleConfiguration(logical, bucket=bucket.id, rules=rules, opts=child)
    return Bucket(bucket=bucket, policy=policy, name=bucket_name, arn=arn)
