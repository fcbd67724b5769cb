"""Identity: the account-level guardrails every stack owns in its account.

Creates:
- the account-level S3 public access block, all four flags on;
- EBS encryption by default for the account (volumes created without explicit encryption are still encrypted; the
  platform's own launch templates and node classes name their customer key explicitly).

EKS access entries for Identity Center roles and the CI deployer join this component with the identity issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.context import StackContext

TYPE = "aws-platform:platform:Identity"


@dataclass(frozen=True, kw_only=True)
class IdentityArgs:
    ctx: StackContext


class Identity(pulumi.ComponentResource):
    account_public_access_block_id: pulumi.Output[str]

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        block = aws.s3.AccountPublicAccessBlock(
            "account",
            account_id=args.ctx.account_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.ebs.EncryptionByDefault("account", enabled=True, opts=child)
        self.account_public_access_block_id = block.id
        self.register_outputs({"accountPublicAccessBlockId": self.account_public_access_block_id})
