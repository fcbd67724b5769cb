"""The `identity` section of the environment stacks: which Identity Center roles may use the cluster, and how."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from core.schema import Model, context_of

EKS_MAPPED_SETS = ("PlatformAdmin", "PlatformEngineer", "Developer")
"""The permission sets whose roles get an EKS access entry in every environment account."""
DEVELOPER_ACCESS = ("view", "edit")

_SSO_ROLE = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::(?P<account>\d{12}):role/aws-reserved/sso\.amazonaws\.com/(?:[a-z0-9-]+/)?"
    r"AWSReservedSSO_(?P<set>[A-Za-z]+)_[0-9a-f]{16}$"
)


class SsoRoleArns(Model):
    """The roles Identity Center provisions in this account for the permission sets the cluster maps (their names end
    in a random suffix, so they are looked up once in IAM and written here)."""

    platform_admin: str = Field(alias="PlatformAdmin")
    """The ARN of the AWSReservedSSO_PlatformAdmin_<id> role in this account (cluster admin)."""
    platform_engineer: str = Field(alias="PlatformEngineer")
    """The ARN of the AWSReservedSSO_PlatformEngineer_<id> role in this account (admin of the application
    namespaces)."""
    developer: str = Field(alias="Developer")
    """The ARN of the AWSReservedSSO_Developer_<id> role in this account (view, or edit where `developerAccess` says
    so)."""

    @field_validator("platform_admin", "platform_engineer", "developer")
    @classmethod
    def _role(cls, arn: str, info: ValidationInfo) -> str:
        assert info.field_name is not None
        name = cls.model_fields[info.field_name].alias
        match = _SSO_ROLE.match(arn)
        if match is None or match.group("set") != name:
            raise ValueError(
                f"arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_{name}_<16 hex>"
            )
        account = context_of(info).account_id
        if account is not None and match.group("account") != account:
            raise ValueError(f"a role of this stack's account {account}")
        return arn

    def by_set(self) -> dict[str, str]:
        """Permission set name -> role ARN."""
        return {"PlatformAdmin": self.platform_admin, "PlatformEngineer": self.platform_engineer,
                "Developer": self.developer}  # fmt: skip


class IdentityConfig(Model):
    """EKS access for the roles Identity Center provisions in this account."""

    roles: SsoRoleArns = Field(alias="ssoRoleArns")
    """The Identity Center roles of this account, by permission set."""
    developer_access: Literal["view", "edit"] = "view"
    """What developers may do in the application namespaces: `view`, or `edit` where the environment is a sandbox."""

    @property
    def sso_role_arns(self) -> dict[str, str]:
        """Permission set -> the ARN of its Identity Center role in this account."""
        return self.roles.by_set()

    @field_validator("developer_access")
    @classmethod
    def _developer_access(cls, access: str, info: ValidationInfo) -> str:
        ctx = context_of(info)
        if access == "edit" and ctx.profile is not None and not ctx.profile.sandbox:
            raise ValueError(f"view (developers only read in {ctx.environment})")
        return access
