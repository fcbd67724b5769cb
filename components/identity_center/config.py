"""The `identityCenter` section of the shared-services stack: the IdP groups of each permission set and where each set
is assigned."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationInfo, field_validator, model_validator

from core.profiles import EnvironmentProfile, workloads
from core.schema import Invalid, Model, context_of

PERMISSION_SETS = ("PlatformAdmin", "PlatformEngineer", "Developer", "ReadOnly", "BreakGlass")
"""The permission sets of components/identity_center/permission_sets.py, by name."""

ALL = "all"
WORKLOADS = "workloads"
SELECTORS = (ALL, WORKLOADS)
"""Words `assignments` accepts besides environment names: every environment, every environment of kind workload."""

_GROUP = re.compile(r"^[\w\s.+=@-]{1,128}$")


class IdentityCenterConfig(Model):
    """IAM Identity Center: who gets which permission set, and in which accounts."""

    groups: dict[str, tuple[str, ...]]
    """Permission set -> the display names of the IdP groups that get it (looked up in the identity store).
    Keys: PlatformAdmin, PlatformEngineer, Developer, ReadOnly, BreakGlass; a set assigned anywhere needs a group."""
    assignments: dict[str, tuple[str, ...]]
    """Permission set -> where it is assigned: environment names (rows of Pulumi.yaml `environments`), `all` (every
    environment) or `workloads` (every environment of kind workload).
    The selectors follow the table, so a new environment gets its assignments without an edit here. BreakGlass must
    be assigned in every environment. Read back, each set maps to the environment names, selectors expanded."""

    @field_validator("groups")
    @classmethod
    def _groups(cls, groups: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        found: list[tuple[str, Any, str]] = _unknown_sets(groups)
        for name, names in groups.items():
            for index, group in enumerate(names):
                if not _GROUP.match(group):
                    found.append((f"{name}[{index}]", group, "an IdP group display name"))
        if found:
            raise Invalid(*found)
        return {name: tuple(groups.get(name, ())) for name in PERMISSION_SETS}

    @field_validator("assignments")
    @classmethod
    def _assignments(cls, assignments: dict[str, tuple[str, ...]], info: ValidationInfo) -> dict[str, tuple[str, ...]]:
        profiles = context_of(info).profiles
        found: list[tuple[str, Any, str]] = _unknown_sets(assignments)
        expanded: dict[str, tuple[str, ...]] = {}
        for name in PERMISSION_SETS:
            where = assignments.get(name, ())
            if not profiles:  # validated alone: nothing to expand against
                expanded[name] = tuple(where)
                continue
            names: list[str] = []
            for index, key in enumerate(where):
                selected = _select(key, profiles)
                if selected is None:
                    allowed = f"an environment ({', '.join(profiles)}), {ALL} or {WORKLOADS}"
                    found.append((f"{name}[{index}]", key, allowed))
                names += [n for n in selected or () if n not in names]
            expanded[name] = tuple(names)
        breakglass = assignments.get("BreakGlass", ())
        missing = [n for n in profiles if n not in expanded["BreakGlass"]]
        if missing or not breakglass:
            note = f" (missing: {', '.join(missing)})" if missing else ""
            found.append(
                (
                    "BreakGlass",
                    list(breakglass),
                    f"every account: all, or each environment{note}; break-glass access must exist before it is needed",
                )
            )
        if found:
            raise Invalid(*found)
        return expanded

    @model_validator(mode="after")
    def _assigned_sets_have_groups(self) -> IdentityCenterConfig:
        found = [
            (f"groups.{name}", [], f"at least one group (the set is assigned in {', '.join(self.assignments[name])})")
            for name in PERMISSION_SETS
            if self.assignments.get(name) and not self.groups.get(name)
        ]
        if found:
            raise Invalid(*found)
        return self


def _unknown_sets(table: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    allowed = "no such key here (known keys: " + ", ".join(sorted(PERMISSION_SETS)) + ")"
    return [(name, value, allowed) for name, value in table.items() if name not in PERMISSION_SETS]


def _select(key: str, profiles: Mapping[str, EnvironmentProfile]) -> list[str] | None:
    """The environments `key` names (an environment or a selector), or None when it names none."""
    if key == ALL:
        return list(profiles)
    if key == WORKLOADS:
        return list(workloads(profiles))
    return [key] if key in profiles else None
