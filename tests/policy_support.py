"""Run policies over real pulumi-aws resources built under the recording mocks.

Fixtures are written with the provider SDKs' own classes (so input names are the real camelCase wire names, and
basedpyright checks them), registered under mocks, then judged by `offline.policies.Engine`: pulumi-policy's analyzer
servicer, as the CLI drives it. `preview=True` leaves outputs the mocks do not return unknown, as in a PR preview.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.output import Unknown

from offline.mocks import UNKNOWN, Recorded, run_under_mocks
from offline.policies import Diagnostic, Engine

ACCOUNT = "123456789012"
REGION = "eu-west-1"
STRICT: dict[str, Any] = {"all": "mandatory"}


class Judged:
    def __init__(self, resources: list[Recorded], diagnostics: list[Diagnostic]) -> None:
        self.resources = resources
        self.diagnostics = diagnostics

    def of(self, policy: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.policy == policy]

    def mandatory(self, policy: str) -> list[Diagnostic]:
        return [d for d in self.of(policy) if d.level == "mandatory"]

    def advisory(self, policy: str) -> list[Diagnostic]:
        return [d for d in self.of(policy) if d.level == "advisory"]

    def messages(self, policy: str) -> str:
        return "\n".join(d.message for d in self.of(policy))


def judge(
    body: Callable[[pulumi.ResourceOptions], Any],
    *,
    config: Mapping[str, Any] | None = None,
    region: str = REGION,
    preview: bool = False,
) -> Judged:
    """Build resources with `body(opts)` (opts carry an explicit AWS provider in `region`) and judge them with
    every policy of the pack, configured by `config` (default: everything mandatory, defaults from code)."""

    def program() -> None:
        provider = aws.Provider("aws", region=region, allowed_account_ids=[ACCOUNT])
        body(pulumi.ResourceOptions(provider=provider))

    run = run_under_mocks(
        program, project="policy-test", stack="test", config={}, account_id=ACCOUNT, region=region, preview=preview
    )
    resources = [dataclasses.replace(r, outputs=_unknowns_marked(r.outputs)) for r in run.monitor.recorded]
    return Judged(resources, Engine(config or STRICT).analyze(resources))


def _unknowns_marked(value: Any) -> Any:
    """Outputs with the SDK's in-process `Unknown` placeholders replaced by the recorded-unknown marker.

    During preview the mock monitor echoes an unknown input back as a `pulumi.output.Unknown` object, which the
    engine would otherwise stringify into a known (and truthy) value, so stack policies would judge a value that the
    CLI reports as "can't be known during preview"."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_marked(v) for v in value]
    return value


def reported(judged: Judged, policy: str, level: str = "mandatory") -> str:
    """The messages `policy` reported, asserting there is at least one, each at `level` and each stating a fix."""
    found = judged.of(policy)
    assert found, f"{policy} reported nothing; all diagnostics: {judged.diagnostics}"
    assert {d.level for d in found} == {level}, found
    assert all("Fix:" in d.message for d in found), found
    return judged.messages(policy)


def cant_run(judged: Judged, policy: str) -> str:
    """The message of the advisory "can't run during preview" diagnostic `policy` gets on an unknown value."""
    found = judged.of(policy)
    assert len(found) == 1, found
    assert found[0].level == "advisory", found
    assert found[0].message.startswith(f"can't run policy '{policy}' from policy pack"), found[0].message
    assert "during preview" in found[0].message, found[0].message
    return found[0].message


def unknown() -> pulumi.Output[Any]:
    """A value that is unknown during preview, as an output of a resource not yet created would be."""
    loop = asyncio.get_event_loop()
    value: asyncio.Future[Any] = loop.create_future()
    known: asyncio.Future[bool] = loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)
