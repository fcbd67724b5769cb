"""The composition root of the shared-services stack (profile kind `shared-services`): the organization, Identity
Center, CI identities, image repositories and Pulumi state. Everything per environment (member-account providers, CI
roles, pull grants, state access, assignments, OUs) is derived from the profiles table, so a new environment is a
new row there, never an edit here.
"""

from __future__ import annotations

import pulumi
import pulumi_aws

from components.artifacts.component import Artifacts, ArtifactsArgs, repository_arn
from components.baseline.component import AccountBaseline, AccountBaselineArgs
from components.ci.component import (
    CiIdentity,
    CiIdentityArgs,
    CiTarget,
    Publisher,
    is_previewer_session,
    member_preview_role_name,
    member_provider_role,
)
from components.github.component import PlatformRepository, PlatformRepositoryArgs, github_provider
from components.identity_center.component import IdentityCenter, IdentityCenterArgs
from components.organization import scp
from components.organization.alerting import BreakGlassAlerting, BreakGlassAlertingArgs
from components.organization.component import Organization, OrganizationArgs
from components.organization.security_services import SecurityServices, SecurityServicesArgs
from components.state.component import StateBackend, StateBackendArgs
from core.context import StackContext
from core.profiles import shared_services, workloads
from core.providers import component_opts, member_account_provider
from stacks.config import SharedServicesConfig


def build(cfg: SharedServicesConfig, ctx: StackContext, aws: pulumi.ProviderResource) -> None:
    """The organisation's shared resources, one set per environment of the profiles table."""
    org = cfg.organization
    opts = component_opts(aws)
    # A pull-request preview runs as the previewer, which may not assume the member access role: its providers use
    # the read-only preview reader instead (`pulumi up` previews as the deployer, so the dry-run flag cannot tell).
    caller = pulumi_aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=aws))
    member_role = member_provider_role(
        ctx.namer, org.member_access_role, previewing=is_previewer_session(caller.arn, cfg.previewer_role_name)
    )
    members = {
        name: member_account_provider(cfg, name, profile.account_id, member_role)
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
            exemptions=scp.Exemptions(
                break_glass_permission_set=cfg.break_glass_role_name,
                deployer_role=cfg.deployer_role_name,
                previewer_role=cfg.previewer_role_name,
                pipeline_role=org.member_access_role,
                # The CI component's names: the member accounts' preview reader and every deployer's boundary policy.
                also_protected_roles=(member_preview_role_name(ctx.namer),),
                protected_policies=(ctx.namer.physical("deployer-boundary", service="iam-policy"),),
            ),
            protected_state=scp.ProtectedState.of_state_backend(shared_ctx),
            log_archive_provider=members[shared_name],
        ),
        opts=opts,
    )
    security = SecurityServices(
        "security-services",
        SecurityServicesArgs(
            ctx=ctx, config=org, regions=cfg.allowed_regions, member_providers=members, delegated_admin=shared_name
        ),
        opts=opts,
    )
    alerting = BreakGlassAlerting(
        "break-glass-alerting",
        BreakGlassAlertingArgs(ctx=ctx, permission_set=cfg.break_glass_role_name, emails=org.alert_emails),
        opts=opts,
    )
    identity_center = IdentityCenter(
        "identity-center", IdentityCenterArgs(ctx=ctx, config=cfg.identity_center, organization=org), opts=opts
    )
    targets = [CiTarget(key=cfg.stack, account_id=cfg.account_id, provider=aws, organization=True)] + [
        CiTarget(key=name, account_id=profile.account_id, provider=members[name])
        for name, profile in environments.items()
    ]
    # Before the CI roles: the deployers' boundaries protect its keys' policies, the previewers read their own state.
    state = StateBackend(
        "state",
        StateBackendArgs(
            ctx=shared_ctx,
            project=cfg.project,
            stacks={t.key: t.account_id for t in targets},
            organization_stack=cfg.stack,
            deployer_role_name=cfg.deployer_role_name,
            previewer_role_name=cfg.previewer_role_name,
            bootstrap_role_name=org.member_access_role,
            break_glass_permission_set=cfg.break_glass_role_name,
            noncurrent_version_days=cfg.artifacts.state_noncurrent_version_days,
        ),
        opts=component_opts(members[shared_name]),
    )
    ci = CiIdentity(
        "ci",
        CiIdentityArgs(
            ctx=ctx,
            github_repository=cfg.github_repository,
            deployer_role_name=cfg.deployer_role_name,
            previewer_role_name=cfg.previewer_role_name,
            member_access_role_name=org.member_access_role,
            targets=targets,
            members=[
                CiTarget(key=name, account_id=profile.account_id, provider=members[name])
                for name, profile in cfg.environments.items()
            ],
            publisher=CiTarget(key=shared_name, account_id=shared.account_id, provider=members[shared_name]),
            publishers=[
                Publisher(repository=repo, repository_arn=repository_arn(shared_ctx, repo), subjects=subjects)
                for repo, subjects in cfg.ci.image_publishers.items()
            ],
            state=state,
        ),
        opts=opts,
    )
    # The GitHub side of who may deploy: environments, reviewers, OIDC subject, branch protection (token: GITHUB_TOKEN).
    PlatformRepository(
        "github",
        PlatformRepositoryArgs(
            ctx=ctx,
            repository=cfg.github_repository,
            profiles=cfg.environments,
            deployer_role_name=cfg.deployer_role_name,
            previewer_role_name=cfg.previewer_role_name,
            # Where each stack's CI roles live: shared-services' in the management account, not its profile's account.
            ci_account_ids={t.key: t.account_id for t in targets},
            backend_url=state.backend_url,
            reviewers=cfg.github.deploy_reviewers,
            region=cfg.region,
        ),
        opts=component_opts(github_provider(cfg.github_repository)),
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

    pulumi.export(
        "organization",
        {
            "ouIds": organization.ou_ids,
            "trailArn": organization.trail_arn,
            "breakGlassAlertTopicArn": alerting.topic_arn,
            "configAggregatorArn": security.aggregator_arn,
        },
    )
    pulumi.export("permissionSets", identity_center.permission_set_arns)
    pulumi.export(
        "ci",
        {
            "deployerRoleArns": ci.deployer_role_arns,
            "previewerRoleArns": ci.previewer_role_arns,
            "memberPreviewRoleArns": ci.member_preview_role_arns,
            "imagePublisherRoleArns": ci.image_publisher_role_arns,
        },
    )
    pulumi.export("repositories", artifacts.repository_urls)
    pulumi.export(
        "stateBackend",
        {
            "bucket": state.bucket_name,
            "backendUrl": state.backend_url,
            "secretsKeyAlias": state.secrets_key_alias,
            "secretsKeyAliases": state.secrets_key_aliases,
            "secretsKeyArns": state.secrets_key_arns,
        },
    )
