"""Sections of the shared-services stack (`organization`, `identityCenter`, `ci`, `artifacts`) and the `identity`
section of the environment stacks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.access import valid_subject
from core.environments import ACCOUNT_ID, STRICT_ENVIRONMENTS, WORKLOAD_ENVIRONMENTS
from core.validation import Section

MEMBER_ACCOUNTS = ("shared-services", *WORKLOAD_ENVIRONMENTS)
PERMISSION_SETS = ("PlatformAdmin", "PlatformEngineer", "Developer", "ReadOnly", "BreakGlass")
EKS_MAPPED_SETS = ("PlatformAdmin", "PlatformEngineer", "Developer")
DEVELOPER_ACCESS = ("view", "edit")
DEFAULT_SANDBOX_DENIED_TYPES = ("dl*", "f1.*", "g*", "hpc*", "inf*", "p*", "trn*", "u-*", "vt1.*", "x*",
                                "*.metal*", "*.24xlarge", "*.32xlarge", "*.48xlarge")  # fmt: skip
_ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REPO_NAME = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*$")
_GROUP = re.compile(r"^[\w\s.+=@-]{1,128}$")
_SSO_ROLE = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::(?P<account>\d{12}):role/aws-reserved/sso\.amazonaws\.com/(?:[a-z0-9-]+/)?"
    r"AWSReservedSSO_(?P<set>[A-Za-z]+)_[0-9a-f]{16}$"
)


@dataclass(frozen=True, kw_only=True)
class Account:
    key: str
    id: str
    email: str


@dataclass(frozen=True, kw_only=True)
class OrganizationConfig:
    root_id: str
    create_accounts: bool
    accounts: dict[str, Account]
    member_access_role: str
    sandbox_denied_instance_types: tuple[str, ...]
    cloudtrail_retention_days: int


@dataclass(frozen=True, kw_only=True)
class IdentityCenterConfig:
    groups: dict[str, tuple[str, ...]]
    """Permission set -> IdP group display names (looked up in the identity store)."""
    assignments: dict[str, tuple[str, ...]]
    """Permission set -> account keys it is assigned in."""


@dataclass(frozen=True, kw_only=True)
class CiConfig:
    image_publisher_subjects: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ArtifactsConfig:
    repositories: tuple[str, ...]
    keep_tagged_images: int
    expire_untagged_days: int
    enhanced_scanning: bool
    state_noncurrent_version_days: int


@dataclass(frozen=True, kw_only=True)
class IdentityConfig:
    """Environment stacks: EKS access for the roles Identity Center provisions in this account."""

    sso_role_arns: dict[str, str]
    developer_access: str


def parse_organization(sec: Section, *, stack_account: str | None) -> OrganizationConfig | None:
    root_id = sec.string("rootId", allowed="the organization root id, r-xxxx (aws organizations list-roots)")
    create = sec.boolean("createAccounts", default=False)
    member_role = sec.string("memberAccessRoleName", default="OrganizationAccountAccessRole")
    denied = sec.string_list("sandboxDeniedInstanceTypes", default=list(DEFAULT_SANDBOX_DENIED_TYPES))
    trail_days = sec.integer("cloudTrailRetentionDays", default=2557, allowed="days to keep trail logs, >= 365")
    acc_sec = sec.obj("accounts")
    accounts: dict[str, Account] = {}
    ok = acc_sec is not None
    if acc_sec is not None:
        for key in MEMBER_ACCOUNTS:
            one = acc_sec.obj(key)
            if one is None:
                ok = False
                continue
            account_id = one.string("id", allowed="a 12-digit account id, quoted")
            email = one.string("email", allowed="the account's root e-mail address")
            one.finish()
            if account_id is not None and not ACCOUNT_ID.match(account_id):
                one.bad("id", account_id, "exactly 12 digits")
                account_id = None
            if account_id is not None and account_id == stack_account:
                one.bad("id", account_id, "a member account, not the management account this stack runs in")
                account_id = None
            if email is not None and not _EMAIL.match(email):
                one.bad("email", email, "an e-mail address")
                email = None
            if account_id is None or email is None:
                ok = False
            else:
                accounts[key] = Account(key=key, id=account_id, email=email)
        acc_sec.finish()
        ids = [a.id for a in accounts.values()]
        if len(set(ids)) != len(ids):
            sec.bad("accounts", ids, "a different account for each environment")
            ok = False
    sec.finish()
    if root_id is not None and not _ROOT_ID.match(root_id):
        sec.bad("rootId", root_id, "an organization root id such as r-ab12")
        root_id = None
    if trail_days is not None and trail_days < 365:
        sec.bad("cloudTrailRetentionDays", trail_days, "at least 365 days")
    if None in (root_id, create, member_role, denied, trail_days) or not ok:
        return None
    assert root_id is not None and create is not None and member_role is not None and denied is not None
    assert trail_days is not None
    return OrganizationConfig(
        root_id=root_id,
        create_accounts=create,
        accounts=accounts,
        member_access_role=member_role,
        sandbox_denied_instance_types=tuple(denied),
        cloudtrail_retention_days=trail_days,
    )


def parse_identity_center(sec: Section) -> IdentityCenterConfig | None:
    groups_sec = sec.obj("groups")
    assignments_sec = sec.obj("assignments")
    sec.finish()
    groups: dict[str, tuple[str, ...]] = {}
    assignments: dict[str, tuple[str, ...]] = {}
    ok = groups_sec is not None and assignments_sec is not None
    if groups_sec is not None:
        for name in PERMISSION_SETS:
            names = groups_sec.string_list(name, default=[])
            for group in names or []:
                if not _GROUP.match(group):
                    groups_sec.bad(name, group, "an IdP group display name")
                    ok = False
            groups[name] = tuple(names or [])
        groups_sec.finish()
    if assignments_sec is not None:
        for name in PERMISSION_SETS:
            where = assignments_sec.string_list(name, default=[])
            for key in where or []:
                if key not in MEMBER_ACCOUNTS:
                    assignments_sec.bad(name, key, "account keys: " + ", ".join(MEMBER_ACCOUNTS))
                    ok = False
            if name == "BreakGlass" and not where:
                assignments_sec.bad(name, where, "every account (break-glass access must exist before it is needed)")
                ok = False
            assignments[name] = tuple(where or [])
        assignments_sec.finish()
    for name in PERMISSION_SETS:
        if assignments.get(name) and not groups.get(name) and groups_sec is not None:
            groups_sec.bad(name, [], f"at least one group (the set is assigned in {', '.join(assignments[name])})")
            ok = False
    if not ok:
        return None
    return IdentityCenterConfig(groups=groups, assignments=assignments)


def parse_ci(sec: Section) -> CiConfig | None:
    subjects = sec.string_list("imagePublisherSubjects", allowed="GitHub OIDC subjects allowed to push images")
    sec.finish()
    ok = subjects is not None
    for subject in subjects or []:
        problem = valid_subject(subject)
        if problem is not None:
            sec.bad("imagePublisherSubjects", subject, problem)
            ok = False
    if subjects is not None and not subjects:
        sec.bad("imagePublisherSubjects", subjects, "at least one subject")
        ok = False
    if not ok or subjects is None:
        return None
    return CiConfig(image_publisher_subjects=tuple(subjects))


def parse_artifacts(sec: Section) -> ArtifactsConfig | None:
    repos = sec.string_list("repositories", allowed="ECR repository names such as shop")
    keep = sec.integer("keepTaggedImages", default=100, allowed="tagged images kept per repository (1-1000)")
    untagged = sec.integer("expireUntaggedDays", default=7, allowed="days before untagged images expire (1-365)")
    enhanced = sec.boolean("enhancedScanning", default=True)
    noncurrent = sec.integer("stateNoncurrentVersionDays", default=90, allowed="days to keep old state versions")
    sec.finish()
    for repo in repos or []:
        if not _REPO_NAME.match(repo) or len(repo) > 200:
            sec.bad("repositories", repo, "lowercase ECR repository names (letters, digits, . _ - /)")
    if repos is not None and len(set(repos)) != len(repos):
        sec.bad("repositories", repos, "each repository once")
    if keep is not None and not 1 <= keep <= 1000:
        sec.bad("keepTaggedImages", keep, "1-1000")
    if untagged is not None and not 1 <= untagged <= 365:
        sec.bad("expireUntaggedDays", untagged, "1-365")
    if noncurrent is not None and noncurrent < 30:
        sec.bad("stateNoncurrentVersionDays", noncurrent, "at least 30 days")
    if None in (repos, keep, untagged, enhanced, noncurrent):
        return None
    assert repos is not None and keep is not None and untagged is not None and enhanced is not None
    assert noncurrent is not None
    return ArtifactsConfig(
        repositories=tuple(repos),
        keep_tagged_images=keep,
        expire_untagged_days=untagged,
        enhanced_scanning=enhanced,
        state_noncurrent_version_days=noncurrent,
    )


def parse_identity(sec: Section, *, environment: str, account_id: str | None) -> IdentityConfig | None:
    roles_sec = sec.obj("ssoRoleArns")
    access = sec.choice("developerAccess", DEVELOPER_ACCESS, default="view")
    sec.finish()
    roles: dict[str, str] = {}
    ok = roles_sec is not None
    if roles_sec is not None:
        for name in EKS_MAPPED_SETS:
            arn = roles_sec.string(name, allowed=f"the ARN of the AWSReservedSSO_{name}_<id> role in this account")
            if arn is None:
                ok = False
                continue
            match = _SSO_ROLE.match(arn)
            if match is None or match.group("set") != name:
                roles_sec.bad(
                    name,
                    arn,
                    "arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/<region>/"
                    f"AWSReservedSSO_{name}_<16 hex>",
                )
                ok = False
            elif account_id is not None and match.group("account") != account_id:
                roles_sec.bad(name, arn, f"a role of this stack's account {account_id}")
                ok = False
            else:
                roles[name] = arn
        roles_sec.finish()
    if access == "edit" and environment in STRICT_ENVIRONMENTS:
        sec.bad("developerAccess", access, f"view (developers only read in {environment})")
        access = None
    if not ok or access is None:
        return None
    return IdentityConfig(sso_role_arns=roles, developer_access=access)
