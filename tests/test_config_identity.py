"""The `identity` section of the environment stacks: the Identity Center roles of the account and what developers may
do, which the environment's profile decides (`sandbox: true`: edit), not its name."""

from __future__ import annotations

from typing import Any

import pytest

from components.access.config import EKS_MAPPED_SETS, IdentityConfig
from core.loading import Problem, Problems, validate
from core.profiles import EnvironmentProfile
from core.schema import Model, ValidationContext
from tests.test_config import parse_stack, problems_of

P = "aws-platform"
ACCOUNT = "321098765432"


def profile(**flags: Any) -> EnvironmentProfile:
    return EnvironmentProfile.model_validate(
        {"accountId": ACCOUNT, "accountEmail": "aws+env@example.com", "ou": "workloads/env", **flags}
    )


def context(environment: str | None, env_profile: EnvironmentProfile | None) -> ValidationContext:
    profiles = {environment: env_profile} if environment and env_profile else {}
    return ValidationContext(
        stack=environment, environment=environment, profile=env_profile, profiles=profiles, account_id=ACCOUNT
    )


def arn(name: str, account: str = ACCOUNT) -> str:
    return (
        f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_{name}_0123456789abcdef"
    )


ROLES = {name: arn(name) for name in EKS_MAPPED_SETS}


class EnvironmentSections(Model):
    """The section as an environment stack holds it (the value of its key), so problem paths are the stack's."""

    identity: IdentityConfig


def check(data: dict[str, Any], ctx: ValidationContext) -> tuple[IdentityConfig | None, list[Problem]]:
    """The section validated as the value of the stack key `identity`, as an environment stack validates it."""
    problems = Problems()
    parsed = validate(EnvironmentSections, {"identity": data}, context=ctx, project=P, problems=problems)
    return (parsed.identity if parsed is not None else None), problems.items


def accepted(data: dict[str, Any], ctx: ValidationContext) -> IdentityConfig:
    identity, problems = check(data, ctx)
    assert problems == []
    assert identity is not None
    return identity


def refused(data: dict[str, Any], ctx: ValidationContext) -> str:
    identity, problems = check(data, ctx)
    assert identity is None
    assert problems
    return "\n".join(map(str, problems))


# ---------------------------------------------------------------------------------------------------------------------
# developerAccess: edit only where the profile says sandbox


@pytest.mark.parametrize(
    ("environment", "env_profile"),
    [
        ("sandbox", profile(sandbox=True)),
        ("lab", profile(sandbox=True)),  # any name: the flag decides
        (None, None),  # validated alone: the rule needs a profile and skips
    ],
)
def test_developers_may_edit_where_the_profile_is_a_sandbox(
    environment: str | None, env_profile: EnvironmentProfile | None
) -> None:
    identity = accepted({"ssoRoleArns": ROLES, "developerAccess": "edit"}, context(environment, env_profile))
    assert identity.developer_access == "edit"


@pytest.mark.parametrize(
    ("environment", "env_profile"),
    [
        ("prod", profile(production=True, highlyAvailable=True)),
        ("stg", profile(highlyAvailable=True)),
        ("sandbox", profile()),  # called sandbox, but its profile is not one
        ("perf", profile()),  # a workload environment that is neither strict nor a sandbox
    ],
)
def test_developers_only_read_where_the_profile_is_not_a_sandbox(
    environment: str, env_profile: EnvironmentProfile
) -> None:
    message = refused({"ssoRoleArns": ROLES, "developerAccess": "edit"}, context(environment, env_profile))
    assert f'{P}:identity.developerAccess: got "edit"; allowed: view (developers only read in {environment})' in message
    assert accepted({"ssoRoleArns": ROLES}, context(environment, env_profile)).developer_access == "view"


def test_the_stack_files_follow_their_profiles() -> None:
    sandbox = parse_stack("sandbox").identity
    assert sandbox is not None
    assert sandbox.developer_access == "edit"
    assert "developers only read in stg" in problems_of("stg", {"identity.developerAccess": "edit"})


def test_developer_access_is_view_or_edit() -> None:
    message = refused({"ssoRoleArns": ROLES, "developerAccess": "write"}, context(None, None))
    assert f'{P}:identity.developerAccess: got "write"; allowed: one of view' in message
    assert "edit" in message


# ---------------------------------------------------------------------------------------------------------------------
# ssoRoleArns


def test_roles_read_back_by_permission_set() -> None:
    identity = accepted({"ssoRoleArns": ROLES}, context("stg", profile()))
    assert identity.sso_role_arns == ROLES
    assert list(identity.sso_role_arns) == list(EKS_MAPPED_SETS)


@pytest.mark.parametrize(
    ("roles", "fragments"),
    [
        ({**ROLES, "Developer": arn("ReadOnly")}, ["identity.ssoRoleArns.Developer", "AWSReservedSSO_Developer_"]),
        ({**ROLES, "PlatformAdmin": arn("PlatformAdmin", "999999999999")}, ["ssoRoleArns.PlatformAdmin", ACCOUNT]),
        ({k: v for k, v in ROLES.items() if k != "PlatformEngineer"},
         ["identity.ssoRoleArns.PlatformEngineer: missing", "AWSReservedSSO_PlatformEngineer_<id>"]),
        ({**ROLES, "ReadOnly": arn("ReadOnly")}, ["identity.ssoRoleArns.ReadOnly", "no such key"]),
    ],
)  # fmt: skip
def test_roles_are_this_accounts_roles_of_their_set(roles: dict[str, str], fragments: list[str]) -> None:
    message = refused({"ssoRoleArns": roles}, context("stg", profile()))
    for fragment in fragments:
        assert fragment in message
