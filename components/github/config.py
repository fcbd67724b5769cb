"""The `github` section of the shared-services stack: who approves a deploy of a reviewed environment."""

from __future__ import annotations

from pydantic import field_validator, model_validator

from core.schema import Int, Model

MAX_REVIEWERS = 6
"""GitHub accepts at most six reviewers (users and teams together) on an environment's required-reviewers rule."""


class DeployReviewers(Model):
    """GitHub teams and users who may approve a deploy job of a reviewed environment. One approval lets the job run; the
    person who started the run may not approve it."""

    teams: tuple[Int, ...] = ()
    """Numeric ids of GitHub teams (`gh api orgs/<org>/teams/<team-slug> --jq .id`); each needs read access to the
    platform repository."""
    users: tuple[Int, ...] = ()
    """Numeric ids of GitHub users (`gh api users/<login> --jq .id`); each needs read access to the platform
    repository."""

    @field_validator("teams", "users")
    @classmethod
    def _ids(cls, ids: tuple[int, ...]) -> tuple[int, ...]:
        if any(i <= 0 for i in ids) or len(set(ids)) != len(ids):
            raise ValueError("positive numeric GitHub ids, each once")
        return ids

    @model_validator(mode="after")
    def _some_reviewer(self) -> DeployReviewers:
        count = len(self.teams) + len(self.users)
        if count == 0:
            raise ValueError("at least one reviewer (a team or a user id): a reviewed environment must be approvable")
        if count > MAX_REVIEWERS:
            raise ValueError(f"at most {MAX_REVIEWERS} reviewers in all (teams and users), GitHub's limit")
        return self


class GithubConfig(Model):
    """The platform repository's GitHub side: deployment environments, their reviewers, branch protection and the
    OIDC subject (components/github). The repository is the organisation-wide `githubRepository`."""

    deploy_reviewers: DeployReviewers
    """Required reviewers of the deploy environments of production profiles and of shared-services:
    `{teams: [<team id>], users: [<user id>]}`, at least one and at most six in all."""
