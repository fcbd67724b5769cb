"""The locks: pyproject.toml pins exactly, uv.lock matches it, and requirements.txt is the current export of uv.lock.

The program (.) and the policy pack (policy/) are locked the same way. `make lock` re-locks both and re-exports
requirements.txt; a pin changed without it, or an export edited by hand, fails here (and `uv lock --check` in lint).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PROJECTS = {"program": REPO, "policy": REPO / "policy"}


def _name(project: Path, file: str) -> str:
    return str((project / file).relative_to(REPO))


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def _exact_pin(spec: str) -> tuple[NormalizedName, str]:
    """`name==version` -> (normalized name, version); anything else (ranges, wildcards, markers, URLs) fails."""
    req = Requirement(spec)
    specifiers = list(req.specifier)
    assert req.url is None, f"{spec}: a URL, not a pin"
    assert req.marker is None, f"{spec}: pins apply everywhere (uv.lock resolves per platform)"
    assert len(specifiers) == 1, f"{spec}: not exactly one version specifier"
    (specifier,) = specifiers
    assert specifier.operator == "==", f"{spec}: not an exact pin"
    assert "*" not in specifier.version, f"{spec}: a wildcard, not an exact pin"
    return canonicalize_name(req.name), specifier.version


def _declared(project: Path) -> dict[str, list[str]]:
    """The requirement strings of pyproject.toml: runtime dependencies and each dependency group."""
    doc = _toml(project / "pyproject.toml")
    declared = {"dependencies": list(doc["project"]["dependencies"])}
    for group, specs in doc.get("dependency-groups", {}).items():
        declared[f"dependency-groups.{group}"] = [s for s in specs if isinstance(s, str)]
    return declared


def _lock(project: Path) -> dict[str, Any]:
    return _toml(project / "uv.lock")


def _root_package(lock: dict[str, Any], project: Path) -> dict[str, Any]:
    name = canonicalize_name(_toml(project / "pyproject.toml")["project"]["name"])
    (root,) = [p for p in lock["package"] if p["name"] == name and "virtual" in p["source"]]
    return root


def _locked_versions(lock: dict[str, Any]) -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        if "version" in package and "registry" in package["source"]:
            versions.setdefault(package["name"], set()).add(package["version"])
    return versions


def _runtime_closure(lock: dict[str, Any], project: Path) -> set[str]:
    """Every package `uv sync --no-dev` would install on some platform: the root's dependencies, transitively."""
    by_name = {p["name"]: p for p in lock["package"]}
    todo: list[dict[str, Any]] = list(_root_package(lock, project).get("dependencies", []))
    seen: set[tuple[str, str | None]] = set()
    while todo:
        dep = todo.pop()
        name = dep["name"]
        for extra in [None, *dep.get("extra", [])]:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            package = by_name[name]
            todo += package.get("dependencies", []) if extra is None else package["optional-dependencies"][extra]
    return {name for name, _ in seen}


def _exported_pins(project: Path) -> dict[str, str]:
    """`name==version` lines of requirements.txt (comments, `# via` annotations and blank lines skipped)."""
    pins: dict[str, str] = {}
    for raw in (project / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = line.split(";", 1)[0].strip()  # an environment marker, if the export ever needs one
        name, version = _exact_pin(requirement)
        assert name not in pins, f"{_name(project, 'requirements.txt')} pins {name} twice"
        pins[name] = version
    return pins


@pytest.mark.parametrize("project", PROJECTS.values(), ids=PROJECTS.keys())
def test_pyproject_pins_every_dependency_exactly(project: Path) -> None:
    declared = _declared(project)
    assert declared["dependencies"], "no runtime dependencies declared"
    for table, specs in declared.items():
        names = [_exact_pin(spec)[0] for spec in specs]
        assert len(names) == len(set(names)), f"{table} lists a package twice"


@pytest.mark.parametrize("project", PROJECTS.values(), ids=PROJECTS.keys())
def test_lock_was_made_from_this_pyproject(project: Path) -> None:
    """uv.lock records the requirements it was resolved from; they must be today's pins (else: `make lock`)."""
    root = _root_package(_lock(project), project)
    metadata = root.get("metadata", {})
    recorded = {
        "dependencies": sorted(f"{d['name']}{d.get('specifier', '')}" for d in metadata.get("requires-dist", [])),
    }
    for group, deps in metadata.get("requires-dev", {}).items():
        recorded[f"dependency-groups.{group}"] = sorted(f"{d['name']}{d.get('specifier', '')}" for d in deps)
    declared = {
        table: sorted(f"{name}=={version}" for name, version in map(_exact_pin, specs))
        for table, specs in _declared(project).items()
    }
    assert recorded == declared, f"{_name(project, 'uv.lock')} is stale: run `make lock`"


@pytest.mark.parametrize("project", PROJECTS.values(), ids=PROJECTS.keys())
def test_lock_holds_one_version_of_each_package(project: Path) -> None:
    """No fork by Python version or platform: every machine and CI install the same versions."""
    forked = {name: sorted(v) for name, v in _locked_versions(_lock(project)).items() if len(v) > 1}
    assert forked == {}


@pytest.mark.parametrize("project", PROJECTS.values(), ids=PROJECTS.keys())
def test_pinned_versions_are_the_locked_ones(project: Path) -> None:
    locked = _locked_versions(_lock(project))
    for specs in _declared(project).values():
        for name, version in map(_exact_pin, specs):
            assert locked.get(name) == {version}, f"{name}=={version} in pyproject.toml, {locked.get(name)} locked"


@pytest.mark.parametrize("project", PROJECTS.values(), ids=PROJECTS.keys())
def test_requirements_txt_is_the_current_export_of_the_lock(project: Path) -> None:
    """requirements.txt (for pip users, and for Pulumi Cloud's install of the published policy pack) pins every
    runtime package of uv.lock, transitive ones included, at the locked version, and nothing else."""
    lock = _lock(project)
    locked = _locked_versions(lock)
    exported = _exported_pins(project)
    stale = {name: (version, locked.get(name)) for name, version in exported.items() if {version} != locked.get(name)}
    assert stale == {}, f"{_name(project, 'requirements.txt')} differs from the lock (exported, locked): `make lock`"
    assert set(exported) == _runtime_closure(lock, project), f"{_name(project, 'requirements.txt')}: run `make lock`"


def test_policy_pack_pins_are_the_programs_versions() -> None:
    """Tests and the offline plan import the pack from .venv (the program's lock); policy/venv must run the same
    pulumi-policy and pulumi-aws (the pack reads the SDK to know which types are taggable)."""
    program = _locked_versions(_lock(PROJECTS["program"]))
    for specs in _declared(PROJECTS["policy"]).values():
        for name, version in map(_exact_pin, specs):
            assert program.get(name) == {version}, f"policy pins {name}=={version}; the program: {program.get(name)}"
