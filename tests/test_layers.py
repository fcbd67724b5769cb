"""The layout's rules, checked on the import graph: imports only go down, and nothing imports in a circle.

Layers, bottom up: `core` (the foundation: knows no capability), `components/<capability>` (each may use the
foundation and the capabilities listed before it in CAPABILITIES), `stacks` (the composition roots), then the
program's entry point and the offline tooling. Imports inside `if TYPE_CHECKING:` are type-only and never run, so they
count for neither rule.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline.stackfiles import ROOT

CAPABILITIES = (
    "baseline", "network", "cluster", "runners", "access", "nodepools", "workloads", "database", "edge",
    "observability", "delivery", "organization", "identity_center", "artifacts", "ci", "github", "state",
)  # fmt: skip
"""Capabilities in dependency order: one may import only those before it (the cluster uses the network handle; the
database, edge, observability and delivery use the cluster's; ...)."""

PACKAGES = ("core", "components", "stacks", "offline")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            found[_module_name(path)] = path
    found["__main__"] = ROOT / "__main__.py"
    return found


def _runtime_imports(path: Path, module: str) -> Iterator[str]:
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(child) for child in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")
                base = ".".join([*package[: len(package) - node.level + 1], base]).strip(".")
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


@functools.cache
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        module: {name for name in _runtime_imports(path, module) if name in modules and name != module}
        for module, path in modules.items()
    }


def _layer(module: str) -> tuple[int, int]:
    """(layer, rank within the components layer)."""
    top = module.split(".")[0]
    if top == "core":
        return (0, 0)
    if top == "components":
        capability = module.split(".")[1] if "." in module else ""
        return (1, CAPABILITIES.index(capability) if capability in CAPABILITIES else -1)
    if top == "stacks":
        return (2, 0)
    return (3, 0)


def test_every_capability_is_listed() -> None:
    folders = {p.name for p in (ROOT / "components").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(CAPABILITIES)


@pytest.mark.parametrize("module", sorted(graph()))
def test_imports_only_go_down(module: str) -> None:
    layer, rank = _layer(module)
    for imported in sorted(graph()[module]):
        other_layer, other_rank = _layer(imported)
        assert other_layer <= layer, f"{module} imports {imported}, a layer above it"
        if layer == other_layer == 1 and imported.split(".")[1] != module.split(".")[1]:
            assert other_rank < rank, f"{module} imports {imported}, a capability that comes after it"


def test_no_import_circles() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert circles == []


def test_the_graph_sees_imports() -> None:
    edges = graph()
    assert "core.schema" in edges["core.settings"]
    assert any(name.startswith("core.") for name in edges["components.network.component"])
