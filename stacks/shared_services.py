"""The composition root of the shared-services stack (profile kind `shared-services`): the organization, Identity
Center, CI identities, image repositories and Pulumi state. Everything per environment (member-account providers, CI
roles, pull grants, state access, assignments, OUs) is derived from the profiles table, so a new environment is a
new row there, never an edit here.
"""

from __future__ import annotations

import pulumi

from components.artifacts.component import Artifacts, ArtifactsArgs, repository_arns
from components.baseline.component import AccountBaseline, AccountBaselineArgs
from components.ci.component import CiIdentity, CiIdentityArgs, CiTarget
from components.identity_center.component import IdentityCenter, IdentityCenterArgs
from components.organization import scp
from components.organization.component import Organization, OrganizationArgs
from components.state.component import StateBackend, StateBackendArgs
from core.context import StackContext
from core.profiles import shared_services, workloads
from core.providers import component_opts, member_account_provider
from stacks.config import SharedServicesConfig


def build(cfg: SharedServicesConfig, ctx: StackContext, aws: pulumi.ProviderResource) -> None:
    """The organisation's shared resources, one set per environment of the profiles table."""
    org = cfg.organization
    opts = component_opts(aws)
    members = {
        name: member_account_provider(cfg, name, profile.account_id, org.member_access_role)
        for name, profile in cfg.environments.items()
    }
    shared_name, shared = shared_services(cfg.environments)
    shared_ctx = ctx.for_account(shared.account_id)
    environments = workloads(cfg.environments)

    AccountBaseline("account-baseline", AccountBaselineArgs(ctx=ctx, former_name="identity"), opts=opts)
    AccountBaseline(
        "account-baseline-shared-services",
        AccountBaselineArgs(ctx=shared_ctx, former_name="identity-shared-services", legacy_aliases=False),
        opts=component_opts(members[shared_name]),
    )
    organization = Organization(
        "organization",
        OrganizationArgs(
            ctx=ctx,
            config=org,
            allowed_regions=cfg.allowed_regions,
            exemptions=scp.Exemptions(break_glass_role=cfg.break_glass_role_name, platform_role=cfg.deployer_role_name),
            log_archive_provider=members[shared_name],
        ),
        opts=opts,
    )
    identity_center = IdentityCenter(
        "identity-center", IdentityCenterArgs(ctx=ctx, config=cfg.identity_center, organization=org), opts=opts
    )
    targets = [CiTarget(key=cfg.stack, account_id=cfg.account_id, provider=aws)] + [
        CiTarget(key=name, account_id=profile.account_id, provider=members[name])
        for name, profile in environments.items()
    ]
    ci = CiIdentity(
        "ci",
        CiIdentityArgs(
            ctx=ctx,
            github_repository=cfg.github_repository,
            deployer_role_name=cfg.deployer_role_name,
            previewer_role_name=cfg.previewer_role_name,
            targets=targets,
            publisher=CiTarget(key=shared_name, account_id=shared.account_id, provider=members[shared_name]),
            publisher_subjects=cfg.ci.image_publisher_subjects,
            repository_arns=repository_arns(shared_ctx, cfg.artifacts),
        ),
        opts=opts,
    )
    artifacts = Artifacts(
        "artifacts",
        ArtifactsArgs(
            ctx=shared_ctx,
            config=cfg.artifacts,
            pull_account_ids=[profile.account_id for profile in environments.values()],
        ),
        opts=component_opts(members[shared_name]),
    )
    state = StateBackend(
        "state",
        StateBackendArgs(
            ctx=shared_ctx,
            deployer_role_arns=[
                ctx.for_account(t.account_id).arn("iam", f"role/{cfg.deployer_role_name}", region="") for t in targets
            ],
            previewer_role_arns=[
                ctx.for_account(t.account_id).arn("iam", f"role/{cfg.previewer_role_name}", region="") for t in targets
            ],
            noncurrent_version_days=cfg.artifacts.state_noncurrent_version_days,
            depends_on=[ci],
        ),
        opts=component_opts(members[shared_name]),
    )

    pulumi.export("organization", {"ouIds": organization.ou_ids, "trailArn": organization.trail_arn})
    pulumi.export("permissionSets", identity_center.permission_set_arns)
    pulumi.export(
        "ci",
        {
            "deployerRoleArns": ci.deployer_role_arns,
            "previewerRoleArns": ci.previewer_role_arns,
            "imagePublisherRoleArn": ci.image_publisher_role_arn,
        },
    )
    pulumi.export("repositories", artifacts.repository_urls)
    pulumi.export("stateBackend", {"bucket": state.bucket_name, "secretsKeyAlias": state.secrets_key_alias})
