"""CiIdentity: how GitHub Actions gets into AWS, with no static keys.

Creates, in each account that CI works in (through that account's provider):
- the GitHub OIDC provider (audience sts.amazonaws.com);
- per stack, in the account it deploys (the management account for the shared-services stack):
  - a Pulumi deployer role trusted only from the deploy job of that stack: the platform repository's GitHub environment
    `<stack>` running the reusable deploy workflow as it is on `main` (`github.deploy_subject`, StringEquals), with
    AdministratorAccess capped by a permissions boundary, a customer managed policy of that account
    (`<prefix>-<stack>-deployer-boundary`, `policies.deployer_boundary`);
  - a previewer role trusted only from that stack's preview jobs (`<stack>-preview`, the deploy workflow at a pull
    request's merge ref: `github.preview_subject_pattern`, StringLike), with ViewOnlyAccess plus only what a preview
    reads (its own state and secrets key, its cluster's description; for the organization stack the Identity Center
    lookups and the member accounts' preview readers, never the organization's member access role);
- in every member account, a preview reader (`member_preview_role_name`, ViewOnlyAccess only) that only the
  organization stack's previewer may assume: a shared-services preview reads member accounts through it instead of
  the organization's full-access role;
- in the shared-services account, one image-publisher role per ECR repository of `ci.imagePublishers`, trusted only
  from that repository's subjects and allowed to push only to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import pulumi
import pulumi_aws as aws

from components.ci import github
from components.ci.policies import Boundary, PreviewNeeds, assumed_by_role_trust, deployer_boundary, previewer_policy
from core.component import PlatformComponent
from core.context import StackContext
from core.naming import Namer, check
from core.tags import merge_tags

TYPE = "aws-platform:platform:CiIdentity"

VIEW_ONLY = "job-function/ViewOnlyAccess"
"""The AWS managed policy previewers and preview readers get: lists and describes, reads no data."""


def member_preview_role_name(namer: Namer) -> str:
    """The role a previewing identity assumes in every member account (ViewOnlyAccess, trusted only by the organization
    stack's previewer)."""
    return namer.physical("preview-reader", service="iam-role")


def deployer_boundary_name(namer: Namer) -> str:
    """The name of the deployers' permissions boundary policy, the same in every account."""
    return namer.physical("deployer-boundary", service="iam-policy")


def member_provider_role(namer: Namer, member_access_role: str, *, previewing: bool) -> str:
    """The role the shared-services stack's member-account providers assume: the organization's member access role
    (`organization.memberAccessRoleName`) when deploying, the preview reader when the identity running the program is
    the previewer (which is explicitly denied the member access role)."""
    return member_preview_role_name(namer) if previewing else member_access_role


def is_previewer_session(caller_arn: str, previewer_role_name: str) -> bool:
    """Whether `caller_arn` (sts:GetCallerIdentity's Arn) is a session of the previewer role, the only identity a
    preview of the shared-services stack runs as (`pulumi up` runs its own preview as the deployer, so the dry-run
    flag cannot tell them apart)."""
    return f":assumed-role/{previewer_role_name}/" in caller_arn


def publisher_role_name(namer: Namer, repository: str) -> str:
    """`<prefix>-<stack>-image-publisher-<repository>`, `/` spelled `+` (which no ECR name contains, so two repositories
    never share a role name), shortened with a hash of the repository where IAM's 64 characters would not hold it."""
    name = f"{namer.base}-image-publisher-{repository.replace('/', '+')}"
    if len(name) > 64:
        digest = hashlib.sha256(repository.encode()).hexdigest()[:8]
        name = f"{name[: 64 - 9]}-{digest}"
    return check(name, "iam-role")


@dataclass(frozen=True, kw_only=True)
class CiTarget:
    key: str
    """The stack (and GitHub environment) this account is deployed by; for a member account: its environment."""
    account_id: str
    provider: pulumi.ProviderResource
    organization: bool = False
    """The organization stack (shared-services, in the management account): its deployer manages the SCPs, its previewer
    looks up Identity Center and reads the member accounts through their preview readers."""


@dataclass(frozen=True, kw_only=True)
class Publisher:
    """Who may push to one ECR repository."""

    repository: str
    repository_arn: str
    subjects: Sequence[str]


class StateGrants(Protocol):
    """What CI needs of the state backend (components/state `StateBackend` satisfies it)."""

    @property
    def bucket_arn(self) -> str: ...

    @property
    def layout_arn(self) -> str: ...

    @property
    def key_arn(self) -> pulumi.Output[str]: ...

    @property
    def key_arn_pattern(self) -> str: ...

    @property
    def secrets_key_arns(self) -> Mapping[str, pulumi.Output[str]]: ...

    def stack_object_arns(self, stack: str) -> list[str]: ...


@dataclass(frozen=True, kw_only=True)
class CiIdentityArgs:
    ctx: StackContext
    github_repository: str
    deployer_role_name: str
    previewer_role_name: str
    member_access_role_name: str
    """The organization's role in every member account (`organization.memberAccessRoleName`): previews never get it."""
    targets: Sequence[CiTarget]
    """One per stack: the account it deploys and its provider; exactly one is the organization stack."""
    members: Sequence[CiTarget]
    """Every member account (one per environment of the profiles table): where the preview readers go."""
    publisher: CiTarget
    """The shared-services account, where the image-publisher roles live."""
    publishers: Sequence[Publisher]
    state: StateGrants


class CiIdentity(PlatformComponent):
    deployer_role_arns: dict[str, pulumi.Output[str]]
    previewer_role_arns: dict[str, pulumi.Output[str]]
    deployer_roles: list[aws.iam.Role]
    boundary_arns: dict[str, str]
    """Stack -> the ARN of its deployer's permissions boundary."""
    member_preview_role_name: str
    """The role a previewing identity must assume in member accounts (see `member_provider_role`)."""
    member_preview_role_arns: dict[str, pulumi.Output[str]]
    image_publisher_role_arns: dict[str, pulumi.Output[str]]
    """ECR repository -> its publisher role."""

    def __init__(self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx = self._ctx = args.ctx
        organization = [t for t in args.targets if t.organization]
        if len(organization) != 1:
            raise ValueError(f"ci: exactly one organization target, got {[t.key for t in organization]}")
        self.deployer_role_arns, self.previewer_role_arns, self.deployer_roles = {}, {}, []
        self.boundary_arns, self.member_preview_role_arns, self.image_publisher_role_arns = {}, {}, {}
        self.member_preview_role_name = member_preview_role_name(ctx.namer)
        providers: dict[str, tuple[str, aws.iam.OpenIdConnectProvider]] = {}
        for target in [*args.targets, args.publisher]:
            if target.account_id not in providers:
                providers[target.account_id] = self._oidc_provider(target)

        member_readers = [self._arn(m.account_id, f"role/{self.member_preview_role_name}") for m in args.members]
        org_previewer: aws.iam.Role | None = None
        for target in sorted(args.targets, key=lambda t: not t.organization):  # the organization's previewer first
            provider_arn, oidc = providers[target.account_id]
            deployer_arn = self._arn(target.account_id, f"role/{args.deployer_role_name}")
            boundary_name = deployer_boundary_name(ctx.namer)
            boundary_arn = self._arn(target.account_id, f"policy/{boundary_name}")
            boundary = Boundary(
                deployer_role_arn=deployer_arn,
                boundary_arn=boundary_arn,
                oidc_provider_arn=provider_arn,
                state_bucket_arn=args.state.bucket_arn,
                state_keys=args.state.key_arn_pattern,
                organization_pipeline=target.organization,
            )
            boundary_policy = aws.iam.Policy(
                self.child_name(f"deployer-boundary-{target.key}"),
                name=boundary_name,
                description=f"Permissions boundary of the CI deployer of stack {target.key}",
                policy=deployer_boundary(boundary),
                tags=self._tags(f"deployer-boundary-{target.key}"),
                opts=pulumi.ResourceOptions(parent=self, provider=target.provider),
            )
            self.boundary_arns[target.key] = boundary_arn
            deployer = self._role(
                f"deployer-{target.key}",
                target,
                name=args.deployer_role_name,
                description=f"GitHub Actions deployer of stack {target.key} (environment {target.key})",
                trust=github.github_trust(provider_arn, [github.deploy_subject(args.github_repository, target.key)]),
                managed="AdministratorAccess",
                permissions_boundary=boundary_arn,
                # IAM refuses a trust naming a federated provider, or a boundary, that does not exist yet.
                depends_on=[oidc, boundary_policy],
            )
            self.deployer_role_arns[target.key] = deployer.arn
            self.deployer_roles.append(deployer)

            needs = PreviewNeeds(
                state_bucket_arn=args.state.bucket_arn,
                state_object_arns=[args.state.layout_arn, *args.state.stack_object_arns(target.key)],
                decrypt_key_arns=[],
                cluster_arn=None if target.organization else self._cluster_arn(target),
                identity_center=target.organization,
                member_reader_arns=member_readers if target.organization else (),
                member_access_role_pattern=(
                    f"arn:{ctx.partition}:iam::*:role/{args.member_access_role_name}" if target.organization else None
                ),
            )
            previewer = self._role(
                f"previewer-{target.key}",
                target,
                name=args.previewer_role_name,
                description=f"GitHub Actions previewer of stack {target.key} (environment {target.key}-preview)",
                trust=github.github_trust(
                    provider_arn, [github.preview_subject_pattern(args.github_repository, target.key)]
                ),
                managed=VIEW_ONLY,
                depends_on=[oidc],
            )
            aws.iam.RolePolicy(
                self.child_name(f"previewer-{target.key}"),
                name="preview",
                role=previewer.id,
                policy=pulumi.Output.all(args.state.key_arn, args.state.secrets_key_arns[target.key]).apply(
                    lambda arns, n=needs: previewer_policy(replace(n, decrypt_key_arns=[str(a) for a in arns]))
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=target.provider),
            )
            self.previewer_role_arns[target.key] = previewer.arn
            if target.organization:
                org_previewer = previewer

        assert org_previewer is not None
        org_target = organization[0]
        org_previewer_arn = self._arn(org_target.account_id, f"role/{args.previewer_role_name}")
        for member in args.members:
            reader = self._role(
                f"preview-reader-{member.key}",
                member,
                name=self.member_preview_role_name,
                description=f"Read-only view of account {member.key} for previews of stack {org_target.key}",
                trust=assumed_by_role_trust(org_previewer_arn),
                managed=VIEW_ONLY,
                max_session_duration=3600,
                # IAM refuses a trust naming a role that does not exist yet.
                depends_on=[org_previewer],
                new=True,
            )
            self.member_preview_role_arns[member.key] = reader.arn

        publisher_provider_arn, publisher_oidc = providers[args.publisher.account_id]
        for publisher in args.publishers:
            key = f"image-publisher-{publisher.repository}"
            role = aws.iam.Role(
                self.child_name(key),
                name=publisher_role_name(ctx.namer, publisher.repository),
                description=f"GitHub Actions: push images to the ECR repository {publisher.repository} only",
                assume_role_policy=github.github_trust(publisher_provider_arn, publisher.subjects),
                max_session_duration=3600,
                tags=self._tags(key),
                opts=pulumi.ResourceOptions(parent=self, provider=args.publisher.provider, depends_on=[publisher_oidc]),
            )
            aws.iam.RolePolicy(
                self.child_name(key),
                name="push",
                role=role.id,
                policy=github.ecr_push_policy(publisher.repository_arn),
                opts=pulumi.ResourceOptions(parent=self, provider=args.publisher.provider),
            )
            self.image_publisher_role_arns[publisher.repository] = role.arn

        self.register_outputs(
            {
                "deployerRoleArns": self.deployer_role_arns,
                "previewerRoleArns": self.previewer_role_arns,
                "boundaryArns": self.boundary_arns,
                "memberPreviewRoleArns": self.member_preview_role_arns,
                "imagePublisherRoleArns": self.image_publisher_role_arns,
            }
        )

    def _arn(self, account_id: str, resource: str) -> str:
        return self._ctx.arn("iam", resource, region="", account=account_id)

    def _cluster_arn(self, target: CiTarget) -> str:
        # The environment stack names its cluster `<prefix>-<stack>` (CommonConfig.cluster_name) in its own region,
        # which this stack does not read.
        return self._ctx.arn(
            "eks", f"cluster/{self._ctx.namer.prefix}-{target.key}", region="*", account=target.account_id
        )

    def _role(
        self,
        key: str,
        target: CiTarget,
        *,
        name: str,
        description: str,
        trust: str,
        managed: str,
        depends_on: Sequence[pulumi.Resource],
        permissions_boundary: str | None = None,
        max_session_duration: int = 3600 * 2,
        new: bool = False,
    ) -> aws.iam.Role:
        """A role and its AWS managed policy. `new`: a role this component did not create before the child naming
        convention, so it needs no alias to a former name (core/component.py)."""

        def options() -> pulumi.ResourceOptions:
            if new:
                return pulumi.ResourceOptions(parent=self, provider=target.provider, depends_on=list(depends_on))
            return self.child_opts(key, provider=target.provider, depends_on=depends_on)

        role = aws.iam.Role(
            self.child_name(key),
            name=name,
            description=description,
            assume_role_policy=trust,
            max_session_duration=max_session_duration,
            permissions_boundary=permissions_boundary,
            tags=self._tags(key),
            opts=options(),
        )
        aws.iam.RolePolicyAttachment(
            self.child_name(key), role=role.name, policy_arn=self._ctx.managed_policy(managed), opts=options()
        )
        return role

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
