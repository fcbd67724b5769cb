"""Who CI is trusted as (issue 13, "Deploying and previewing" and "One publisher role for every repository"):

- a deployer trusts only its stack's deploy job, the reviewed workflow on `main`, and carries a permissions boundary
  that keeps it from widening its own role, the boundary, the GitHub provider, the SCPs and the state's policies;
- a previewer trusts only its stack's preview jobs and reads, beyond ViewOnlyAccess, only what its preview needs;
- a shared-services preview reads member accounts through a read-only role, never the organization's access role;
- each ECR repository has its own publisher role, pushing only there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.ci import github
from components.ci.component import (
    deployer_boundary_name,
    is_previewer_session,
    member_preview_role_name,
    member_provider_role,
    publisher_role_name,
)
from components.ci.config import SUBJECTS_MOVED, CiConfig, publisher_problems
from core.naming import Namer
from core.profiles import shared_services, workloads
from offline.mocks import Recorded
from offline.plan import Plan
from tests.iam_data import statements
from tests.iam_grammar import MANAGED_POLICY_MAX, non_whitespace_length, unknown_actions
from tests.support import shared_config
from tests.test_config import parse_shared, problems_of
from tests.test_state_backend import decide

SHARED = "shared-services"
REPO = "acme/aws-platform"
SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"
P = "aws-platform"


def stacks() -> dict[str, str]:
    cfg = shared_config()
    return {cfg.stack: cfg.account_id} | {name: p.account_id for name, p in workloads(cfg.environments).items()}


def plan_of(plans: dict[str, Plan]) -> Plan:
    return plans[SHARED]


def account_of(plan: Plan, resource: Recorded) -> str:
    (provider,) = [r for r in plan.resources if r.urn == resource.provider_urn]
    return json.loads(provider.inputs["allowedAccountIds"])[0]


def trust(role: Recorded) -> dict[str, Any]:
    (st,) = statements(json.loads(role.inputs["assumeRolePolicy"]))
    return st


def managed_policies(plan: Plan, role: Recorded) -> set[str]:
    return {
        a.inputs["policyArn"]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.outputs["name"] and account_of(plan, a) == account_of(plan, role)
    }


# ---------------------------------------------------------------------------------------------------------------------
# Deployers: the deploy job of the reviewed workflow on main, and a boundary


def test_deployers_trust_only_the_deploy_workflow_on_main(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    for stack, account in stacks().items():
        role = plan.one("aws:iam/role:Role", f"ci-deployer-{stack}")
        st = trust(role)
        assert account_of(plan, role) == account
        assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert st["Principal"] == {
            "Federated": f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        }
        assert st["Condition"] == {
            "StringEquals": {
                AUD: "sts.amazonaws.com",
                SUB: f"repo:{REPO}:environment:{stack}:job_workflow_ref:{REPO}/.github/workflows/pulumi.yml"
                "@refs/heads/main",
            }
        }
        assert st["Condition"]["StringEquals"][SUB] == github.deploy_subject(REPO, stack)


def test_previewers_trust_only_their_stacks_preview_jobs(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    for stack in stacks():
        st = trust(plan.one("aws:iam/role:Role", f"ci-previewer-{stack}"))
        assert st["Condition"]["StringEquals"] == {AUD: "sts.amazonaws.com"}
        assert st["Condition"]["StringLike"] == {SUB: github.preview_subject_pattern(REPO, stack)}
        pattern = st["Condition"]["StringLike"][SUB]
        assert pattern.endswith(
            f"{stack}-preview:job_workflow_ref:{REPO}/.github/workflows/pulumi.yml@refs/pull/*/merge"
        )


def boundary_of(plan: Plan, stack: str) -> tuple[Recorded, dict[str, Any]]:
    role = plan.one("aws:iam/role:Role", f"ci-deployer-{stack}")
    policy = plan.one("aws:iam/policy:Policy", f"ci-deployer-boundary-{stack}")
    assert policy.inputs["name"] == deployer_boundary_name(Namer("plat", SHARED))
    assert role.inputs["permissionsBoundary"] == policy.outputs["arn"]
    assert policy.urn in role.dependencies  # IAM refuses a boundary that does not exist yet
    assert account_of(plan, policy) == account_of(plan, role)
    return policy, json.loads(policy.inputs["policy"])


def test_every_deployer_has_a_boundary_in_its_own_account(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    for stack in stacks():
        role = plan.one("aws:iam/role:Role", f"ci-deployer-{stack}")
        assert managed_policies(plan, role) == {"arn:aws:iam::aws:policy/AdministratorAccess"}
        policy, document = boundary_of(plan, stack)
        assert non_whitespace_length(policy.inputs["policy"]) <= MANAGED_POLICY_MAX
        assert unknown_actions(statements(document)) == []
        # The state keys by pattern, not by id: a new environment's key does not change the boundary, which the
        # management account's deployer could not apply to its own.
        keys = next(st for st in statements(document) if st["Sid"] == "DenyChangingTheStateKeyPolicies")
        assert (
            keys["Resource"]
            == f"arn:aws:kms:eu-west-1:{shared_services(shared_config().environments)[1].account_id}:key/*"
        )


def test_the_boundary_keeps_the_guard_rails_out_of_the_deployers_hands(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    state = plan.exports["stateBackend"]
    bucket = f"arn:aws:s3:::{state['bucket']}"
    keys = list(state["secretsKeyArns"].values())
    for stack, account in stacks().items():
        policy, boundary = boundary_of(plan, stack)
        organization = stack == SHARED
        own_role = f"arn:aws:iam::{account}:role/pulumi-deployer"
        oidc = f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        denied = [
            *((a, own_role) for a in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                                      "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
                                      "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
                                      "iam:PutRolePermissionsBoundary")),
            *((a, policy.outputs["arn"]) for a in ("iam:CreatePolicyVersion", "iam:DeletePolicy",
                                                    "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion")),
            *((a, oidc) for a in ("iam:DeleteOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider",
                                  "iam:UpdateOpenIDConnectProviderThumbprint")),
            ("s3:PutBucketPolicy", bucket),
            ("s3:DeleteBucketPolicy", bucket),
            *(("kms:PutKeyPolicy", key) for key in keys),
        ]  # fmt: skip
        for action, resource in denied:
            assert decide(boundary, action=action, resource=resource) == "deny", (stack, action, resource)
        allowed = [
            ("ec2:RunInstances", "*"),
            ("iam:CreateRole", f"arn:aws:iam::{account}:role/plat-prod-karpenter"),
            ("iam:PutRolePolicy", f"arn:aws:iam::{account}:role/plat-prod-karpenter"),
            ("iam:GetOpenIDConnectProvider", oidc),
            ("s3:PutObject", f"{bucket}/.pulumi/stacks/aws-platform/{stack}.json"),
            ("kms:Encrypt", keys[0]),
        ]
        for action, resource in allowed:
            assert decide(boundary, action=action, resource=resource) == "allow", (stack, action)
        # The organization pipeline manages the SCPs; no other deployer may.
        for action in ("organizations:UpdatePolicy", "organizations:AttachPolicy", "organizations:DetachPolicy"):
            expected = "allow" if organization else "deny"
            assert decide(boundary, action=action, resource="*") == expected, (stack, action)


# ---------------------------------------------------------------------------------------------------------------------
# Previewers: ViewOnlyAccess and only what a preview reads


def preview_policy(plan: Plan, stack: str) -> dict[str, Any]:
    role = plan.one("aws:iam/role:Role", f"ci-previewer-{stack}")
    (inline,) = [
        p
        for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["id"] and account_of(plan, p) == account_of(plan, role)
    ]
    return json.loads(inline.inputs["policy"])


def test_previewers_view_but_read_no_data(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    for stack in stacks():
        role = plan.one("aws:iam/role:Role", f"ci-previewer-{stack}")
        assert managed_policies(plan, role) == {"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}
        policy = preview_policy(plan, stack)
        assert unknown_actions(statements(policy)) == []
        actions = {a for st in statements(policy) if st["Effect"] == "Allow" for a in _list(st["Action"])}
        expected = {"s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
        if stack == SHARED:
            expected |= {
                "sso:ListInstances",
                "identitystore:GetGroupId",
                "identitystore:DescribeGroup",
                "sts:AssumeRole",
            }
        else:
            expected |= {"eks:DescribeCluster"}
        assert actions == expected, stack


def test_previewers_read_only_their_own_state_and_secrets(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    state = plan.exports["stateBackend"]
    bucket = f"arn:aws:s3:::{state['bucket']}"
    state_key = plan.one("aws:kms/key:Key", "state-state").outputs["arn"]
    for stack in stacks():
        policy = preview_policy(plan, stack)
        for other in stacks():
            obj = f"{bucket}/.pulumi/stacks/aws-platform/{other}.json"
            assert decide(policy, action="s3:GetObject", resource=obj) == ("allow" if other == stack else "implicit")
            key = state["secretsKeyArns"][other]
            assert decide(policy, action="kms:Decrypt", resource=key) == ("allow" if other == stack else "implicit")
        assert decide(policy, action="kms:Decrypt", resource=state_key) == "allow"
        assert decide(policy, action="s3:PutObject", resource=f"{bucket}/.pulumi/stacks/aws-platform/{stack}.json") == (
            "implicit"
        )
        assert decide(policy, action="s3:GetObject", resource=f"{bucket}/.pulumi/meta.yaml") == "allow"
        if stack != SHARED:
            account = stacks()[stack]
            cluster = f"arn:aws:eks:eu-west-1:{account}:cluster/plat-{stack}"
            assert decide(policy, action="eks:DescribeCluster", resource=cluster) == "allow"
            other = f"arn:aws:eks:eu-west-1:{account}:cluster/plat-other"
            assert decide(policy, action="eks:DescribeCluster", resource=other) == "implicit"


# ---------------------------------------------------------------------------------------------------------------------
# Shared-services previews read member accounts through a read-only role


def test_member_accounts_are_previewed_through_a_read_only_role(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    cfg = shared_config()
    management_previewer = f"arn:aws:iam::{cfg.account_id}:role/pulumi-previewer"
    name = member_preview_role_name(Namer("plat", SHARED))
    assert member_provider_role(Namer("plat", SHARED), "OrganizationAccountAccessRole", previewing=True) == name
    assert (
        member_provider_role(Namer("plat", SHARED), "OrganizationAccountAccessRole", previewing=False)
        == "OrganizationAccountAccessRole"
    )
    assert is_previewer_session(
        f"arn:aws:sts::{cfg.account_id}:assumed-role/pulumi-previewer/gha-1", "pulumi-previewer"
    )
    assert not is_previewer_session(
        f"arn:aws:sts::{cfg.account_id}:assumed-role/pulumi-deployer/gha", "pulumi-previewer"
    )
    readers = {r.name.removeprefix("ci-preview-reader-"): r for r in plan.by_type("aws:iam/role:Role")
               if r.name.startswith("ci-preview-reader-")}  # fmt: skip
    assert set(readers) == set(cfg.environments)  # every member account, shared-services' own included
    for env, reader in readers.items():
        assert account_of(plan, reader) == cfg.environments[env].account_id
        assert reader.inputs["name"] == name
        st = trust(reader)
        assert st == {"Sid": "AssumedByOneRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                      "Principal": {"AWS": management_previewer}}  # fmt: skip
        assert managed_policies(plan, reader) == {"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}
        assert plan.one("aws:iam/role:Role", "ci-previewer-shared-services").urn in reader.dependencies
    policy = preview_policy(plan, SHARED)
    for env, profile in cfg.environments.items():
        reader_arn = f"arn:aws:iam::{profile.account_id}:role/{name}"
        access = f"arn:aws:iam::{profile.account_id}:role/OrganizationAccountAccessRole"
        assert decide(policy, action="sts:AssumeRole", resource=reader_arn) == "allow", env
        assert decide(policy, action="sts:AssumeRole", resource=access) == "deny", env
        # Not the workload previewers either: those read their stacks' state and secrets.
        previewer = f"arn:aws:iam::{profile.account_id}:role/pulumi-previewer"
        assert decide(policy, action="sts:AssumeRole", resource=previewer) == "implicit", env


def test_the_workload_previewers_trust_no_other_role(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    for stack in stacks():
        assert set(trust(plan.one("aws:iam/role:Role", f"ci-previewer-{stack}"))["Principal"]) == {"Federated"}


# ---------------------------------------------------------------------------------------------------------------------
# One publisher role per ECR repository


def test_each_repository_has_its_own_publisher(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    cfg = shared_config()
    shared_account = shared_services(cfg.environments)[1].account_id
    repositories = {r.inputs["name"]: r.outputs["arn"] for r in plan.by_type("aws:ecr/repository:Repository")}
    publishers = [r for r in plan.by_type("aws:iam/role:Role") if r.name.startswith("ci-image-publisher-")]
    assert {r.name.removeprefix("ci-image-publisher-") for r in publishers} == set(cfg.ci.image_publishers)
    for repository, subjects in cfg.ci.image_publishers.items():
        role = plan.one("aws:iam/role:Role", f"ci-image-publisher-{repository}")
        assert account_of(plan, role) == shared_account
        st = trust(role)
        trusted = _list((st["Condition"].get("StringLike") or st["Condition"]["StringEquals"])[SUB])
        assert sorted(trusted) == sorted(subjects)
        (inline,) = [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]
        policy = json.loads(inline.inputs["policy"])
        for other, arn in repositories.items():
            got = decide(policy, action="ecr:PutImage", resource=arn)
            assert got == ("allow" if other == repository else "implicit"), (repository, other)
        assert decide(policy, action="ecr:GetAuthorizationToken", resource="*") == "allow"
        assert decide(policy, action="ecr:DeleteRepository", resource=repositories[repository]) == "implicit"


def test_the_stack_file_publishers() -> None:
    publishers = shared_config().ci.image_publishers
    assert publishers == {
        "shop": ("repo:acme/shop:ref:refs/heads/main",),
        "hello": (
            "repo:acme/hello:ref:refs/heads/main",
            "repo:acme/aws-platform:ref:refs/heads/main:job_workflow_ref:"
            "acme/aws-platform/.github/workflows/app-hello.yml@refs/heads/main",
        ),
    }


def test_publisher_role_names_are_unique_and_fit_iam() -> None:
    namer = Namer("plat", SHARED)
    assert publisher_role_name(namer, "shop") == "plat-shared-services-image-publisher-shop"
    assert publisher_role_name(namer, "team/hello") != publisher_role_name(namer, "team-hello")
    long = publisher_role_name(namer, "team/" + "x" * 150)
    assert len(long) <= 64
    assert long != publisher_role_name(namer, "team/" + "x" * 149 + "y")


# ---------------------------------------------------------------------------------------------------------------------
# ci.imagePublishers: the stack file's rules


PLATFORM_HELLO = (
    "repo:acme/aws-platform:ref:refs/heads/main:job_workflow_ref:acme/aws-platform/.github/workflows/app-hello.yml"
    "@refs/heads/main"
)


def test_the_old_flat_list_is_refused_with_the_way_forward() -> None:
    message = problems_of(SHARED, {"ci.imagePublisherSubjects": ["repo:acme/shop:ref:refs/heads/main"]})
    assert f"{P}:ci.imagePublisherSubjects" in message
    assert "ci.imagePublishers" in message
    assert SUBJECTS_MOVED.split(";")[0] in message


@pytest.mark.parametrize(
    ("publishers", "fragments"),
    [
        ({"nope": ["repo:acme/shop:ref:refs/heads/main"]},
         [f"{P}:ci.imagePublishers.nope", "a repository of artifacts.repositories: shop, hello"]),
        ({"shop": ["repo:acme/aws-platform:ref:refs/heads/main"]},
         [f"{P}:ci.imagePublishers.shop[0]", "customised form for the platform repository"]),
        ({"shop": ["repo:acme/shop:ref:refs/heads/main:job_workflow_ref:acme/shop/.github/workflows/x.yml"
                   "@refs/heads/main"]},
         [f"{P}:ci.imagePublishers.shop[0]", "only the platform repository"]),
        ({"shop": ["repo:acme/shop:pull_request"]}, [f"{P}:ci.imagePublishers.shop[0]", "not pull_request"]),
        ({"shop": ["repo:acme/shop:environment:prod"]}, ["not environment"]),
        ({"shop": ["repo:acme/*:ref:refs/heads/main"]}, ["one repository"]),
        ({"shop": ["repo:acme/shop:ref:refs/heads/*"]}, ["ref:refs/heads/<branch>"]),
        ({"shop": []}, [f"{P}:ci.imagePublishers.shop", "at least one subject"]),
        ({}, [f"{P}:ci.imagePublishers", "at least one repository"]),
        ({"hello": [PLATFORM_HELLO.replace("@refs/heads/main", "@refs/heads/dev")]},
         ["the workflow's ref is the ref the job runs on"]),
        ({"hello": [PLATFORM_HELLO.replace("acme/aws-platform/.github", "acme/other/.github")]},
         ["job_workflow_ref in the subject's own repository"]),
    ],
)  # fmt: skip
def test_publishers_are_refused(publishers: dict[str, list[str]], fragments: list[str]) -> None:
    message = problems_of(SHARED, {"ci": {"imagePublishers": publishers}})
    for fragment in fragments:
        assert fragment in message, message


def test_the_platform_repositorys_customised_subject_may_publish() -> None:
    cfg = parse_shared(
        {"ci": {"imagePublishers": {"hello": [PLATFORM_HELLO], "shop": ["repo:acme/shop:ref:refs/tags/v*"]}}}
    )
    assert cfg.ci.image_publishers["hello"] == (PLATFORM_HELLO,)
    assert publisher_problems({"hello": [PLATFORM_HELLO]}, repositories=["hello"], platform_repository=REPO) == []
    assert CiConfig.model_validate({"imagePublishers": {"x": [PLATFORM_HELLO]}}).image_publishers == {
        "x": (PLATFORM_HELLO,)
    }


# ---------------------------------------------------------------------------------------------------------------------
# Subjects (pure)


def test_the_customised_subjects_parse_and_validate() -> None:
    deploy = github.deploy_subject(REPO, "prod")
    preview = github.preview_subject_pattern(REPO, "prod")
    for subject in (deploy, preview):
        assert github.valid_subject(subject) is None
        assert github.subject_kind(subject) == "environment"
    parsed = github.parse_subject(deploy)
    assert (parsed.base, parsed.workflow_path, parsed.workflow_ref) == (
        f"repo:{REPO}:environment:prod",
        github.DEPLOY_WORKFLOW,
        "refs/heads/main",
    )
    assert github.SUBJECT_CLAIM_KEYS == ("repo", "context", "job_workflow_ref")
    refused = [
        deploy.replace(f"job_workflow_ref:{REPO}", "job_workflow_ref:acme/*"),  # any repository's workflow
        deploy.replace(f"job_workflow_ref:{REPO}", "job_workflow_ref:evil/aws-platform"),  # another repository's
        deploy.replace("refs/heads/main", "refs/heads/*"),  # any branch
        PLATFORM_HELLO.replace("refs/heads/main", "refs/pull/*/merge"),  # pull requests, outside an environment
        deploy.replace(".github/workflows/pulumi.yml", ".github/workflows/*.yml"),  # any workflow
    ]
    for subject in refused:
        assert github.valid_subject(subject) is not None, subject
    with pytest.raises(ValueError, match="refusing"):
        github.github_trust("arn:aws:iam::111122223333:oidc-provider/x", refused[:1])


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]
