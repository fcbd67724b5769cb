"""Helpers shared by the guardrails: reading props safely, config with in-code defaults, uniform messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs

ResourceArgs = ResourceValidationArgs

MISSING: Any = object()


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """Walk `path` through mappings and lists; `default` where a step is absent. Unknown values still raise
    `UnknownValueError`, which the engine turns into an advisory "can't run during preview" diagnostic."""
    current = value
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str) or len(current) <= step:
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
        if current is None:
            return default
    return current


def items(value: Any) -> list[Any]:
    """A list-or-single-object input as a list (pulumi-aws v7 made several nested blocks single objects)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def find_all(value: Any, key: str) -> Iterator[Any]:
    """Every value stored under `key` at any depth (tolerates both v6-style lists and v7-style objects)."""
    if isinstance(value, Mapping):
        for k in value:
            v = value[k]
            if k == key:
                yield v
            yield from find_all(v, key)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for v in value:
            yield from find_all(v, key)


def truthy(value: Any) -> bool:
    """Booleans as the providers carry them: True, or the string "true" (launch-template EBS flags are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def number(value: Any) -> float | None:
    """A numeric input, or None. Numbers cross the engine as protobuf doubles: 365 arrives as 365.0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def customer_key(value: Any) -> bool:
    """Whether a key reference names a customer-managed key: set, and not an AWS-managed alias (alias/aws/...)."""
    return isinstance(value, str) and bool(value) and "alias/aws/" not in value


def num(value: Any) -> str:
    """A number for a message: 2.0 -> "2" (config and inputs cross the engine as doubles)."""
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def config(args: Any, key: str, default: Any) -> Any:
    """A policy config value with its default applied in code (the CLI fills schema defaults; unit tests do not)."""
    value = (args.get_config() or {}).get(key)
    return default if value is None else value


def show(value: Any) -> str:
    try:
        return json.dumps(plain(value), sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def plain(value: Any) -> Any:
    """Copy proxied props into plain dicts and lists (json can't serialise the proxies)."""
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def describe(resource_type: str, name: str) -> str:
    return f"{resource_type.split(':')[-1]} '{name}' ({resource_type})"


def fail(report: ReportViolation, args: ResourceArgs, problem: str, got: Any, fix: str) -> None:
    """Report a resource violation: which resource, what is wrong, the offending value and the fix."""
    report(f"{describe(args.resource_type, args.name)}: {problem}; got {show(got)}. Fix: {fix}", None)


def fail_stack(report: ReportViolation, resource: PolicyResource, problem: str, got: Any, fix: str) -> None:
    report(f"{describe(resource.resource_type, resource.name)}: {problem}; got {show(got)}. Fix: {fix}", resource.urn)


def of_types(resources: Iterable[PolicyResource], types: Iterable[str]) -> list[PolicyResource]:
    wanted = set(types)
    return [r for r in resources if r.resource_type in wanted]


def linked(config_resource: PolicyResource, targets: Sequence[PolicyResource], prop: str = "bucket") -> list:
    """The targets a side-by-side resource configures: through the property dependency of `prop` (ids are unknown
    during preview, dependencies are not), or else by equal name."""
    deps = config_resource.property_dependencies.get(prop) or []
    found = [t for t in targets if any(d.urn == t.urn for d in deps)]
    if found:
        return found
    value = get(config_resource.props, prop)
    return [t for t in targets if value is not None and value in (get(t.props, "bucket"), get(t.props, "id"))]


S3_BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
