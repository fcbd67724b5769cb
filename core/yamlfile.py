"""Read Pulumi's YAML files as the Pulumi CLI reads them, and refuse what it silently accepts.

The CLI's YAML library follows YAML 1.2: `yes` and `on` are strings, a plain `012345678901` is a number (so an
unquoted account id loses its leading zero). PyYAML's safe loader follows YAML 1.1 and would read both differently, so
this loader resolves plain scalars the 1.2 way. It also refuses duplicate keys: YAML keeps the last one, the CLI does
not complain, and a typo'd second `aws-platform:network` block would silently replace the first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class YamlError(ValueError):
    """A YAML file that cannot be read as the Pulumi CLI would, with every reason listed."""


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolution of plain scalars and duplicate keys recorded."""

    duplicates: list[str]


_Yaml12Loader.yaml_implicit_resolvers = {}
for tag, pattern, first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)  # YAML 1.2: a leading zero is just a decimal digit, and is lost


def _construct_mapping(loader: _Yaml12Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            loader.duplicates.append(
                f"line {key_node.start_mark.line + 1}: key {key!r} appears twice (first on line {seen[key]}); "
                "YAML would keep the last one silently"
            )
        else:
            seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Yaml12Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]


def load(text: str, *, name: str = "<yaml>") -> Any:
    """Parse `text` as the Pulumi CLI would; raise `YamlError` on malformed YAML or duplicate keys."""
    loader = _Yaml12Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as err:
        raise YamlError(f"{name} is not valid YAML: {err}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise YamlError(f"{name}: " + "; ".join(loader.duplicates))
    return data


def load_file(path: Path) -> Any:
    return load(path.read_text(), name=path.name)
