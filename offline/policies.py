"""Run the CrossGuard pack over a rendered plan, the way the Pulumi engine would, without the CLI.

The policies are driven through pulumi-policy's own analyzer servicer (the object the CLI talks to over gRPC), so
levels from config, unknown values turning into advisory "can't run during preview" diagnostics, and stack policies
with property dependencies behave as in `pulumi preview --policy-pack`. Resource policies see inputs; stack policies
see outputs, as in a real run. The stack's policy config file is validated against each policy's schema first, as the
CLI does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2 as proto

from offline.mocks import UNKNOWN, Recorded
from offline.stackfiles import ROOT

POLICY_DIR = ROOT / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

from pulumi_policy import EnforcementLevel, Policy, StackValidationPolicy  # noqa: E402
from pulumi_policy.policy import _PolicyAnalyzerServicer  # noqa: E402 - private: pinned pulumi-policy version

from guardrails import ALL, PACK_NAME  # noqa: E402

LEVELS = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "remediate": proto.REMEDIATE,
    "disabled": proto.DISABLED,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


@dataclass
class Verdict:
    stack: str
    levels: dict[str, str]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    @property
    def advisory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "advisory"]

    def by_policy(self, name: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.policy == name]


class PolicyConfigError(ValueError):
    pass


def load_config(stack: str) -> dict[str, Any]:
    """The stack's policy configuration, derived from its environment profile (offline/policy_config.py)."""
    from offline.policy_config import for_stack

    return for_stack(stack)


def resolve_config(raw: Mapping[str, Any], policies: Sequence[Policy] = ALL) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per-policy (level, properties) as the CLI computes them: `all` sets every level, a policy's own entry wins;
    properties are validated against the policy's schema. Raises `PolicyConfigError` naming the policy and key."""
    names = {p.name: p for p in policies}
    unknown = sorted(set(raw) - set(names) - {"all"})
    if unknown:
        raise PolicyConfigError(f"policy config names unknown policies {unknown}; known: {sorted(names)}")
    default_level = raw.get("all")
    resolved: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, policy in names.items():
        entry = raw.get(name)
        level = default_level or (policy.enforcement_level.value if policy.enforcement_level else "advisory")
        props: dict[str, Any] = {}
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel", level)
            props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        if level not in LEVELS:
            raise PolicyConfigError(f"{name}: enforcementLevel {level!r} is not one of {sorted(LEVELS)}")
        schema = policy.config_schema
        properties = dict(schema.properties) if schema else {}
        extra = sorted(set(props) - set(properties))
        if extra:
            raise PolicyConfigError(f"{name}: unknown config keys {extra}; known: {sorted(properties)}")
        try:
            jsonschema.validate(props, {"type": "object", "properties": properties})
        except jsonschema.ValidationError as err:
            raise PolicyConfigError(f"{name}: {err.message}") from None
        resolved[name] = (level, props)
    return resolved


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(_to_wire(dict(value)), struct)
    return struct


def _to_wire(value: Any) -> Any:
    if value == UNKNOWN:
        return rpc.UNKNOWN
    if isinstance(value, dict):
        if set(value) == {"$resource"}:
            return value["$resource"]
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_wire(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class Engine:
    def __init__(self, config: Mapping[str, Any], policies: Sequence[Policy] = ALL) -> None:
        self.policies = list(policies)
        self.resolved = resolve_config(config, self.policies)
        self.servicer = _PolicyAnalyzerServicer(PACK_NAME, "1.0.0", self.policies, EnforcementLevel.ADVISORY)
        request = proto.ConfigureAnalyzerRequest()
        for name, (level, props) in self.resolved.items():
            policy_config = proto.PolicyConfig(enforcementLevel=LEVELS[level])
            policy_config.properties.update(props)
            request.policyConfig[name].CopyFrom(policy_config)
        self.servicer.Configure(request, None)

    @property
    def levels(self) -> dict[str, str]:
        return {name: level for name, (level, _) in self.resolved.items()}

    def _provider(self, resource: Recorded, by_urn: Mapping[str, Recorded]) -> proto.AnalyzerProviderResource | None:
        provider = by_urn.get(resource.provider_urn or "")
        if provider is None:
            return None
        return proto.AnalyzerProviderResource(
            type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.inputs)
        )

    @staticmethod
    def _options(resource: Recorded) -> proto.AnalyzerResourceOptions:
        return proto.AnalyzerResourceOptions(
            protect=resource.protect,
            ignoreChanges=resource.options.get("ignoreChanges", []),
            deleteBeforeReplace=resource.options.get("deleteBeforeReplace", False),
            parent=resource.parent or "",
        )

    def analyze(self, resources: Iterable[Recorded]) -> list[Diagnostic]:
        resources = list(resources)
        by_urn = {r.urn: r for r in resources}
        diagnostics: list[Diagnostic] = []
        for r in resources:
            request = proto.AnalyzeRequest(
                type=r.type, urn=r.urn, name=r.name, properties=_struct(r.inputs), options=self._options(r)
            )
            provider = self._provider(r, by_urn)
            if provider is not None:
                request.provider.CopyFrom(provider)
            diagnostics += self._diagnostics(self.servicer.Analyze(request, None), r.urn)

        if any(isinstance(p, StackValidationPolicy) for p in self.policies):
            stack_request = proto.AnalyzeStackRequest()
            for r in resources:
                item = proto.AnalyzerResource(
                    type=r.type,
                    urn=r.urn,
                    name=r.name,
                    properties=_struct(r.outputs),
                    options=self._options(r),
                    parent=r.parent or "",
                    dependencies=r.dependencies,
                )
                provider = self._provider(r, by_urn)
                if provider is not None:
                    item.provider.CopyFrom(provider)
                for key, urns in r.property_dependencies.items():
                    item.propertyDependencies[key].urns.extend(urns)
                stack_request.resources.append(item)
            diagnostics += self._diagnostics(self.servicer.AnalyzeStack(stack_request, None), "")
        return diagnostics

    @staticmethod
    def _diagnostics(response: proto.AnalyzeResponse, default_urn: str) -> list[Diagnostic]:
        return [
            Diagnostic(
                policy=d.policyName,
                level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
                message=d.message,
                urn=d.urn or default_urn,
            )
            for d in response.diagnostics
        ]


def check(stack: str, resources: Iterable[Recorded], config: Mapping[str, Any] | None = None) -> Verdict:
    engine = Engine(load_config(stack) if config is None else config)
    return Verdict(stack=stack, levels=engine.levels, diagnostics=engine.analyze(resources))


def print_verdict(verdict: Verdict, out: Any) -> None:
    out.write(f"\n  policy verdicts ({PACK_NAME}, config from the {verdict.stack} profile):\n")
    for policy in ALL:
        level = verdict.levels[policy.name]
        found = verdict.by_policy(policy.name)
        if level == "disabled":
            status = "disabled"
        elif not found:
            status = "pass"
        else:
            worst = "mandatory" if any(d.level == "mandatory" for d in found) else "advisory"
            status = f"FAIL ({len(found)})" if worst == "mandatory" else f"warn ({len(found)})"
        out.write(f"    {status:<10} {level:<10} {policy.name}\n")
    for d in verdict.diagnostics:
        first, _, rest = d.message.partition("\n")
        out.write(f"    [{d.level}] {d.policy}: {rest or first}\n")
