"""The top-level keys every stack kind shares: where the stack runs, how it is named and tagged, and the organisation's
table of environments. Capability sections (network, cluster, ...) are declared next to their capability and composed
per stack kind in `stacks/`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from core.profiles import SHARED_SERVICES, EnvironmentProfile, Profiles
from core.schema import ORG_WIDE, AccountId, Bool, Int, Invalid, Model, NonEmpty, context_of

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip
"""Values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy); 0 ("never expire") is deliberately
absent."""

RESERVED_TAG_KEYS = ("Project", "Environment", "Stack", "Owner", "CostCenter", "ManagedBy", "Name")
"""Tag keys the platform sets itself; `tags.extra` may not override them."""

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]{1,256}$")
_TAG_KEY = re.compile(r"^(?!aws:)[\w\s+\-=.:/@]{1,128}$")
_ROLE_NAME = r"^[\w+=,.@-]{1,64}$"
_PERMISSION_SET_NAME = r"^[\w+=,.@-]{1,32}$"
LEGACY_BREAK_GLASS_ROLE = "platform-break-glass"
"""What `breakGlassRoleName` named before issue 13: an IAM role no stack created, which the SCPs exempted by name."""
_PRIVATE_RANGES = tuple(ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


class Tags(Model):
    """Tags every taggable resource carries, besides Project, Environment, Stack and ManagedBy."""

    owner: NonEmpty
    """The owning team (tag `Owner`)."""
    cost_center: NonEmpty
    """The cost centre (tag `CostCenter`)."""
    extra: dict[str, str] = Field(default_factory=dict)
    """More tags for every resource of the stack; they may not override the platform's own keys."""

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        if not _TAG_VALUE.match(value):
            raise ValueError("1-256 characters: letters, digits, spaces and + - = . _ : / @")
        return value

    @field_validator("extra")
    @classmethod
    def _extra_tags(cls, extra: dict[str, str]) -> dict[str, str]:
        found = []
        for key, value in extra.items():
            if key in RESERVED_TAG_KEYS:
                found.append((key, value, "a key other than " + ", ".join(RESERVED_TAG_KEYS)))
            elif not _TAG_KEY.match(key) or not _TAG_VALUE.match(value):
                found.append((key, value, "a tag key (not aws:*) and a value of letters, digits, spaces, +-=._:/@"))
        if found:
            raise Invalid(*found)
        return extra


class CommonConfig(Model):
    """Keys of every stack. The organisation-wide ones are set in Pulumi.yaml, never in a stack file."""

    environment: str
    """The environment this stack deploys: its own name, a row of `environments`."""
    account_id: AccountId
    """The AWS account the stack deploys to; the provider refuses any other. For an environment stack, the account
    its `environments` row names; for shared-services, the organization's management account."""
    region: str
    """The AWS region of the stack; one of allowedRegions."""
    log_retention_days: Int
    """CloudWatch Logs retention of every log group the stack creates."""
    protect_stateful_resources: Bool
    """Pulumi-protect databases, KMS keys, log groups and state buckets against deletion and replacement."""
    tags: Tags
    """Ownership tags."""

    name_prefix: str = Field(pattern=r"^[a-z][a-z0-9]{1,7}$", json_schema_extra=ORG_WIDE)
    """Prefix of every physical resource name (2-8 lowercase letters or digits, a letter first)."""
    allowed_regions: tuple[str, ...] = Field(min_length=1, json_schema_extra=ORG_WIDE)
    """Regions the organisation allows; the SCP and the policy pack use the same list."""
    address_plan: dict[str, str] = Field(json_schema_extra=ORG_WIDE)
    """The organisation's VPC address plan: environment -> its /16, no two overlapping."""
    environments: dict[str, EnvironmentProfile] = Field(json_schema_extra=ORG_WIDE)
    """Every environment of the organisation and what it is (see core/profiles.py)."""
    github_repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", json_schema_extra=ORG_WIDE)
    """The platform repository (owner/name); the CI roles trust its workflows."""
    deployer_role_name: str = Field(pattern=_ROLE_NAME, json_schema_extra=ORG_WIDE)
    """Name of the CI deployer role in every account."""
    previewer_role_name: str = Field(pattern=_ROLE_NAME, json_schema_extra=ORG_WIDE)
    """Name of the read-only CI role pull-request previews use."""
    break_glass_role_name: str = Field(pattern=_PERMISSION_SET_NAME, json_schema_extra=ORG_WIDE)
    """Name of the IAM Identity Center permission set whose roles are the emergency access
    (`aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_<name>_*` in every account): the SCPs and the log archive and
    state policies exempt them, and the break-glass alerting watches their sign-ins. Until issue 13 it named an IAM
    role (`platform-break-glass`); that value is refused."""

    _project: str = PrivateAttr(default="")
    _stack: str = PrivateAttr(default="")

    @property
    def project(self) -> str:
        return self._project

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def protect_stateful(self) -> bool:
        """Pulumi `protect` on stateful resources (databases, KMS keys, log groups, state buckets)."""
        return self.protect_stateful_resources

    @property
    def profile(self) -> EnvironmentProfile:
        return self.environments[self.environment]

    @property
    def cluster_name(self) -> str:
        """The EKS cluster name, also used by the network for Karpenter subnet discovery."""
        return f"{self.name_prefix}-{self.stack}"

    # -----------------------------------------------------------------------------------------------------------------

    @field_validator("break_glass_role_name")
    @classmethod
    def _break_glass(cls, name: str) -> str:
        if name == LEGACY_BREAK_GLASS_ROLE:
            raise ValueError(
                "the name of the IAM Identity Center permission set whose roles are the break-glass access "
                f"(BreakGlass); {LEGACY_BREAK_GLASS_ROLE!r} named an IAM role no stack creates, so whoever created it "
                "escaped the SCPs (docs/UPGRADE-config.md)"
            )
        return name

    @field_validator("allowed_regions")
    @classmethod
    def _regions(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        bad = [
            (f"[{i}]", r, "AWS region names such as eu-west-1") for i, r in enumerate(regions) if not _REGION.match(r)
        ]
        if bad:
            raise Invalid(*bad)
        return regions

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, days: int, info: ValidationInfo) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError("one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
        profile = context_of(info).profile
        if profile is not None and days < profile.min_log_retention_days:
            raise ValueError(f"at least {profile.min_log_retention_days} days (the floor of its environment's profile)")
        return days

    @field_validator("protect_stateful_resources")
    @classmethod
    def _protect(cls, protect: bool, info: ValidationInfo) -> bool:
        profile = context_of(info).profile
        if profile is not None and profile.production and not protect:
            raise ValueError("true (a production environment protects databases, keys and log groups)")
        return protect

    @field_validator("address_plan")
    @classmethod
    def _address_plan(cls, plan: dict[str, str]) -> dict[str, str]:
        found: list[tuple[str, Any, str]] = []
        networks: dict[str, ipaddress.IPv4Network] = {}
        for env, cidr in plan.items():
            try:
                networks[env] = ipaddress.IPv4Network(cidr)
            except (ValueError, TypeError):
                found.append((env, cidr, "an IPv4 CIDR block such as 10.10.0.0/16"))
        for env, net in networks.items():
            if net.prefixlen != 16 or not any(net.subnet_of(p) for p in _PRIVATE_RANGES):
                found.append((env, str(net), "a private (RFC 1918) /16"))
            for other, other_net in networks.items():
                if env < other and net.overlaps(other_net):
                    found.append((other, str(other_net), f"a block that does not overlap {env} ({net})"))
        if found:
            raise Invalid(*found)
        return plan

    @field_validator("environments")
    @classmethod
    def _profiles(cls, environments: dict[str, EnvironmentProfile]) -> dict[str, EnvironmentProfile]:
        Profiles(environments=environments)  # the rules across rows; raises Invalid with paths below `environments`
        return environments

    @model_validator(mode="after")
    def _stack_and_table_agree(self, info: ValidationInfo) -> CommonConfig:
        found: list[tuple[str, Any, str]] = []
        stack = context_of(info).stack
        if stack is not None and self.environment != stack:
            found.append(("environment", self.environment, f"{stack!r}, the stack's own name"))
        profile = self.environments.get(self.environment)
        if profile is None:
            found.append(("environment", self.environment, "a row of environments: " + ", ".join(self.environments)))
        elif profile.kind == SHARED_SERVICES:
            members = {p.account_id: n for n, p in self.environments.items()}
            if self.account_id in members:
                member = members[self.account_id]
                found.append(("accountId", self.account_id, f"the management account, not {member}'s member account"))
        elif self.account_id != profile.account_id:
            wanted = f"{profile.account_id}, the account environments.{self.environment} names"
            found.append(("accountId", self.account_id, wanted))
        if self.region not in self.allowed_regions:
            found.append(("region", self.region, "one of allowedRegions: " + ", ".join(self.allowed_regions)))
        for name, p in self.environments.items():
            if p.kind != SHARED_SERVICES and name not in self.address_plan:
                found.append(("addressPlan", sorted(self.address_plan), f"an entry for every environment ({name})"))
        if found:
            raise Invalid(*found)
        return self
