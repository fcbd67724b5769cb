"""The sections of the shared-services stack: `organization`, `identityCenter`, `ci` and `artifacts`.

Each section is validated the way a stack validates it, as the value of its key (so problem paths read
`aws-platform:organization.accounts`), against the project's environment table or a table with a fifth environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel, Field

from components.artifacts.config import ArtifactsConfig
from components.ci.config import CiConfig
from components.ci.github import github_trust, subject_kind, valid_subject
from components.identity_center.component import IdentityCenter, IdentityCenterArgs
from components.identity_center.config import PERMISSION_SETS, IdentityCenterConfig
from components.identity_center.permission_sets import permission_sets
from components.organization import scp
from components.organization.component import Organization, OrganizationArgs
from components.organization.config import Account, OrganizationConfig
from core.loading import Problem, Problems, validate
from core.profiles import EnvironmentProfile, ou_layout
from core.schema import Model, ValidationContext
from tests.iam_data import statements
from tests.support import build, shared_config
from tests.test_config import parse_shared, problems_of, raw_config

P = "aws-platform"
SHARED = "shared-services"
MANAGEMENT = "109876543210"
PROFILES = dict(shared_config().environments)
FIFTH = {
    **PROFILES,
    "perf": EnvironmentProfile.model_validate(
        {"accountId": "543210987654", "accountEmail": "aws+perf@example.com", "ou": "workloads/perf"}
    ),
}
"""Today's table and a fifth workload environment (not a sandbox)."""
TWO_SANDBOXES = {
    **PROFILES,
    "lab": EnvironmentProfile.model_validate(
        {"accountId": "654321098765", "accountEmail": "aws+lab@example.com", "ou": "workloads/lab", "sandbox": True}
    ),
}

ORGANIZATION = {"rootId": "r-a1b2", "createAccounts": False, "alertEmails": ["security@example.com"]}
GROUPS = {name: [name] for name in PERMISSION_SETS}
ASSIGNMENTS = {"PlatformAdmin": ["all"], "Developer": ["workloads"], "BreakGlass": ["all"]}
PUBLISHER = ["repo:acme/shop:ref:refs/heads/main"]
EXEMPTIONS = scp.Exemptions(break_glass_permission_set="BreakGlass", deployer_role="d", previewer_role="p",
                            pipeline_role="o")  # fmt: skip
STATE = scp.ProtectedState(partition="aws", region="eu-west-1", account_id="111122223333", bucket_name="state",
                           secrets_alias_prefix="alias/p/s/pulumi-secrets")  # fmt: skip


def context(profiles: Mapping[str, EnvironmentProfile] = PROFILES, account_id: str = MANAGEMENT) -> ValidationContext:
    return ValidationContext(
        stack=SHARED,
        environment=SHARED,
        profile=profiles.get(SHARED),
        profiles=profiles,
        region="eu-west-1",
        account_id=account_id,
    )


class SharedServicesSections(Model):
    """The four sections as a stack holds them (each the value of its key), so problem paths are the stack's."""

    organization: OrganizationConfig | None = None
    identity_center: IdentityCenterConfig | None = Field(default=None, alias="identityCenter")
    ci: CiConfig | None = None
    artifacts: ArtifactsConfig | None = None


def check(
    model: type[BaseModel], key: str, data: Mapping[str, Any], ctx: ValidationContext | None = None
) -> tuple[Any, list[Problem]]:
    """(the section, problems) of `data` validated as the value of stack key `key`, as a stack validates it."""
    problems = Problems()
    parsed = validate(SharedServicesSections, {key: dict(data)}, context=ctx or context(), project=P, problems=problems)
    field = next(name for name, f in SharedServicesSections.model_fields.items() if key in (name, f.alias))
    section = getattr(parsed, field) if parsed is not None else None
    assert section is None or isinstance(section, model)
    return section, problems.items


def accepted(model: type[BaseModel], key: str, data: Mapping[str, Any], ctx: ValidationContext | None = None) -> Any:
    section, problems = check(model, key, data, ctx)
    assert problems == [], problems
    return section


def refused(model: type[BaseModel], key: str, data: Mapping[str, Any], ctx: ValidationContext | None = None) -> str:
    section, problems = check(model, key, data, ctx)
    assert section is None
    assert problems
    return "\n".join(map(str, problems))


# ---------------------------------------------------------------------------------------------------------------------
# organization: the member accounts are the environments' rows


def test_the_stack_file_parses_and_takes_its_accounts_from_the_environments() -> None:
    org = parse_shared().organization
    assert org is not None
    assert org.accounts == {
        name: Account(key=name, id=p.account_id, email=p.account_email) for name, p in PROFILES.items()
    }
    assert list(org.accounts) == ["shared-services", "prod", "stg", "sandbox"]
    assert org.accounts["prod"] == Account(key="prod", id="210987654321", email="aws+prod@example.com")
    assert "accounts" not in json.loads(raw_config(SHARED)[f"{P}:organization"])


def test_organization_defaults() -> None:
    org = accepted(OrganizationConfig, "organization", ORGANIZATION)
    assert org.member_access_role == "OrganizationAccountAccessRole"
    assert org.cloudtrail_retention_days == 2557
    assert org.create_accounts is False
    assert "g*" in org.sandbox_denied_instance_types


def test_a_fifth_environment_is_a_member_account_without_an_edit_of_the_section() -> None:
    org = accepted(OrganizationConfig, "organization", ORGANIZATION, context(FIFTH))
    assert org.accounts["perf"] == Account(key="perf", id="543210987654", email="aws+perf@example.com")
    assert org.profiles["perf"].ou == "workloads/perf"


def test_accounts_in_the_stack_file_point_to_the_environments_table() -> None:
    accounts = {"prod": {"id": "210987654321", "email": "aws+prod@example.com"}}
    message = refused(OrganizationConfig, "organization", {**ORGANIZATION, "accounts": accounts})
    assert f"{P}:organization.accounts: got " in message
    assert "Pulumi.yaml `environments`" in message
    assert "accountId and accountEmail" in message


def test_accounts_in_the_stack_file_are_refused_when_the_whole_stack_parses() -> None:
    org = json.loads(raw_config(SHARED)[f"{P}:organization"])
    message = problems_of(SHARED, {"organization": {**org, "accounts": {}}})
    assert f"{P}:organization.accounts" in message
    assert "Pulumi.yaml `environments`" in message


def test_a_member_account_may_not_be_the_management_account() -> None:
    message = refused(OrganizationConfig, "organization", ORGANIZATION, context(account_id="321098765432"))
    assert f'{P}:organization: got "321098765432"' in message
    assert "management account" in message
    assert "environments.stg.accountId" in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"rootId": "root"}, "organization.rootId"),
        ({"cloudTrailRetentionDays": 90}, "at least 365 days"),
        ({"createAccounts": "yes"}, "true or false"),
    ],
)
def test_organization_keeps_its_rules(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in refused(OrganizationConfig, "organization", {**ORGANIZATION, **changes})


# ---------------------------------------------------------------------------------------------------------------------
# organization: OUs and SCP targets from the profiles


def test_ous_and_scp_targets_of_todays_environments() -> None:
    assert ou_layout(PROFILES) == {
        "infrastructure": None, "workloads": None, "prod": "workloads", "stg": "workloads", "sandbox": "workloads"
    }  # fmt: skip
    scps = scp.organization_scps(
        allowed_regions=["eu-west-1"],
        exemptions=EXEMPTIONS,
        partition="aws",
        sandbox_denied_types=["p*"],
        profiles=PROFILES,
        state=STATE,
    )
    targets = {s.name: set(s.targets) for s in scps}
    assert targets.pop("sandbox-cost-guard") == {"sandbox"}
    assert all(t == {"workloads", "infrastructure"} for t in targets.values())
    assert scp.attachments_per_target(scps, ou_layout(PROFILES)) == {
        "infrastructure": 5, "workloads": 5, "prod": 1, "stg": 1, "sandbox": 2
    }  # fmt: skip


def test_the_cost_guard_follows_the_sandbox_flag_not_the_name() -> None:
    assert scp.sandbox_ous(TWO_SANDBOXES) == ("sandbox", "lab")
    assert scp.sandbox_ous(FIFTH) == ("sandbox",)
    not_sandbox = {**PROFILES, "sandbox": PROFILES["sandbox"].model_copy(update={"sandbox": False})}
    assert scp.sandbox_ous(not_sandbox) == ()


def test_the_plan_places_every_account_in_its_profiles_ou() -> None:
    cfg = shared_config()
    org = accepted(OrganizationConfig, "organization", {**ORGANIZATION, "createAccounts": True}, context(FIFTH))

    def body(ctx: Any, opts: Any) -> None:
        Organization(
            "organization",
            OrganizationArgs(
                ctx=ctx,
                config=org,
                allowed_regions=cfg.allowed_regions,
                exemptions=EXEMPTIONS,
                protected_state=STATE,
                log_archive_provider=opts.providers[0],
            ),
            opts=opts,
        )

    resources = build(cfg, body)
    ous = {
        r.outputs["id"]: r.inputs["name"]
        for r in resources.of("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    assert set(ous.values()) == {"infrastructure", "workloads", "prod", "stg", "sandbox", "perf"}
    placed = {r.inputs["email"]: ous[r.inputs["parentId"]] for r in resources.of("aws:organizations/account:Account")}
    assert placed == {p.account_email: p.ou_name for p in FIFTH.values()}


# ---------------------------------------------------------------------------------------------------------------------
# identityCenter: assignments by environment or selector


def test_the_stack_file_uses_the_selectors() -> None:
    ic = json.loads(raw_config(SHARED)[f"{P}:identityCenter"])
    assert ic["assignments"]["BreakGlass"] == ["all"]
    assert ic["assignments"]["Developer"] == ["workloads"]
    parsed = parse_shared().identity_center
    assert parsed is not None
    assert parsed.assignments["BreakGlass"] == ("shared-services", "prod", "stg", "sandbox")
    assert parsed.assignments["Developer"] == ("prod", "stg", "sandbox")


def test_selectors_expand_to_environment_names_and_follow_the_table() -> None:
    ic = accepted(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": ASSIGNMENTS},
                  context(FIFTH))  # fmt: skip
    assert ic.assignments["PlatformAdmin"] == ("shared-services", "prod", "stg", "sandbox", "perf")
    assert ic.assignments["Developer"] == ("prod", "stg", "sandbox", "perf")
    assert ic.assignments["ReadOnly"] == ()
    assert set(ic.groups) == set(PERMISSION_SETS)


def test_environment_names_and_selectors_mix_without_repeats() -> None:
    assignments = {**ASSIGNMENTS, "ReadOnly": ["shared-services", "workloads", "prod"]}
    ic = accepted(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": assignments})
    assert ic.assignments["ReadOnly"] == ("shared-services", "prod", "stg", "sandbox")


def test_breakglass_listed_environment_by_environment_is_accepted() -> None:
    assignments = {**ASSIGNMENTS, "BreakGlass": list(PROFILES)}
    ic = accepted(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": assignments})
    assert ic.assignments["BreakGlass"] == tuple(PROFILES)


def test_breakglass_in_fewer_than_every_environment_is_refused_naming_the_missing_ones() -> None:
    assignments = {**ASSIGNMENTS, "BreakGlass": list(PROFILES)}  # today's four, written out: perf is missing
    message = refused(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": assignments},
                      context(FIFTH))  # fmt: skip
    assert f"{P}:identityCenter.assignments.BreakGlass: got " in message
    assert "(missing: perf)" in message
    message = refused(IdentityCenterConfig, "identityCenter",
                      {"groups": GROUPS, "assignments": {**ASSIGNMENTS, "BreakGlass": ["workloads"]}})  # fmt: skip
    assert "(missing: shared-services)" in message


def test_breakglass_assigned_nowhere_is_refused() -> None:
    assignments = {name: where for name, where in ASSIGNMENTS.items() if name != "BreakGlass"}
    message = refused(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": assignments})
    assert f"{P}:identityCenter.assignments.BreakGlass: got []" in message
    assert "every account" in message


def test_an_unknown_environment_is_refused_with_the_selectors_in_the_message() -> None:
    assignments = {**ASSIGNMENTS, "Developer": ["workloads", "dev"]}
    message = refused(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": assignments})
    assert f'{P}:identityCenter.assignments.Developer[1]: got "dev"' in message
    assert "all or workloads" in message


def test_unknown_permission_sets_and_assigned_sets_without_groups_are_refused() -> None:
    message = refused(IdentityCenterConfig, "identityCenter",
                      {"groups": {**GROUPS, "Admin": ["x"]}, "assignments": ASSIGNMENTS})  # fmt: skip
    assert f"{P}:identityCenter.groups.Admin" in message
    message = refused(IdentityCenterConfig, "identityCenter",
                      {"groups": {**GROUPS, "Developer": []}, "assignments": ASSIGNMENTS})  # fmt: skip
    assert f"{P}:identityCenter.groups.Developer: got []" in message
    assert "assigned in prod, stg, sandbox" in message


# ---------------------------------------------------------------------------------------------------------------------
# Developer's write-in-sandbox grant: every account whose profile says sandbox


def _write_grant(sandbox_ids: list[str]) -> dict[str, Any] | None:
    (developer,) = [p for p in permission_sets(sandbox_ids) if p.name == "Developer"]
    document = developer.inline_document()
    assert document is not None
    return next((st for st in statements(json.loads(document)) if st["Sid"] == "WriteInSandboxOnly"), None)


def test_permission_sets_are_the_ones_the_config_names() -> None:
    assert [p.name for p in permission_sets(["432109876543"])] == list(PERMISSION_SETS)


def test_developers_write_in_every_sandbox_account() -> None:
    one = _write_grant(["432109876543"])
    assert one is not None
    assert one["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "432109876543"}}
    two = _write_grant(["654321098765", "432109876543"])
    assert two is not None
    assert two["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ["432109876543", "654321098765"]}}


def test_developers_write_nowhere_without_a_sandbox() -> None:
    assert _write_grant([]) is None


def test_identity_center_grants_write_in_the_accounts_of_sandbox_profiles() -> None:
    cfg = shared_config()
    org = accepted(OrganizationConfig, "organization", ORGANIZATION, context(TWO_SANDBOXES))
    ic = accepted(IdentityCenterConfig, "identityCenter", {"groups": GROUPS, "assignments": ASSIGNMENTS},
                  context(TWO_SANDBOXES))  # fmt: skip

    def body(ctx: Any, opts: Any) -> None:
        IdentityCenter("identity-center", IdentityCenterArgs(ctx=ctx, config=ic, organization=org), opts=opts)

    resources = build(cfg, body)
    developer = resources.named("aws:ssoadmin/permissionSet:PermissionSet", "identity-center-Developer")
    (inline,) = [
        r
        for r in resources.of("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy")
        if r.inputs["permissionSetArn"] == developer.outputs["arn"]
    ]
    write = next(
        st for st in statements(json.loads(inline.inputs["inlinePolicy"])) if st["Sid"] == "WriteInSandboxOnly"
    )
    assert write["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ["432109876543", "654321098765"]}}
    targets = {a.inputs["targetId"] for a in resources.of("aws:ssoadmin/accountAssignment:AccountAssignment")
               if a.name.startswith("identity-center-BreakGlass-")}  # fmt: skip
    assert targets == {p.account_id for p in TWO_SANDBOXES.values()}


# ---------------------------------------------------------------------------------------------------------------------
# ci: the image publisher's subjects are the forms GitHub documents for code on a branch or a tag


@pytest.mark.parametrize(
    "subject",
    [
        "repo:acme/shop:ref:refs/heads/main",
        "repo:acme/shop:ref:refs/heads/release/2026.1",
        "repo:acme/shop:ref:refs/tags/v*",
        "repo:acme/shop:ref:refs/tags/v1.2.3",
        "repo:acme@123456/shop@456789:ref:refs/heads/main",  # GitHub's immutable subject (owner and repository ids)
    ],
)
def test_branch_and_tag_subjects_may_publish(subject: str) -> None:
    ci = accepted(CiConfig, "ci", {"imagePublishers": {"shop": [subject]}})
    assert ci.image_publishers == {"shop": (subject,)}


@pytest.mark.parametrize(
    ("subject", "fragments"),
    [
        ("repo:acme/shop:pull_request", ["not pull_request", "unreviewed code could push images"]),
        ("repo:acme/shop:environment:prod", ["not environment", "could not tell which ref built the image"]),
        ("repo:acme/*:ref:refs/heads/main", ["one repository"]),
        ("repo:*/shop:ref:refs/tags/v*", ["one repository"]),
        ("repo:acme/shop:ref:refs/heads/*", ["ref:refs/heads/<branch>"]),
        ("repo:acme/shop:*", ["ref:refs/tags/<pattern>"]),
        ("acme/shop", ["ref:refs/heads/<branch>"]),
    ],
)
def test_other_subjects_may_not_publish(subject: str, fragments: list[str]) -> None:
    message = refused(CiConfig, "ci", {"imagePublishers": {"shop": ["repo:acme/hello:ref:refs/heads/main", subject]}})
    assert f'{P}:ci.imagePublishers.shop[1]: got "{subject}"' in message
    for fragment in fragments:
        assert fragment in message


def test_pull_request_subjects_are_refused_in_the_stack_file() -> None:
    message = problems_of(SHARED, {"ci.imagePublishers": {"shop": ["repo:acme/shop:pull_request"]}})
    assert f"{P}:ci.imagePublishers.shop[0]" in message
    assert "not pull_request" in message


def test_the_publisher_needs_a_subject() -> None:
    assert "at least one subject" in refused(CiConfig, "ci", {"imagePublishers": {"shop": []}})


def test_the_deployer_trust_still_takes_environment_subjects() -> None:
    subject = "repo:acme/aws-platform:environment:prod"
    assert subject_kind(subject) == "environment"
    assert valid_subject(subject) is None
    assert subject in github_trust("arn:aws:iam::111122223333:oidc-provider/x", [subject])
    with pytest.raises(ValueError, match="refusing"):
        github_trust("arn:aws:iam::111122223333:oidc-provider/x", ["repo:acme/*:environment:prod"])


# ---------------------------------------------------------------------------------------------------------------------
# artifacts


def test_artifacts_defaults() -> None:
    artifacts = accepted(ArtifactsConfig, "artifacts", {"repositories": ["shop", "team/hello"]})
    assert (artifacts.keep_tagged_images, artifacts.expire_untagged_days) == (100, 7)
    assert artifacts.enhanced_scanning is True
    assert artifacts.state_noncurrent_version_days == 90


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"repositories": ["Shop"]}, ["artifacts.repositories[0]", "lowercase ECR repository names"]),
        ({"repositories": ["shop", "shop"]}, ["artifacts.repositories", "each repository once"]),
        ({"keepTaggedImages": 0}, ["artifacts.keepTaggedImages", "1-1000"]),
        ({"expireUntaggedDays": 400}, ["artifacts.expireUntaggedDays", "1-365"]),
        ({"stateNoncurrentVersionDays": 7}, ["artifacts.stateNoncurrentVersionDays", "at least 30 days"]),
        ({"enhancedScanning": "yes"}, ["artifacts.enhancedScanning", "true or false"]),
    ],
)
def test_artifacts_keep_their_rules(changes: dict[str, Any], fragments: list[str]) -> None:
    message = refused(ArtifactsConfig, "artifacts", {"repositories": ["shop"], **changes})
    for fragment in fragments:
        assert fragment in message
