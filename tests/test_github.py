"""Who may deploy, on the GitHub side: the environments, their rules and variables, the OIDC subject, branch protection
(components/github, in the shared-services plan), and the workflows that use them (.github/workflows).

Each test states one property the security review found missing (issue 13): a branch could deploy, pull requests held
the deploy token, a pull request could approve itself, a preview could cancel a deploy, and the environment stacks'
jobs ran where their private EKS endpoint is unreachable.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from components.ci.github import (
    DEPLOY_WORKFLOW,
    SUBJECT_CLAIM_KEYS,
    deploy_subject,
    preview_subject_pattern,
)
from components.github.component import DEPLOY_BRANCH, GITOPS_ENVIRONMENT, PREVIEW_SUFFIX, environments
from components.github.config import DeployReviewers
from core.naming import Namer
from core.profiles import SHARED_SERVICES, WORKLOAD, EnvironmentProfile
from offline.plan import Plan
from offline.stackfiles import ROOT
from stacks.config import SharedServicesConfig
from tests.support import shared_config
from tests.test_config import problems_of

P = "aws-platform"
SHARED = "shared-services"
WORKFLOWS = ROOT / ".github" / "workflows"
ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
BRANCH_POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
OIDC_TEMPLATE = (
    "github:index/actionsRepositoryOidcSubjectClaimCustomizationTemplate:"
    "ActionsRepositoryOidcSubjectClaimCustomizationTemplate"
)
APP_TOKEN_ACTION = "actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3"
"""v3.1.1 (github:actions/create-github-app-token, tag v3.1.1 -> commit 1b10c78c7865c340bc4f6099eb2f838309f1e8c3)."""


@pytest.fixture(scope="module")
def cfg() -> SharedServicesConfig:
    return shared_config()


@pytest.fixture(scope="module")
def shared(plans: dict[str, Plan]) -> Plan:
    return plans[SHARED]


def by_environment(plan: Plan, typ: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for r in plan.by_type(typ):
        found.setdefault(r.inputs["environment"], []).append(r.inputs)
    return found


def reviewed(profile: EnvironmentProfile) -> bool:
    return profile.production or profile.kind == SHARED_SERVICES


# ---------------------------------------------------------------------------------------------------------------------
# The GitHub side, in the shared-services plan


def test_every_stack_has_a_deploy_and_a_preview_environment_and_nothing_else(
    shared: Plan, cfg: SharedServicesConfig
) -> None:
    names = {r.inputs["environment"] for r in shared.by_type(ENVIRONMENT)}
    expected = {name for stack in cfg.environments for name in (stack, f"{stack}{PREVIEW_SUFFIX}")}
    assert names == expected | {GITOPS_ENVIRONMENT}
    assert {r.inputs["repository"] for r in shared.by_type(ENVIRONMENT)} == {cfg.github_repository.split("/")[1]}


def test_deploy_environments_accept_main_only(shared: Plan, cfg: SharedServicesConfig) -> None:
    envs = {r.inputs["environment"]: r.inputs for r in shared.by_type(ENVIRONMENT)}
    policies = by_environment(shared, BRANCH_POLICY)
    for name in [*cfg.environments, GITOPS_ENVIRONMENT]:
        # Custom branch policies with the pattern main, not "protected branches" (any protected branch would pass).
        assert envs[name]["deploymentBranchPolicy"] == {"customBranchPolicies": True, "protectedBranches": False}
        assert policies[name] == [
            {"repository": envs[name]["repository"], "environment": name, "branchPattern": "main"}
        ]
        assert envs[name]["canAdminsBypass"] is False
    assert set(policies) == {*cfg.environments, GITOPS_ENVIRONMENT}, "no branch rule on a preview environment"


def test_reviewers_guard_production_and_shared_services_deploys_only(shared: Plan, cfg: SharedServicesConfig) -> None:
    envs = {r.inputs["environment"]: r.inputs for r in shared.by_type(ENVIRONMENT)}
    wanted = [{"teams": list(cfg.github.deploy_reviewers.teams), "users": list(cfg.github.deploy_reviewers.users)}]
    for stack, profile in cfg.environments.items():
        if reviewed(profile):
            assert envs[stack]["reviewers"] == wanted, stack
            assert envs[stack]["preventSelfReview"] is True, stack
        else:
            assert "reviewers" not in envs[stack], stack
        preview = envs[f"{stack}{PREVIEW_SUFFIX}"]
        assert "reviewers" not in preview, stack
        assert "deploymentBranchPolicy" not in preview, stack
    assert {s for s, p in cfg.environments.items() if reviewed(p)} >= {"prod", SHARED}
    assert "reviewers" not in envs[GITOPS_ENVIRONMENT]


def test_each_environment_holds_the_role_the_ci_component_created_the_region_and_the_backend(
    shared: Plan, cfg: SharedServicesConfig
) -> None:
    """The variable must name the role that exists: shared-services' CI roles are in the management account (where
    the organization stack runs), not in its profile's account."""
    variables = {
        (r.inputs["environment"], r.inputs["variableName"]): r.inputs["value"] for r in shared.by_type(VARIABLE)
    }
    ci = shared.exports["ci"]
    expected: dict[tuple[str, str], str] = {}
    for stack in cfg.environments:
        expected[(stack, "AWS_ROLE_ARN")] = ci["deployerRoleArns"][stack]
        expected[(f"{stack}{PREVIEW_SUFFIX}", "AWS_ROLE_ARN")] = ci["previewerRoleArns"][stack]
        for name in (stack, f"{stack}{PREVIEW_SUFFIX}"):
            expected[(name, "AWS_REGION")] = cfg.region
            expected[(name, "PULUMI_BACKEND_URL")] = shared.exports["stateBackend"]["backendUrl"]
    assert variables == expected
    assert ci["deployerRoleArns"][SHARED] == f"arn:aws:iam::{cfg.account_id}:role/{cfg.deployer_role_name}"


def test_the_repository_subject_names_the_workflow_and_its_ref(shared: Plan) -> None:
    template = shared.one(OIDC_TEMPLATE)
    assert template.inputs["useDefault"] is False
    assert template.inputs["includeClaimKeys"] == list(SUBJECT_CLAIM_KEYS) == ["repo", "context", "job_workflow_ref"]


def test_subjects_name_the_reviewed_workflow_on_main_or_a_pull_request() -> None:
    repo = "acme/aws-platform"
    assert deploy_subject(repo, "prod") == (
        "repo:acme/aws-platform:environment:prod:job_workflow_ref:"
        f"acme/aws-platform/.github/workflows/pulumi.yml@refs/heads/{DEPLOY_BRANCH}"
    )
    assert preview_subject_pattern(repo, "prod") == (
        "repo:acme/aws-platform:environment:prod-preview:job_workflow_ref:"
        "acme/aws-platform/.github/workflows/pulumi.yml@refs/pull/*/merge"
    )
    assert (ROOT / DEPLOY_WORKFLOW).is_file()


def test_main_needs_a_code_owner_approval_of_the_last_push(shared: Plan) -> None:
    protection = shared.one("github:index/branchProtection:BranchProtection")
    assert protection.inputs["pattern"] == DEPLOY_BRANCH
    assert protection.inputs["enforceAdmins"] is True
    assert protection.inputs["allowsForcePushes"] is False
    (reviews,) = protection.inputs["requiredPullRequestReviews"]
    assert reviews["requiredApprovingReviewCount"] >= 1
    assert reviews["requireCodeOwnerReviews"] is True
    assert reviews["requireLastPushApproval"] is True
    assert reviews["dismissStaleReviews"] is True


def test_the_job_token_cannot_approve_pull_requests(shared: Plan) -> None:
    permissions = shared.one("github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions")
    assert permissions.inputs["canApprovePullRequestReviews"] is False
    assert permissions.inputs["defaultWorkflowPermissions"] == "read"


def test_github_resources_use_the_explicit_provider_of_the_repository_owner(
    shared: Plan, cfg: SharedServicesConfig
) -> None:
    provider = shared.one("pulumi:providers:github")
    assert provider.inputs["owner"] == cfg.github_repository.split("/")[0]
    assert "token" not in provider.inputs, "the token comes from GITHUB_TOKEN, never from the stack"
    resources = [r for r in shared.resources if r.custom and r.type.startswith("github:")]
    assert len(resources) > 10
    assert {r.provider_urn for r in resources} == {provider.urn}
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert "github" in project["config"]["pulumi:disable-default-providers"]


def test_environments_follow_the_profiles_table() -> None:
    base = {"accountEmail": "aws+x@example.com"}
    profiles = {
        "ops": EnvironmentProfile.model_validate(
            {**base, "kind": SHARED_SERVICES, "accountId": "111111111111", "ou": "o"}
        ),
        "perf": EnvironmentProfile.model_validate({**base, "accountId": "222222222222", "ou": "w/perf"}),
        "live": EnvironmentProfile.model_validate(
            {**base, "accountId": "333333333333", "ou": "w/live", "production": True}
        ),
    }
    found = environments(profiles, deployer_role_name="d", previewer_role_name="p")
    assert [(e.name, e.deploy, e.reviewed, e.role_name, e.account_id) for e in found] == [
        ("ops", True, True, "d", "111111111111"),
        ("ops-preview", False, False, "p", "111111111111"),
        ("perf", True, False, "d", "222222222222"),
        ("perf-preview", False, False, "p", "222222222222"),
        ("live", True, True, "d", "333333333333"),
        ("live-preview", False, False, "p", "333333333333"),
    ]
    assert all(p.kind in (WORKLOAD, SHARED_SERVICES) for p in profiles.values())


def test_deploy_reviewers_are_required_and_bounded() -> None:
    assert DeployReviewers(teams=(1,)).teams == (1,)
    assert "at least one reviewer" in problems_of(SHARED, {"github.deployReviewers": {"teams": [], "users": []}})
    assert "github" in problems_of(SHARED, {"github": {}})
    too_many = {"github.deployReviewers": {"teams": [1, 2, 3, 4], "users": [5, 6, 7]}}
    assert "at most 6 reviewers" in problems_of(SHARED, too_many)
    assert "positive numeric GitHub ids" in problems_of(SHARED, {"github.deployReviewers": {"users": [0]}})


# ---------------------------------------------------------------------------------------------------------------------
# The workflows


def workflow(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    on = doc.get("on") or doc[True]  # PyYAML reads the key `on` as a boolean
    return on if isinstance(on, dict) else dict.fromkeys([on] if isinstance(on, str) else on)


def pulumi_calls() -> dict[str, dict[str, Any]]:
    """The jobs of platform.yml that call the reusable pulumi workflow."""
    jobs = workflow("platform.yml")["jobs"]
    return {name: job for name, job in jobs.items() if str(job.get("uses", "")).endswith(DEPLOY_WORKFLOW)}


def calls_per_stack() -> dict[tuple[str, str], dict[str, Any]]:
    """(command, stack) -> the `with:` of the call, matrix entries expanded."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, job in pulumi_calls().items():
        entries = job.get("strategy", {}).get("matrix", {}).get("include") or [{}]
        for entry in entries:
            values = {
                key: re.sub(r"\$\{\{ matrix\.([\w-]+) \}\}", lambda m, e=entry: str(e[m.group(1)]), str(value))
                for key, value in job["with"].items()
            }
            key = (values["command"], values["stack"])
            assert key not in found, f"{name}: {key} twice"
            found[key] = values
    return found


def test_no_workflow_inherits_or_forwards_secrets() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        assert not re.search(r"secrets:\s*inherit", path.read_text()), path.name
    for name, job in pulumi_calls().items():
        # pulumi.yml reads its environment's own secrets; the caller has none to give.
        assert "secrets" not in job, name


def test_no_job_holds_a_state_token_only_its_environments_role() -> None:
    """State is in the platform's bucket, and each stack's deployer may write only its state and its previewer only
    read it (components/state): a pull request's preview holds the previewer's credentials and nothing else, and no
    Pulumi token exists that a preview could use to write state."""
    text = (WORKFLOWS / "pulumi.yml").read_text()
    job = workflow("pulumi.yml")["jobs"]["pulumi"]
    assert job["environment"] == "${{ inputs.command == 'up' && inputs.stack || format('{0}-preview', inputs.stack) }}"
    for token in ("PULUMI_ACCESS_TOKEN", "PULUMI_DEPLOY_TOKEN", "PULUMI_PREVIEW_TOKEN", "PULUMI_CONFIG_PASSPHRASE"):
        assert token not in text, token
    (run,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert run["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert run["with"]["stack-name"] == "${{ inputs.stack }}"
    (surface,) = [s for s in job["steps"] if s.get("name") == "surface policy violations"]
    assert "inputs.command == 'preview'" in surface["if"]
    assert surface["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    (credentials,) = [s for s in job["steps"] if "configure-aws-credentials" in str(s.get("uses", ""))]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"


def test_every_stack_is_previewed_on_pull_requests_and_deployed_from_main(cfg: SharedServicesConfig) -> None:
    calls = calls_per_stack()
    assert set(calls) == {(command, stack) for stack in cfg.environments for command in ("preview", "up")}
    jobs = pulumi_calls()
    for name, job in jobs.items():
        command = job["with"]["command"]
        if command == "preview":
            assert job["if"] == "github.event_name == 'pull_request'", name
        elif "if" in job:
            assert job["if"] == "github.event_name == 'push'", name
        else:
            assert jobs[job["needs"]]["with"]["command"] == "up", f"{name} runs only after a deploy"
    assert set(triggers(workflow("platform.yml"))["push"]["branches"]) == {DEPLOY_BRANCH}


def test_preview_and_deploy_never_share_a_concurrency_group() -> None:
    job = workflow("pulumi.yml")["jobs"]["pulumi"]
    assert job["concurrency"]["group"] == "pulumi-${{ inputs.command }}-${{ inputs.stack }}"
    assert job["concurrency"]["cancel-in-progress"] is False


def test_environment_stacks_run_on_their_in_vpc_codebuild_runners(cfg: SharedServicesConfig) -> None:
    job = workflow("pulumi.yml")["jobs"]["pulumi"]
    runs_on = " ".join(str(job["runs-on"]).split())
    assert runs_on == (
        "${{ inputs.runner-project != '' && format('codebuild-{0}-{1}-{2}', inputs.runner-project, github.run_id, "
        "github.run_attempt) || 'ubuntu-24.04' }}"
    )
    for (command, stack), values in calls_per_stack().items():
        profile = cfg.environments[stack]
        project = values.get("runner-project", "")
        if profile.kind == WORKLOAD:
            # components/runners names its CodeBuild project ctx.namer.physical("gha-runner").
            assert project == Namer(cfg.name_prefix, stack).physical("gha-runner"), (command, stack)
        else:
            assert project == "", f"{stack} has no VPC runner: GitHub-hosted"


def test_no_job_holds_pull_requests_write() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            assert (job.get("permissions") or {}).get("pull-requests") != "write", f"{path.name}: {name}"
    step = next(s for s in workflow("pulumi.yml")["jobs"]["pulumi"]["steps"] if "pulumi/actions" in s.get("uses", ""))
    assert step["with"]["comment-on-pr"] is False
    assert step["with"]["comment-on-summary"] is True


def test_the_deploy_pull_request_is_opened_by_a_github_app() -> None:
    doc = workflow("app-hello.yml")
    job = doc["jobs"]["gitops"]
    assert job["environment"] == GITOPS_ENVIRONMENT, "the App's key is readable from main only"
    assert job["permissions"] == {"contents": "read"}, "the job token writes nothing"
    app = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/create-github-app-token@"))
    assert app["uses"] == APP_TOKEN_ACTION
    assert app["with"]["private-key"] == "${{ secrets.DEPLOY_PR_APP_PRIVATE_KEY }}"
    assert {k: v for k, v in app["with"].items() if k.startswith("permission-")} == {
        "permission-contents": "write",
        "permission-pull-requests": "write",
    }
    opener = next(s for s in job["steps"] if "gh pr create" in s.get("run", ""))
    assert opener["env"]["GH_TOKEN"] == f"${{{{ steps.{app['id']}.outputs.token }}}}"
    assert "github.token" not in str(job)
    assert "GITHUB_TOKEN" not in str(job)
    checkout = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_shared_services_deploys_get_the_platform_app_token_for_the_github_provider() -> None:
    job = workflow("pulumi.yml")["jobs"]["pulumi"]
    (app,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/create-github-app-token@")]
    assert app["uses"] == APP_TOKEN_ACTION
    assert app["if"] == "inputs.command == 'up' && vars.PLATFORM_APP_CLIENT_ID != ''"
    step = next(s for s in job["steps"] if "pulumi/actions" in s.get("uses", ""))
    assert step["env"]["GITHUB_TOKEN"] == f"${{{{ steps.{app['id']}.outputs.token }}}}"


def test_zizmor_runs_offline_in_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (test_line,) = [line for line in makefile.splitlines() if line.startswith("test:")]
    assert "zizmor" in test_line.split("##")[0].split()
    assert re.search(r"^\t\$\(VENV\)/bin/zizmor --offline .*\.github/workflows$", makefile, re.MULTILINE)


# ---------------------------------------------------------------------------------------------------------------------
# CODEOWNERS


def owners_of(path: str, lines: list[tuple[str, list[str]]]) -> list[str]:
    """The owners of `path`: the last matching line wins (anchored directory and file patterns, and `*`)."""
    found: list[str] = []
    for pattern, owners in lines:
        if pattern == "*":
            matches = True
        elif pattern.endswith("/"):
            matches = f"/{path}".startswith(pattern)
        else:
            matches = f"/{path}" == pattern
        if matches:
            found = owners
    return found


def test_code_owners_guard_deploy_rules_production_and_guardrails() -> None:
    text = (ROOT / ".github" / "CODEOWNERS").read_text()
    lines = [(parts[0], parts[1:]) for line in text.splitlines() if (parts := line.split("#", 1)[0].split())]
    security = "@acme/security-team"
    for path in (
        ".github/workflows/pulumi.yml",
        ".github/CODEOWNERS",
        "policy/__main__.py",
        "Pulumi.prod.yaml",
        "Pulumi.shared-services.yaml",
        "components/github/component.py",
        "components/ci/github.py",
    ):
        assert owners_of(path, lines) == [security], path
    for path in ("Pulumi.stg.yaml", "components/network/component.py", "README.md"):
        assert owners_of(path, lines) == ["@acme/platform-team"], path
    assert all(pattern == "*" or pattern.startswith("/") for pattern, _ in lines), "anchored patterns only"
