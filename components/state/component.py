"""StateBackend: where Pulumi keeps state and encrypts secrets, in the shared-services account.

Creates a customer KMS key for the state bucket, a second one used as the `awskms://` secrets provider (alias
`alias/<prefix>/<stack>/pulumi-secrets`), and the state bucket: versioned, SSE-KMS, public-blocked, TLS-only,
protected, readable and writable by the deployer roles of every account and readable by the previewer roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from core import iam
from core.blocks import customer_key
from core.buckets import secure_bucket
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:StateBackend"


@dataclass(frozen=True, kw_only=True)
class StateBackendArgs:
    ctx: StackContext
    """Context of the shared-services account."""
    deployer_role_arns: Sequence[str]
    previewer_role_arns: Sequence[str]
    noncurrent_version_days: int
    depends_on: Sequence[pulumi.Resource] = ()
    """The roles named in the policies (KMS and S3 refuse principals that do not exist)."""


class StateBackend(PlatformComponent):
    bucket_name: str
    secrets_key_alias: str

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx = args.ctx
        readers = sorted(args.previewer_role_arns)
        writers = sorted(args.deployer_role_arns)
        state_key = customer_key(
            self,
            "state",
            ctx=ctx,
            depends_on=args.depends_on,
            description=f"{ctx.namer.base} Pulumi state bucket",
            policy=iam.kms_key_policy(
                ctx,
                [
                    iam.statement(
                        "DeployersUseKey",
                        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                        principal={"AWS": writers},
                    ),
                    iam.statement("PreviewersDecrypt", "kms:Decrypt", principal={"AWS": readers}),
                ],
            ),
            tags=merge_tags(ctx.tags, None, ctx.namer.physical("pulumi-state")),
        )
        customer_key(
            self,
            "secrets",
            ctx=ctx,
            depends_on=args.depends_on,
            description=f"{ctx.namer.base} Pulumi secrets provider (awskms://)",
            policy=iam.kms_key_policy(
                ctx,
                [
                    iam.statement(
                        "DeployersEncryptSecrets",
                        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                        principal={"AWS": writers},
                    ),
                    iam.statement("PreviewersDecryptSecrets", "kms:Decrypt", principal={"AWS": readers}),
                ],
            ),
            tags=merge_tags(ctx.tags, None, ctx.namer.physical("pulumi-secrets")),
            alias=ctx.namer.alias("pulumi-secrets"),
        )
        self.secrets_key_alias = ctx.namer.alias("pulumi-secrets")
        self.bucket_name = ctx.namer.physical("pulumi-state", ctx.account_id, ctx.region, service="s3-bucket")
        arn = f"arn:{ctx.partition}:s3:::{self.bucket_name}"
        secure_bucket(
            self,
            "state",
            ctx=ctx,
            bucket_name=self.bucket_name,
            kms_key_arn=state_key.arn,
            statements=[
                iam.statement(
                    "DeployersList",
                    ["s3:GetBucketLocation", "s3:ListBucket"],
                    arn,
                    principal={"AWS": sorted(writers + readers)},
                ),
                iam.statement(
                    "DeployersReadWrite",
                    ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                    f"{arn}/*",
                    principal={"AWS": writers},
                ),
                iam.statement("PreviewersRead", "s3:GetObject", f"{arn}/*", principal={"AWS": readers}),
            ],
            noncurrent_days=args.noncurrent_version_days,
            protect=True,
            depends_on=args.depends_on,
        )
        self.register_outputs({"bucket": self.bucket_name, "secretsKeyAlias": self.secrets_key_alias})
