"""Small, pure building blocks for config validation that collect every problem instead of stopping at the first.

A `Problems` collects `Problem`s (key path, offending value, what is allowed). `Section` reads one mapping of the
raw config, remembers which keys it consumed and reports the rest as unknown, so a typo is an error, not a silently
ignored key. Nothing here knows about Pulumi.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

MISSING: Any = object()
"""Sentinel for "the key is absent" (distinct from an explicit null)."""


def show(value: Any) -> str:
    """Render a config value the way a user wrote it (JSON), for error messages."""
    if value is MISSING:
        return "<missing>"
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


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
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, value: Any, allowed: str) -> None:
        self.items.append(Problem(path, value, allowed))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, stack: str) -> None:
        if self.items:
            raise ConfigError(stack, self.items)


class Section:
    """One mapping in the config (the top level or a nested object) read key by key.

    Each getter returns a value of the requested type, or `None` after recording a problem, so parsing carries on and
    reports everything in one go. Call `finish()` once all keys are read to report unknown keys.
    """

    def __init__(self, problems: Problems, path: str, data: Mapping[str, Any], *, sep: str = ".") -> None:
        self.problems = problems
        self.path = path
        self.data = data
        self.sep = sep
        self.seen: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}{self.sep}{key}" if self.path else key

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key, MISSING)

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(
        self,
        key: str,
        kind: str,
        convert: Callable[[Any], T | None],
        *,
        default: Any = MISSING,
    ) -> T | None:
        value = self.raw(key)
        if value is MISSING or value is None:
            if default is not MISSING:
                return default
            self.problems.add(self.key_path(key), MISSING, kind)
            return None
        converted = convert(value)
        if converted is None:
            self.problems.add(self.key_path(key), value, kind)
        return converted

    def string(self, key: str, *, default: Any = MISSING, allowed: str = "a non-empty string") -> str | None:
        return self._get(key, allowed, lambda v: v if isinstance(v, str) and v.strip() else None, default=default)

    def integer(self, key: str, *, default: Any = MISSING, allowed: str = "an integer") -> int | None:
        def convert(v: Any) -> int | None:
            if isinstance(v, bool):
                return None
            if isinstance(v, int):
                return v
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                return int(v)
            return None

        return self._get(key, allowed, convert, default=default)

    def boolean(self, key: str, *, default: Any = MISSING) -> bool | None:
        def convert(v: Any) -> bool | None:
            if isinstance(v, bool):
                return v
            if isinstance(v, str) and v.lower() in ("true", "false"):
                return v.lower() == "true"
            return None

        return self._get(key, "true or false", convert, default=default)

    def choice(self, key: str, choices: Iterable[str], *, default: Any = MISSING) -> str | None:
        options = tuple(choices)
        allowed = "one of " + ", ".join(options)
        return self._get(key, allowed, lambda v: v if v in options else None, default=default)

    def obj(self, key: str, *, default: Any = MISSING) -> Section | None:
        value = self._get(key, "an object", lambda v: v if isinstance(v, Mapping) else None, default=default)
        if value is None:
            return None
        return Section(self.problems, self.key_path(key), value)

    def string_list(self, key: str, *, default: Any = MISSING, allowed: str = "a list of strings") -> list[str] | None:
        def convert(v: Any) -> list[str] | None:
            if isinstance(v, list) and all(isinstance(i, str) and i for i in v):
                return list(v)
            return None

        return self._get(key, allowed, convert, default=default)

    def string_map(self, key: str, *, default: Any = MISSING) -> dict[str, str] | None:
        def convert(v: Any) -> dict[str, str] | None:
            if isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(i, str) for k, i in v.items()):
                return dict(v)
            return None

        return self._get(key, "an object of string values", convert, default=default)

    def bad(self, key: str, value: Any, allowed: str) -> None:
        """Record a semantic problem with a key that was read successfully."""
        self.problems.add(self.key_path(key), value, allowed)

    def finish(self, known: Iterable[str] = ()) -> None:
        """Report every key that was neither read nor listed in `known`."""
        expected = self.seen | set(known)
        for key in sorted(set(self.data) - expected):
            hint = ", ".join(sorted(expected)) or "no keys"
            self.problems.add(self.key_path(key), self.data[key], f"no such key here (known keys: {hint})")
