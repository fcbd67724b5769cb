"""StateBackend: where Pulumi keeps state and encrypts secrets, in the shared-services account.

Creates:
- the state bucket (versioned, SSE-KMS with its own key, public-blocked, TLS-only, protected), holding each stack's
  state under its own keys (Pulumi's DIY layout, components/state/layout.py);
- one secrets key per stack (the `awskms://` secrets provider): the organization stack's is the original key with
  alias `alias/<prefix>/<stack>/pulumi-secrets`, every other stack's has the alias
  `alias/<prefix>/<stack>/pulumi-secrets/<its stack>`;
- the policies (components/state/policies.py): each stack's deployer reads, writes and deletes only its own stack's
  objects and uses only its own secrets key, its previewer only reads and decrypts; everyone else but break-glass is
  explicitly denied the data.

The CI roles it grants are named by ARN (account and organisation-wide role name), so nothing here waits for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.state.layout import META, stack_object_arns
from components.state.policies import StackRoles, bucket_key_statements, bucket_statements, secrets_key_statements
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
    project: str
    """The Pulumi project whose stacks keep their state here."""
    stacks: Mapping[str, str]
    """Every stack -> the account its CI roles are in (the organization stack's: the management account)."""
    organization_stack: str
    """The stack that keeps the original secrets key and its alias (the shared-services stack)."""
    deployer_role_name: str
    previewer_role_name: str
    bootstrap_role_name: str
    """The organization's member access role (`organization.memberAccessRoleName`): in each workload stack's account it
    runs that stack's first `up` (docs/runbooks/bootstrap.md), so it writes that stack's state, and only that."""
    break_glass_permission_set: str
    """The Identity Center permission set whose roles are break-glass (`breakGlassRoleName`): never denied."""
    noncurrent_version_days: int


class StateBackend(PlatformComponent):
    bucket_name: str
    bucket_arn: str
    """The state bucket's ARN, literal (for the SCPs and the deployers' boundaries)."""
    layout_arn: str
    """The layout file every login reads (`.pulumi/meta.yaml`)."""
    key_arn: pulumi.Output[str]
    """The bucket's encryption key."""
    key_arn_pattern: str
    """Every key of the shared-services account (the state's keys among them), literal, for policies that must not
    change when a stack's key is added."""
    secrets_key_alias: str
    """The organization stack's secrets key alias (unchanged since before per-stack keys)."""
    secrets_key_aliases: dict[str, str]
    secrets_key_arns: dict[str, pulumi.Output[str]]
    """Stack -> its secrets key."""

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx = args.ctx
        if args.organization_stack not in args.stacks:
            raise ValueError(f"state: organization stack {args.organization_stack!r} not among {list(args.stacks)}")
        self._project = args.project
        break_glass = iam.break_glass_arn_pattern(ctx.partition, args.break_glass_permission_set)
        roles = {
            stack: StackRoles(
                deployer=ctx.arn("iam", f"role/{args.deployer_role_name}", region="", account=account),
                previewer=ctx.arn("iam", f"role/{args.previewer_role_name}", region="", account=account),
                # The organization stack runs in the management account, which has no member access role.
                bootstrap=None
                if stack == args.organization_stack
                else ctx.arn("iam", f"role/{args.bootstrap_role_name}", region="", account=account),
            )
            for stack, account in args.stacks.items()
        }
        state_key = customer_key(
            self,
            "state",
            ctx=ctx,
            description=f"{ctx.namer.base} Pulumi state bucket",
            policy=iam.kms_key_policy(
                ctx,
                bucket_key_statements(
                    stacks=roles, break_glass=break_glass, s3_service=f"s3.{ctx.region}.{ctx.dns_suffix}"
                ),
            ),
            tags=merge_tags(ctx.tags, None, ctx.namer.physical("pulumi-state")),
        )
        self.key_arn = state_key.arn
        self.key_arn_pattern = ctx.arn("kms", "key/*")
        self.secrets_key_aliases, self.secrets_key_arns = {}, {}
        for stack, stack_roles in roles.items():
            original = stack == args.organization_stack
            key = "secrets" if original else f"secrets-{stack}"
            description = f"{ctx.namer.base} Pulumi secrets provider (awskms://)" + ("" if original else f", {stack}")
            alias = ctx.namer.alias("pulumi-secrets") if original else ctx.namer.alias("pulumi-secrets", stack)
            secrets_key = customer_key(
                self,
                key,
                ctx=ctx,
                description=description,
                policy=iam.kms_key_policy(ctx, secrets_key_statements(stack_roles, break_glass=break_glass)),
                tags=merge_tags(ctx.tags, None, ctx.namer.physical("pulumi-secrets", *([] if original else [stack]))),
                alias=alias,
            )
            self.secrets_key_aliases[stack] = alias
            self.secrets_key_arns[stack] = secrets_key.arn
        self.secrets_key_alias = self.secrets_key_aliases[args.organization_stack]

        self.bucket_name = ctx.namer.physical("pulumi-state", ctx.account_id, ctx.region, service="s3-bucket")
        self.bucket_arn = f"arn:{ctx.partition}:s3:::{self.bucket_name}"
        self.layout_arn = f"{self.bucket_arn}/{META}"
        self.backend_url = f"s3://{self.bucket_name}?region={ctx.region}&awssdk=v2"
        """What `pulumi login` takes for this bucket (the DIY backend every stack's state lives in)."""
        secure_bucket(
            self,
            "state",
            ctx=ctx,
            bucket_name=self.bucket_name,
            kms_key_arn=state_key.arn,
            statements=bucket_statements(self.bucket_arn, project=args.project, stacks=roles, break_glass=break_glass),
            noncurrent_days=args.noncurrent_version_days,
            protect=True,
        )
        self.register_outputs(
            {
                "bucket": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "backendUrl": self.backend_url,
                "keyArn": self.key_arn,
                "secretsKeyAlias": self.secrets_key_alias,
                "secretsKeyAliases": self.secrets_key_aliases,
                "secretsKeyArns": self.secrets_key_arns,
            }
        )

    def stack_object_arns(self, stack: str) -> list[str]:
        """The object ARNs (wildcards) of `stack`'s state."""
        return stack_object_arns(self.bucket_arn, self._project, stack)
