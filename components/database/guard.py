"""An engine-side guard for the database settings RDS fixes when it creates the instance.

`database.databaseName` (RDS `DBName`) and `database.masterUsername` (`MasterUsername`) are creation-time properties:
pulumi-aws marks `dbName` and `username` "replace on change", and because the instance has an explicit identifier the
replacement deletes the old instance first. Config validation cannot see what was deployed, so the refusal lives
where the deployed value is known: in the engine's `Check` step, which receives the inputs recorded in the stack's
state (`olds`) next to the new ones (`news`) and runs for every resource in both `pulumi preview` and `pulumi up`,
before any step touches the cloud. `CreationTimeGuard` is a Pulumi dynamic resource that records the two settings;
its provider's `check` fails, naming the config key, when a recorded value would change. The instance depends on the
guard, so in `up` its replacement can never be scheduled ahead of the refusal.

The guard stores nothing secret and calls no API. Its first deployment records the configured values (it has no
`olds` yet). To change a setting on purpose (a sandbox reset), see `CHANGE_PROCEDURE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ResourceProvider, UpdateResult

GUARDED: Mapping[str, str] = {"databaseName": "database.databaseName", "masterUsername": "database.masterUsername"}
"""Guard input -> the config key it comes from."""


class CreationTimeSettingsProvider(ResourceProvider):
    """The dynamic provider: refuses a change of a recorded creation-time setting; otherwise records the values.

    Pulumi stores the provider in the state with dill, which records a class defined outside `__main__` by its module
    path (`components.database.guard`); the engine starts its dynamic-provider host in the program's directory with the
    program's virtualenv, where that path imports, and importing this module registers nothing. The methods use no
    module-level helper, so the class would work as well if dill stored it by value."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        guarded = {"databaseName": "database.databaseName", "masterUsername": "database.masterUsername"}
        failures = []
        for key, config_key in guarded.items():
            old, new = _olds.get(key), news.get(key)
            if isinstance(old, str) and isinstance(new, str) and old != new:
                failures.append(
                    CheckFailure(
                        key,
                        f"{config_key} is a creation-time setting of the RDS instance and cannot change once the "
                        f"database exists: the stack recorded {old!r}, the config now says {new!r}. Changing it "
                        "would replace the instance and delete its data. Set it back to "
                        f"{old!r}; {CreationTimeSettingsProvider.procedure()}",
                    )
                )
        return CheckResult(news, failures)

    @staticmethod
    def procedure() -> str:
        return (
            "to change it on purpose, replace the database deliberately as the runbook 'Changing a creation-time "
            "database setting' says (snapshot first; the guard is then removed from the state with "
            "`pulumi state delete` on the URN of database-creation-time-guard)"
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {k: v for k, v in props.items() if k in ("databaseName", "masterUsername")}
        return CreateResult("creation-time-settings", outs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({k: v for k, v in _news.items() if k in ("databaseName", "masterUsername")})


class CreationTimeGuard(pulumi.dynamic.Resource, module="database", name="CreationTimeGuard"):
    """Records the instance's creation-time settings and refuses, at `check`, any change to them."""

    def __init__(self, name: str, settings: Mapping[str, str], opts: pulumi.ResourceOptions | None = None) -> None:
        unknown = set(settings) - set(GUARDED)
        if unknown or not settings:
            raise ValueError(f"guard settings: some of {sorted(GUARDED)}, got {sorted(settings)}")
        super().__init__(CreationTimeSettingsProvider(), name, dict(settings), opts)


CHANGE_PROCEDURE = CreationTimeSettingsProvider.procedure()
"""How to change a guarded setting on purpose (the guard's message ends with it)."""
