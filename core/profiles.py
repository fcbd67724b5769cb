"""Environment profiles: what each environment is, in one table (Pulumi.yaml `environments`).

Every rule that differs between environments reads a profile flag, never the environment's name: prod is not special
because it is called prod but because its profile says `production: true`. Adding an environment is a row here, a
stack file and an address-plan entry; the shared-services stack derives every per-environment resource (CI roles,
image pull grants, state access, Identity Center assignments, its OU) from this table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from core.schema import AccountId, Bool, Email, Int, Invalid, Model

WORKLOAD = "workload"
SHARED_SERVICES = "shared-services"

RESERVED_NAMES = ("all", "workloads")
"""Words the Identity Center assignments use as selectors; no environment may be named so."""

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
_OU_PATH = re.compile(r"^[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)*$")


class EnvironmentProfile(Model):
    """One environment of the organisation and the rules that apply to it."""

    kind: Literal["workload", "shared-services"] = WORKLOAD
    """`workload` (an environment stack: network, cluster, database, ...) or `shared-services` (the organisation
    stack, exactly one)."""
    account_id: AccountId
    """The member account the environment runs in."""
    account_email: Email
    """The member account's root e-mail address (used when the organisation creates the account)."""
    ou: str = Field(pattern=_OU_PATH.pattern)
    """Organizational unit path of the account, e.g. `workloads/prod` (OUs are created from these paths; the last
    segment names the OU and must be unique)."""
    production: Bool = False
    """Holds customer data: stateful resources protected, private API endpoint, deletion protection on cluster and
    database, Argo CD highly available, an On-Demand floor under Spot, developers read only."""
    highly_available: Bool = False
    """Survives the loss of an AZ: three AZs, a NAT gateway per AZ, at least three system nodes, Multi-AZ RDS."""
    sandbox: Bool = False
    """Experiments: developers may write (AWS and Kubernetes), AMIs may float (`@latest`), the sandbox cost-guard
    SCP applies to its OU."""
    min_log_retention_days: Int = Field(default=7, ge=1)
    """The shortest CloudWatch Logs retention the environment may configure (`logRetentionDays`)."""

    @property
    def ou_name(self) -> str:
        return self.ou.rsplit("/", 1)[-1]


class Profiles(Model):
    """The whole table, with the rules that span rows."""

    environments: dict[str, EnvironmentProfile]

    @model_validator(mode="after")
    def _rows_agree(self) -> Profiles:
        found: list[tuple[str, object, str]] = []
        for name in self.environments:
            if not _NAME.match(name) or name in RESERVED_NAMES:
                found.append((name, name, "2-20 lowercase letters, digits and hyphens, not 'all' or 'workloads'"))
        shared = [n for n, p in self.environments.items() if p.kind == SHARED_SERVICES]
        if len(shared) != 1:
            found.append(("", sorted(shared), "exactly one environment of kind shared-services"))
        seen: dict[str, str] = {}
        for name, profile in self.environments.items():
            other = seen.setdefault(profile.account_id, name)
            if other != name:
                found.append((f"{name}.accountId", profile.account_id, f"an account of its own ({other} uses it)"))
        names: dict[str, str] = {}
        for name, profile in self.environments.items():
            owner = names.setdefault(profile.ou_name, profile.ou)
            if owner != profile.ou:
                found.append((f"{name}.ou", profile.ou, f"an OU whose last segment is unique ({owner} ends the same)"))
        if found:
            raise Invalid(*found)
        return self


def workloads(profiles: Mapping[str, EnvironmentProfile]) -> dict[str, EnvironmentProfile]:
    """The environment stacks, in table order."""
    return {name: p for name, p in profiles.items() if p.kind == WORKLOAD}


def shared_services(profiles: Mapping[str, EnvironmentProfile]) -> tuple[str, EnvironmentProfile]:
    (pair,) = [(name, p) for name, p in profiles.items() if p.kind == SHARED_SERVICES]
    return pair


def ou_layout(profiles: Mapping[str, EnvironmentProfile]) -> dict[str, str | None]:
    """OU name -> parent OU name (None: the organization root), from every profile's OU path, parents first."""
    layout: dict[str, str | None] = {}
    for profile in profiles.values():
        parts = profile.ou.split("/")
        for depth, part in enumerate(parts):
            layout.setdefault(part, parts[depth - 1] if depth else None)
    return dict(sorted(layout.items(), key=lambda item: _depth(layout, item[0])))


def _depth(layout: Mapping[str, str | None], name: str) -> int:
    parent = layout[name]
    return 0 if parent is None else 1 + _depth(layout, parent)
