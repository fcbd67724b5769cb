"""Account baseline: the account-level guardrails every account of the platform gets, whatever runs in it.

S3 public access is blocked for the whole account (all four flags), and EBS volumes are encrypted by default, so a
volume created without an explicit key is still encrypted (the platform's own launch templates and node classes name
their customer key). These are per-account settings, not per-cluster ones, so the shared-services stack applies them
to the management and the shared-services accounts as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.component import PlatformComponent
from core.context import StackContext

TYPE = "aws-platform:platform:AccountBaseline"
FORMER_TYPE = "aws-platform:platform:Identity"
"""Until the split, the baseline and the EKS access entries were one `Identity` component."""


@dataclass(frozen=True, kw_only=True)
class AccountBaselineArgs:
    ctx: StackContext
    former_name: str
    """The name the `Identity` component had in this stack (`identity`, `identity-shared-services`): the baseline takes
    over its URN, so its children move instead of being replaced."""
    legacy_aliases: bool = True
    """Alias children to their pre-prefix names (see core/component.py). False for a second instance in one stack."""


class AccountBaseline(PlatformComponent):
    account_public_access_block_id: pulumi.Output[str]

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=FORMER_TYPE, name=args.former_name)])
        super().__init__(
            TYPE,
            name,
            pulumi.ResourceOptions.merge(opts, moved),
            legacy_aliases=args.legacy_aliases,
            moved_from=(FORMER_TYPE, args.former_name),
        )
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
        self.register_outputs({"accountPublicAccessBlockId": self.account_public_access_block_id})
