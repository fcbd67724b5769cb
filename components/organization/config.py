"""The `organization` section of the shared-services stack: the organization root, account creation, the sandbox cost
guard, the organization trail and who is told when break-glass is used. The member accounts are the rows of
Pulumi.yaml `environments`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from core.profiles import EnvironmentProfile
from core.schema import Bool, Email, Int, Invalid, Model, NonEmpty, context_of

DEFAULT_SANDBOX_DENIED_TYPES = ("dl*", "f1.*", "g*", "hpc*", "inf*", "p*", "trn*", "u-*", "vt1.*", "x*",
                                "*.metal*", "*.24xlarge", "*.32xlarge", "*.48xlarge")  # fmt: skip
_ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
MAX_OBJECT_LOCK_DAYS = 36500
"""The longest default retention S3 Object Lock accepts (DefaultRetention.Days, 100 years)."""

ACCOUNTS_MOVED = (
    "nothing: the organisation's accounts are the rows of Pulumi.yaml `environments` (accountId and accountEmail "
    "of each environment); delete aws-platform:organization.accounts from the stack file"
)


@dataclass(frozen=True, kw_only=True)
class Account:
    """A member account of the organisation: the environment it runs, its id and its root e-mail address."""

    key: str
    id: str
    email: str


class OrganizationConfig(Model):
    """The organization, managed from its management account (the stack's accountId)."""

    root_id: str
    """The organization root id, r-xxxx (aws organizations list-roots)."""
    create_accounts: Bool = False
    """Create the member accounts of `environments` in their OUs (protected: Pulumi never closes one). Off: existing
    accounts are moved into their OUs by hand or imported."""
    member_access_role: NonEmpty = Field(default="OrganizationAccountAccessRole", alias="memberAccessRoleName")
    """The role the stack assumes in every member account: the organization pipeline. The SCPs let it bootstrap an
    account (public access blocks), configure the security services and own the Pulumi state's policies, and let
    nobody else change it or the platform's other roles."""
    sandbox_denied_instance_types: tuple[NonEmpty, ...] = DEFAULT_SANDBOX_DENIED_TYPES
    """EC2 instance type patterns the sandbox cost-guard SCP denies in the OUs of sandbox environments."""
    cloudtrail_retention_days: Int = Field(default=2557, alias="cloudTrailRetentionDays")
    """Days to keep the organization trail's logs and the AWS Config history (at least 365, at most 36500). Also the
    S3 Object Lock retention (COMPLIANCE mode) of every trail log: nobody, not even the root user, can delete one
    sooner. The log archive's bucket policy lets only break-glass change its lifecycle and lock, so a new value is
    applied by break-glass, and a lower one affects only new logs."""
    alert_emails: tuple[Email, ...]
    """Who is told, by e-mail, when someone signs in with the break-glass permission set (each address confirms its
    subscription once). At least one; distinct."""
    moved_accounts: Any = Field(default=None, alias="accounts", exclude=True)
    """No longer set here: the member accounts are the rows of Pulumi.yaml `environments`."""

    _profiles: dict[str, EnvironmentProfile] = PrivateAttr(default_factory=dict)
    _accounts: dict[str, Account] = PrivateAttr(default_factory=dict)

    @property
    def profiles(self) -> dict[str, EnvironmentProfile]:
        """The environment table the member accounts and their OUs come from (Pulumi.yaml `environments`)."""
        return self._profiles

    @property
    def accounts(self) -> dict[str, Account]:
        """Environment name -> its member account (accountId, accountEmail of its row), in table order."""
        return self._accounts

    @field_validator("root_id")
    @classmethod
    def _root_id(cls, root_id: str) -> str:
        if not _ROOT_ID.match(root_id):
            raise ValueError("an organization root id such as r-ab12")
        return root_id

    @field_validator("cloudtrail_retention_days")
    @classmethod
    def _trail_days(cls, days: int) -> int:
        if days < 365:
            raise ValueError("at least 365 days")
        if days > MAX_OBJECT_LOCK_DAYS:
            raise ValueError(f"at most {MAX_OBJECT_LOCK_DAYS} days (the longest S3 Object Lock retention)")
        return days

    @field_validator("alert_emails")
    @classmethod
    def _alert_emails(cls, emails: tuple[str, ...]) -> tuple[str, ...]:
        if not emails:
            raise ValueError("at least one e-mail address: break-glass use must reach someone")
        seen: set[str] = set()
        found = []
        for index, email in enumerate(emails):
            if email.lower() in seen:
                found.append((f"[{index}]", email, "each address once"))
            seen.add(email.lower())
        if found:
            raise Invalid(*found)
        return emails

    @field_validator("moved_accounts")
    @classmethod
    def _accounts_moved(cls, accounts: Any) -> Any:
        if accounts is not None:
            raise ValueError(ACCOUNTS_MOVED)
        return accounts

    @model_validator(mode="after")
    def _member_accounts(self, info: ValidationInfo) -> OrganizationConfig:
        ctx = context_of(info)
        management = ctx.account_id
        found = [
            (
                "",
                profile.account_id,
                f"member accounts other than the management account this stack runs in (accountId {management}); "
                f"Pulumi.yaml environments.{name}.accountId names it",
            )
            for name, profile in ctx.profiles.items()
            if management is not None and profile.account_id == management
        ]
        if found:
            raise Invalid(*found)
        self._profiles = dict(ctx.profiles)
        self._accounts = {
            name: Account(key=name, id=profile.account_id, email=profile.account_email)
            for name, profile in ctx.profiles.items()
        }
        return self
