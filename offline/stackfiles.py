"""Read Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does, without the CLI (YAML 1.2 scalars, see
core/yamlfile.py), refusing duplicate keys the CLI would silently collapse.

The result is exactly what the engine hands the program at run time: fully qualified keys mapped to strings
(objects and lists as JSON text), project-level values and defaults applied where the stack sets nothing. Encrypted
(`secure:`) values cannot be decrypted offline; they are replaced by a placeholder and reported as secret keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import yamlfile
from stacks.config import StackConfig, parse

ROOT = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "offline-placeholder-secret"
_DECLARATION_KEYS = {"type", "items", "description", "secret", "default", "value"}


class StackFileError(ValueError):
    pass


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: tuple[str, ...]
    stack_keys: tuple[str, ...]
    """Keys the stack file itself sets (as opposed to values inherited from Pulumi.yaml)."""


def project_file(root: Path = ROOT) -> dict[str, Any]:
    try:
        return yamlfile.load_file(root / "Pulumi.yaml")
    except yamlfile.YamlError as err:
        raise StackFileError(str(err)) from None


def stack_names(root: Path = ROOT) -> list[str]:
    names = [p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml")]
    return sorted(names)


def to_runtime(value: Any) -> str:
    """A config value as the Pulumi runtime passes it: strings as-is, booleans lower case, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _project_values(project: dict[str, Any]) -> dict[str, Any]:
    """Values Pulumi.yaml gives every stack (`value`/`default` of a declaration, or a plain value)."""
    name = project["name"]
    values: dict[str, Any] = {}
    for key, decl in (project.get("config") or {}).items():
        fq = _qualify(name, key)
        if isinstance(decl, dict) and set(decl) <= _DECLARATION_KEYS and ":" not in key:
            if "value" in decl:
                values[fq] = decl["value"]
            elif "default" in decl:
                values[fq] = decl["default"]
        else:
            values[fq] = decl
    return values


def read_stack(stack: str, root: Path = ROOT) -> StackFile:
    project = project_file(root)
    name = project["name"]
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(root))
        raise FileNotFoundError(f"no stack file {path.name}; stacks in this project: {known}")
    try:
        data = yamlfile.load_file(path) or {}
    except yamlfile.YamlError as err:
        raise StackFileError(str(err)) from None
    stack_config: dict[str, Any] = data.get("config") or {}

    merged = _project_values(project)
    secrets: list[str] = []
    for key, value in stack_config.items():
        fq = _qualify(name, key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.append(fq)
            value = SECRET_PLACEHOLDER
        merged[fq] = value
    return StackFile(
        project=name,
        stack=stack,
        config={k: to_runtime(v) for k, v in merged.items()},
        secret_keys=tuple(secrets),
        stack_keys=tuple(_qualify(name, k) for k in stack_config),
    )


def missing_declared_keys(stack: str, root: Path = ROOT) -> list[str]:
    """Project-declared keys without value or default that the stack does not set (`pulumi up` would refuse)."""
    project = project_file(root)
    name = project["name"]
    sf = read_stack(stack, root)
    missing = []
    for key, decl in (project.get("config") or {}).items():
        if ":" in key or not isinstance(decl, dict):
            continue
        if "value" not in decl and "default" not in decl and _qualify(name, key) not in sf.config:
            missing.append(key)
    return missing


def parse_stack_file(stack: str, stack_file: StackFile | None = None) -> StackConfig:
    """A stack's configuration, read as `pulumi` would and checked as the program does, including the checks only a
    look at the stack file itself allows (organisation-wide keys it must not set; secrets redacted)."""
    sf = stack_file or read_stack(stack)
    return parse(
        sf.config, stack=sf.stack, project=sf.project, stack_file_keys=sf.stack_keys, secret_keys=sf.secret_keys
    )
