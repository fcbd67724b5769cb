"""PlatformRepository: the platform repository's GitHub side, so who may deploy is code, reviewed like code.

Creates, in the platform repository (`githubRepository`, through the GitHub provider `github_provider()`):
- per stack of the profiles table (every workload environment and shared-services):
  - the deploy environment `<stack>`: deployments only from `main` (a custom branch policy with the pattern `main`, not
    "protected branches", which any protected branch would satisfy); required reviewers (`github.deployReviewers`,
    self-review refused) where the profile is `production` and on shared-services; admins may not bypass either rule;
  - the preview environment `<stack>-preview`: no branch rule (pull requests run in it) and no reviewers;
  - in each, the variables the reusable workflow reads: `AWS_ROLE_ARN` (the stack's deployer, respectively
    previewer, role, in the account its CI roles live in), `AWS_REGION` and `PULUMI_BACKEND_URL` (the state bucket);
- the environment `gitops` (`main` only, no reviewers), which holds the GitHub App that opens the app pipeline's
  deploy pull requests, so no pull request's workflow can read that App's key;
- the repository's OIDC subject template (`components/ci/github.py` SUBJECT_CLAIM_KEYS: repo, context,
  job_workflow_ref), so a deployer's trust can name the reviewed workflow on `main`, not only the environment;
- the Actions workflow permissions: the job token read-only by default, and it may not approve pull requests;
- branch protection on `main`: a pull request with an approval, code owners' review (.github/CODEOWNERS), the most
  recent push approved by someone other than its pusher, stale approvals dismissed; for admins too, no force push,
  no deletion.

Secrets are not created here (their values must never be in a stack): the operator puts the GitHub Apps' private keys
into the environments (docs/runbooks/bootstrap.md). There is no Pulumi token: state lives in the platform's S3 bucket,
and the role a job assumes decides what it may read (a previewer: its stack's state) or write (a deployer: its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_github as github

from components.ci.github import SUBJECT_CLAIM_KEYS
from components.github.config import DeployReviewers
from core.component import PlatformComponent
from core.context import StackContext
from core.profiles import SHARED_SERVICES, EnvironmentProfile

TYPE = "aws-platform:platform:PlatformRepository"

DEPLOY_BRANCH = "main"
"""The only branch that may deploy (components/ci/github.py `deploy_subject` names the same ref)."""
PREVIEW_SUFFIX = "-preview"
GITOPS_ENVIRONMENT = "gitops"
"""The environment of the app pipeline's deploy-pull-request job (.github/workflows/app-hello.yml `gitops`)."""


def github_provider(repository: str, *, name: str = "github") -> github.Provider:
    """The GitHub provider of the platform repository's owner. Its token is read from the environment variable
    `GITHUB_TOKEN` (never from stack config): a token that administers the repository (README, "Bootstrap")."""
    owner = repository.split("/", 1)[0]
    return github.Provider(name, owner=owner)


@dataclass(frozen=True, kw_only=True)
class Environment:
    """One GitHub environment of the platform repository and the rules it gets."""

    name: str
    stack: str
    deploy: bool
    """A deploy environment (`main` only); otherwise a preview environment (any ref)."""
    reviewed: bool
    """Deploy jobs wait for an approval by one of the deploy reviewers."""
    role_name: str
    account_id: str


def environments(
    profiles: Mapping[str, EnvironmentProfile],
    *,
    deployer_role_name: str,
    previewer_role_name: str,
    ci_account_ids: Mapping[str, str] | None = None,
) -> list[Environment]:
    """The deploy and preview environment of every stack of the profiles table, in table order. A deploy environment is
    reviewed where its profile is `production`, and always for shared-services (it administers every account).
    `ci_account_ids` names the account of a stack's CI roles where it is not the profile's (shared-services: the
    management account, where the organization stack runs)."""
    found: list[Environment] = []
    for stack, profile in profiles.items():
        account_id = (ci_account_ids or {}).get(stack, profile.account_id)
        reviewed = profile.production or profile.kind == SHARED_SERVICES
        found.append(
            Environment(
                name=stack,
                stack=stack,
                deploy=True,
                reviewed=reviewed,
                role_name=deployer_role_name,
                account_id=account_id,
            )
        )
        found.append(
            Environment(
                name=f"{stack}{PREVIEW_SUFFIX}",
                stack=stack,
                deploy=False,
                reviewed=False,
                role_name=previewer_role_name,
                account_id=account_id,
            )
        )
    names = [e.name for e in found]
    if GITOPS_ENVIRONMENT in names or len(set(names)) != len(names):
        raise ValueError(f"GitHub environment names collide: {sorted(names)} (and {GITOPS_ENVIRONMENT})")
    return found


@dataclass(frozen=True, kw_only=True)
class PlatformRepositoryArgs:
    ctx: StackContext
    repository: str
    """owner/name of the platform repository (`githubRepository`)."""
    profiles: Mapping[str, EnvironmentProfile]
    deployer_role_name: str
    previewer_role_name: str
    ci_account_ids: Mapping[str, str]
    """Stack -> the account of its CI roles (the `AWS_ROLE_ARN` of its environments)."""
    backend_url: str
    """`PULUMI_BACKEND_URL` of every environment: the state bucket (`pulumi login` URL); there is no Pulumi token, the
    role's own grants on its stack's state decide what a job may read or write."""
    reviewers: DeployReviewers
    region: str
    """`AWS_REGION` of every environment: where the job exchanges its OIDC token (each stack's program still uses its
    own configured region)."""


class PlatformRepository(PlatformComponent):
    environment_names: list[str]
    role_arns: dict[str, str]
    """GitHub environment -> the `AWS_ROLE_ARN` it holds."""

    def __init__(self, name: str, args: PlatformRepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts, legacy_aliases=False)
        repo = args.repository.split("/", 1)[1]
        self.environment_names, self.role_arns = [], {}
        reviewers = [
            github.RepositoryEnvironmentReviewerArgs(teams=list(args.reviewers.teams), users=list(args.reviewers.users))
        ]
        for env in environments(
            args.profiles,
            deployer_role_name=args.deployer_role_name,
            previewer_role_name=args.previewer_role_name,
            ci_account_ids=args.ci_account_ids,
        ):
            environment = self._environment(
                repo, env.name, deploy=env.deploy, reviewers=reviewers if env.reviewed else None
            )
            role_arn = args.ctx.for_account(env.account_id).arn("iam", f"role/{env.role_name}", region="")
            variables = (
                ("AWS_ROLE_ARN", role_arn),
                ("AWS_REGION", args.region),
                ("PULUMI_BACKEND_URL", args.backend_url),
            )
            for variable, value in variables:
                key = f"{env.name}-{variable.lower().replace('_', '-')}"
                github.ActionsEnvironmentVariable(
                    self.child_name(key),
                    repository=repo,
                    environment=environment.environment,
                    variable_name=variable,
                    value=value,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            self.environment_names.append(env.name)
            self.role_arns[env.name] = role_arn
        self._environment(repo, GITOPS_ENVIRONMENT, deploy=True, reviewers=None)

        github.ActionsRepositoryOidcSubjectClaimCustomizationTemplate(
            self.child_name("oidc-subject"),
            repository=repo,
            use_default=False,
            include_claim_keys=list(SUBJECT_CLAIM_KEYS),
            opts=pulumi.ResourceOptions(parent=self),
        )
        github.WorkflowRepositoryPermissions(
            self.child_name("workflow-permissions"),
            repository=repo,
            default_workflow_permissions="read",
            can_approve_pull_request_reviews=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        github.BranchProtection(
            self.child_name(DEPLOY_BRANCH),
            repository_id=repo,
            pattern=DEPLOY_BRANCH,
            enforce_admins=True,
            allows_force_pushes=False,
            allows_deletions=False,
            required_pull_request_reviews=[
                github.BranchProtectionRequiredPullRequestReviewArgs(
                    required_approving_review_count=1,
                    require_code_owner_reviews=True,
                    require_last_push_approval=True,
                    dismiss_stale_reviews=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"environments": self.environment_names, "roleArns": self.role_arns})

    def _environment(
        self,
        repo: str,
        name: str,
        *,
        deploy: bool,
        reviewers: Sequence[github.RepositoryEnvironmentReviewerArgs] | None,
    ) -> github.RepositoryEnvironment:
        """Environment `name`; a deploy environment accepts jobs from `main` only (a custom branch policy)."""
        environment = github.RepositoryEnvironment(
            self.child_name(name),
            repository=repo,
            environment=name,
            deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                protected_branches=False, custom_branch_policies=True
            )
            if deploy
            else None,
            reviewers=list(reviewers) if reviewers else None,
            prevent_self_review=True if reviewers else None,
            can_admins_bypass=False if deploy else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if deploy:
            github.RepositoryEnvironmentDeploymentPolicy(
                self.child_name(f"{name}-{DEPLOY_BRANCH}"),
                repository=repo,
                environment=environment.environment,
                branch_pattern=DEPLOY_BRANCH,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return environment
