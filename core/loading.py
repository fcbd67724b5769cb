"""From the raw configuration the Pulumi engine hands the program to a validated model, or one error listing every
problem: the key path as the stack file spells it, the offending value (secrets redacted) and what is allowed.

The engine passes fully qualified keys mapped to strings, objects and lists as JSON text. `own_values()` keeps the
project's namespace and decodes; `validate()` runs a model over it and translates pydantic's errors into the house
message. Nothing here knows a capability.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from core.schema import Invalid, ValidationContext

M = TypeVar("M", bound=BaseModel)

MISSING: Any = object()
"""Sentinel for "the key is absent" (distinct from an explicit null)."""

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|credential|private[-_]?key|api[-_]?key|access[-_]?key)", re.I)
_URL_WITH_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+:[^/@\s]*@", re.I)


def show(value: Any) -> str:
    """Render a config value the way a user wrote it (JSON), for error messages."""
    if value is MISSING:
        return "<missing>"
    if value == REDACTED:
        return REDACTED
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def redact(path: str, value: Any, secret_paths: Iterable[str] = ()) -> Any:
    """`value` as it may appear in a message: secrets (keys that look like one, keys the engine marks secret, URLs
    carrying credentials) become `<redacted>`, also inside objects and lists."""
    leaf = re.split(r"[.:\[\]]", path.rstrip("]"))[-1]
    if _SECRET_KEY.search(leaf) or any(path == s or path.startswith(f"{s}.") for s in secret_paths):
        return REDACTED
    if isinstance(value, str) and _URL_WITH_CREDENTIALS.match(value):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(f"{path}.{k}", v, secret_paths) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(f"{path}[{i}]", v, secret_paths) for i, v in enumerate(value)]
    return value


@dataclass(frozen=True)
class Problem:
    path: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        if self.value is MISSING:
            return f"{self.path}: missing; required: {self.allowed}"
        return f"{self.path}: got {show(self.value)}; allowed: {self.allowed}"


class ConfigError(ValueError):
    """Raised once with every problem found in a stack's configuration."""

    def __init__(self, stack: str, problems: Iterable[Problem]) -> None:
        self.stack = stack
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"stack {stack!r} has an invalid configuration ({count} {noun}):\n{lines}")


class Problems:
    """Problems collected across the loading steps, kept in order and without repeats."""

    def __init__(self, secret_paths: Iterable[str] = ()) -> None:
        self.items: list[Problem] = []
        self.secret_paths = tuple(secret_paths)

    def add(self, path: str, value: Any, allowed: str) -> None:
        value = value if value is MISSING else redact(path, value, self.secret_paths)
        problem = Problem(path, value, allowed)
        if problem not in self.items:
            self.items.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p.path, p.value, p.allowed)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, stack: str) -> None:
        if self.items:
            raise ConfigError(stack, self.items)


# ---------------------------------------------------------------------------------------------------------------------
# Raw config


def decode(value: str) -> Any:
    """Decode one raw config value as the Pulumi runtime hands it over: objects and lists arrive as JSON text."""
    text = value.strip()
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def own_values(raw: Mapping[str, str], project: str, problems: Problems) -> dict[str, Any]:
    """The project's own keys, decoded; keys of other namespaces are engine settings or mistakes."""
    own: dict[str, Any] = {}
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if not name:
            problems.add(key, value, f"a namespaced key such as {project}:{key}")
        elif namespace == project:
            own[name] = decode(value)
        elif namespace == "pulumi":
            continue  # engine settings (disable-default-providers, tags, ...), not ours to judge
        elif namespace in ("aws", "kubernetes"):
            problems.add(
                key,
                value,
                f"nothing: the default {namespace} provider is disabled, so {key} would be ignored; "
                f"set the platform key instead (e.g. {project}:region)",
            )
        else:
            problems.add(key, value, f"keys under {project}: (unknown namespace {namespace!r})")
    return own


# ---------------------------------------------------------------------------------------------------------------------
# Validation


def validate(
    model: type[M],
    data: Mapping[str, Any],
    *,
    context: ValidationContext,
    project: str,
    problems: Problems,
    prefix: str = "",
) -> M | None:
    """`model` validated over `data`, or None after recording every problem (paths `<project>:<prefix><key>`)."""
    try:
        return model.model_validate(dict(data), context={"platform": context})
    except ValidationError as err:
        for problem in translate(err, model, f"{project}:{prefix}"):
            problems.add(problem.path, problem.value, problem.allowed)
        return None


def translate(err: ValidationError, model: type[BaseModel], root: str) -> list[Problem]:
    """pydantic's errors as house problems: path in the stack file's spelling, the value, what is allowed."""
    out: list[Problem] = []
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input", MISSING)
        ctx = error.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, Invalid):
            for relative, item_value, allowed in cause.problems:
                out.append(Problem(_path(root, loc, relative), item_value, allowed))
            continue
        path = _path(root, loc)
        if kind == "missing":
            out.append(Problem(path, MISSING, _describe(model, loc)))
        elif kind == "extra_forbidden":
            known = ", ".join(sorted(_known_keys(model, loc[:-1]))) or "no keys"
            out.append(Problem(path, value, f"no such key here (known keys: {known})"))
        else:
            out.append(Problem(path, value, _allowed(kind, ctx, error["msg"], cause)))
    return out


def _path(root: str, loc: Sequence[Any], relative: str = "") -> str:
    text = root
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += part if text.endswith((":", ".")) or not text else f".{part}"
    if relative:
        text += relative if relative.startswith("[") or text.endswith((":", ".")) else f".{relative}"
    return text.rstrip(".")


_GENERIC = {
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
}


def _allowed(kind: str, ctx: Mapping[str, Any], message: str, cause: Any) -> str:
    if kind in ("value_error", "assertion_error") and cause is not None:
        return str(cause)
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", "")).replace("'", "")
    if kind in _GENERIC:
        return _GENERIC[kind]
    bounds = {
        "greater_than_equal": f">= {ctx.get('ge')}",
        "greater_than": f"> {ctx.get('gt')}",
        "less_than_equal": f"<= {ctx.get('le')}",
        "less_than": f"< {ctx.get('lt')}",
        "too_short": f"at least {ctx.get('min_length')} item(s)",
        "too_long": f"at most {ctx.get('max_length')} item(s)",
        "string_too_short": f"at least {ctx.get('min_length')} character(s)",
        "string_too_long": f"at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": f"text matching {ctx.get('pattern')}",
    }
    return bounds.get(kind, message)


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The model that validates the object at `loc` (following aliases, dicts and lists), if it is one."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for name, f in current.model_fields.items() if part in (name, f.alias)),
                None,
            )
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (dict, Mapping):
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple, Sequence):
            current = get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """The model inside `X | None` or `Annotated[X, ...]`."""
    while True:
        args = [a for a in get_args(annotation) if a is not type(None)]
        origin = get_origin(annotation)
        if origin is None or origin in (dict, list, tuple, Mapping, Sequence):
            return annotation
        if len(args) >= 1 and (origin is not None):
            annotation = args[0]
        else:
            return annotation


def _known_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    target = _model_at(model, loc)
    if target is None:
        return []
    return [f.alias or name for name, f in target.model_fields.items()]


def _describe(model: type[BaseModel], loc: Sequence[Any]) -> str:
    parent = _model_at(model, loc[:-1])
    if parent is not None:
        for name, f in parent.model_fields.items():
            if loc[-1] in (name, f.alias) and f.description:
                return f.description.split("\n")[0].rstrip(".")
    return "a value"
