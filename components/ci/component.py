"""CiIdentity: how GitHub Actions gets into AWS, with no static keys.

Creates, in each account that CI works in (through that account's provider):
- the GitHub OIDC provider (audience sts.amazonaws.com);
- a Pulumi deployer role trusted only from the platform repository's GitHub environment of that stack
  (`repo:<owner>/<repo>:environment:<stack>`), and a read-only previewer role trusted only from `<stack>-preview`,
  which pull-request previews use;
and, in the shared-services account, the image-publisher role: trusted only from the configured repository/branch
subjects (never a wildcard owner), allowed to push only to the platform's ECR repositories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ci import github
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:CiIdentity"


@dataclass(frozen=True, kw_only=True)
class CiTarget:
    key: str
    """The stack (and GitHub environment) this account is deployed by."""
    account_id: str
    provider: pulumi.ProviderResource


@dataclass(frozen=True, kw_only=True)
class CiIdentityArgs:
    ctx: StackContext
    github_repository: str
    deployer_role_name: str
    previewer_role_name: str
    targets: Sequence[CiTarget]
    publisher: CiTarget
    """The shared-services account, where the image-publisher role lives."""
    publisher_subjects: Sequence[str]
    repository_arns: Sequence[str]


class CiIdentity(PlatformComponent):
    deployer_role_arns: dict[str, pulumi.Output[str]]
    previewer_role_arns: dict[str, pulumi.Output[str]]
    deployer_roles: list[aws.iam.Role]
    image_publisher_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = args.ctx
        self.deployer_role_arns, self.previewer_role_arns, self.deployer_roles = {}, {}, []
        providers: dict[str, tuple[str, aws.iam.OpenIdConnectProvider]] = {}
        for target in [*args.targets, args.publisher]:
            if target.account_id not in providers:
                providers[target.account_id] = self._oidc_provider(target)
        for target in args.targets:
            provider_arn, oidc = providers[target.account_id]
            for kind, role_name, environment, policy in (
                ("deployer", args.deployer_role_name, target.key, "AdministratorAccess"),
                ("previewer", args.previewer_role_name, f"{target.key}-preview", "ReadOnlyAccess"),
            ):
                subject = f"repo:{args.github_repository}:environment:{environment}"
                key = f"{kind}-{target.key}"
                role = aws.iam.Role(
                    self.child_name(key),
                    name=role_name,
                    description=f"GitHub Actions {kind} of stack {target.key} (environment {environment})",
                    assume_role_policy=github.github_trust(provider_arn, [subject]),
                    max_session_duration=3600 * 2,
                    tags=self._tags(key),
                    # IAM refuses a trust policy naming a federated provider that does not exist yet.
                    opts=self.child_opts(key, provider=target.provider, depends_on=[oidc]),
                )
                aws.iam.RolePolicyAttachment(
                    self.child_name(key),
                    role=role.name,
                    policy_arn=args.ctx.managed_policy(policy),
                    opts=self.child_opts(key, provider=target.provider, depends_on=[oidc]),
                )
                if kind == "deployer":
                    self.deployer_role_arns[target.key] = role.arn
                    self.deployer_roles.append(role)
                else:
                    self.previewer_role_arns[target.key] = role.arn

        publisher = aws.iam.Role(
            self.child_name("image-publisher"),
            name=args.ctx.namer.physical("image-publisher", service="iam-role"),
            description="GitHub Actions: push images to the platform's ECR repositories",
            assume_role_policy=github.github_trust(providers[args.publisher.account_id][0], args.publisher_subjects),
            max_session_duration=3600,
            tags=self._tags("image-publisher"),
            opts=self.child_opts(
                "image-publisher",
                provider=args.publisher.provider,
                depends_on=[providers[args.publisher.account_id][1]],
            ),
        )
        aws.iam.RolePolicy(
            self.child_name("image-publisher"),
            role=publisher.id,
            policy=github.ecr_push_policy(args.repository_arns),
            opts=self.child_opts("image-publisher", provider=args.publisher.provider),
        )
        self.image_publisher_role_arn = publisher.arn
        self.register_outputs(
            {
                "deployerRoleArns": self.deployer_role_arns,
                "previewerRoleArns": self.previewer_role_arns,
                "imagePublisherRoleArn": self.image_publisher_role_arn,
            }
        )

    def _tags(self, name: str) -> dict[str, str]:
        return merge_tags(self._ctx.tags, None, self._ctx.namer.physical(name))

    def _oidc_provider(self, target: CiTarget) -> tuple[str, aws.iam.OpenIdConnectProvider]:
        ctx = self._ctx.for_account(target.account_id)
        key = f"github-{target.account_id}"
        oidc = aws.iam.OpenIdConnectProvider(
            self.child_name(key),
            url=f"https://{github.GITHUB_OIDC_HOST}",
            client_id_lists=[github.GITHUB_AUDIENCE],
            tags=self._tags(f"github-oidc-{target.key}"),
            opts=self.child_opts(key, provider=target.provider),
        )
        return ctx.arn("iam", f"oidc-provider/{github.GITHUB_OIDC_HOST}", region=""), oidc
