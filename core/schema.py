"""The vocabulary every config section is declared in.

A key is declared once, as a typed field of a pydantic model with its description (the attribute docstring), default
and rules; the loader, the error messages and docs/configuration.md all derive from that declaration. The stack-file
spelling (camelCase) is the field's alias, so `disk_size_gib` reads `diskSizeGiB` where an alias says so.

Checks that need more than the value itself (the environment's profile, the stack's region or account, the address
plan) read the `ValidationContext` the loader passes in. A check reports what is allowed by raising `ValueError` with
that text, or `Invalid` with several (key, value, allowed) problems at once; the loader turns both into the house
message: `<key path>: got <value>; allowed: <what>`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from core.profiles import EnvironmentProfile


class Model(BaseModel):
    """Base of every config model: unknown keys are errors, values are frozen, keys are camelCase in stack files."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
        hide_input_in_errors=False,
    )


class Invalid(ValueError):  # noqa: N818 - read as `raise Invalid(...)`: the value is invalid
    """One or more problems found by a check: (key path relative to where the check runs, value, what is allowed).
    An empty key means the value the check was given."""

    def __init__(self, *problems: tuple[str, Any, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(allowed for _, _, allowed in problems))


def rules(text: str) -> Any:
    """Field metadata: the rules a value must follow, shown in docs/configuration.md."""
    return Field(json_schema_extra={"rules": text})


ORG_WIDE: dict[str, Any] = {"orgWide": True}
"""`json_schema_extra` of keys that Pulumi.yaml sets for every stack and no stack file may override."""


@dataclass(frozen=True)
class ValidationContext:
    """What checks may consult beyond the value: the stack, its profile and the already-read top-level values.

    Every field may be None: the value was itself invalid (its own problem is reported) or the section is being
    validated alone (unit tests). Checks that need a missing value skip, rather than report a follow-on error."""

    stack: str | None = None
    environment: str | None = None
    profile: EnvironmentProfile | None = None
    profiles: Mapping[str, EnvironmentProfile] = field(default_factory=dict)
    region: str | None = None
    account_id: str | None = None
    address_plan: Mapping[str, ipaddress.IPv4Network] = field(default_factory=dict)
    addon_versions: Any = None
    """The raw organisation-wide addonVersions table (the cluster section picks its entry)."""


def context_of(info: ValidationInfo) -> ValidationContext:
    context = info.context
    if isinstance(context, ValidationContext):
        return context
    if isinstance(context, Mapping) and isinstance(context.get("platform"), ValidationContext):
        return context["platform"]
    return ValidationContext()


# ---------------------------------------------------------------------------------------------------------------------
# Values several sections share: one definition each, so a rule is the same for every key that uses it.

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
"""The WHATWG HTML "valid e-mail address" rule, which is what forms and most AWS consoles accept."""


def _account_id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a 12-digit AWS account id, quoted")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and len(value) < 12):
        text = str(value)
        hint = ""
        if len(text) < 12:
            hint = (
                f" (an unquoted account id such as {'0' * (12 - len(text))}{text} loses its leading zeros in YAML: "
                'quote it, "0123...")'
            )
        raise ValueError(f"exactly 12 digits, quoted{hint}")
    if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
        raise ValueError("exactly 12 digits, quoted")
    return value


AccountId = Annotated[str, BeforeValidator(_account_id)]
"""A 12-digit AWS account id. YAML reads an unquoted one as a number and drops its leading zeros; the message says
so."""


def _email(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("an e-mail address such as team@example.com")
    return value


Email = Annotated[str, BeforeValidator(_email)]
"""An e-mail address, validated the same way for every key that takes one."""


def _non_empty(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("a non-empty string")
    return value


NonEmpty = Annotated[str, BeforeValidator(_non_empty)]


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError("true or false")


Bool = Annotated[bool, BeforeValidator(_bool)]
"""true or false (also as the strings the engine passes): never "yes", 1 or "on", which YAML dialects disagree on."""


def _int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ValueError("an integer")


Int = Annotated[int, BeforeValidator(_int)]
"""An integer (also as the digit string the engine passes); never a boolean or a fraction."""


_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def _chart_version(value: Any) -> Any:
    if not isinstance(value, str) or not _CHART_VERSION.match(value):
        raise ValueError('a chart version such as "1.2.3" (quote it in YAML)')
    return value


ChartVersion = Annotated[str, BeforeValidator(_chart_version)]
"""A Helm chart version, exactly as published (major.minor.patch); vendor/ must hold its artefacts."""
