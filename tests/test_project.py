"""Project files: Pulumi.yaml follows Pulumi's project schema, stacks set what it requires, pins are exact."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline.stackfiles import ROOT, missing_declared_keys, project_file, stack_names
from tests.support import copy_project, offline_plan

SIMPLE_TYPES = {"string", "integer", "boolean", "array"}
DECLARATION_KEYS = {"type", "items", "description", "secret", "default", "value"}
ORG_WIDE_KEYS = {
    "namePrefix",
    "allowedRegions",
    "addressPlan",
    "addonVersions",
    "githubRepository",
    "deployerRoleName",
    "previewerRoleName",
    "breakGlassRoleName",
}


def test_project_runs_python_from_its_virtualenv() -> None:
    project = project_file()
    assert project["name"] == "aws-platform"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["description"]


def test_default_providers_are_disabled() -> None:
    assert set(project_file()["config"]["pulumi:disable-default-providers"]) >= {"aws", "kubernetes"}


def test_config_declarations_follow_the_project_schema() -> None:
    for key, decl in project_file()["config"].items():
        if ":" in key:
            continue  # another namespace: a plain value, not a declaration
        assert isinstance(decl, dict), key
        assert set(decl) <= DECLARATION_KEYS, f"{key}: {set(decl) - DECLARATION_KEYS}"
        assert decl.get("description"), f"{key} has no description"
        if "type" in decl:
            assert decl["type"] in SIMPLE_TYPES, key
            if decl["type"] == "array":
                assert decl["items"]["type"] in SIMPLE_TYPES, key


def _python_type_ok(decl_type: str, value: object) -> bool:
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
    }[decl_type]


@pytest.mark.parametrize("stack", stack_names())
def test_stack_sets_every_required_key_with_the_declared_type(stack: str) -> None:
    assert missing_declared_keys(stack) == []
    decls = project_file()["config"]
    values = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    for fq, value in values.items():
        key = fq.split(":", 1)[1]
        decl = decls.get(key)
        if isinstance(decl, dict) and "type" in decl:
            assert _python_type_ok(decl["type"], value), f"{fq}={value!r} is not a {decl['type']}"


@pytest.mark.parametrize("stack", stack_names())
def test_stack_files_do_not_override_organisation_wide_values(stack: str) -> None:
    values = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert not {k.split(":", 1)[1] for k in values} & ORG_WIDE_KEYS


def test_program_dependencies_are_exactly_these() -> None:
    """The runtime dependencies are deliberate (tests/test_lockfiles.py checks they are exact pins and locked)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[=<>!~]", dep)[0].lower() for dep in project["dependencies"]}
    assert names == {"pulumi", "pulumi-aws", "pulumi-eks", "pulumi-kubernetes", "pulumi-random", "pulumi-github",
                     "botocore", "pydantic", "pyyaml"}  # fmt: skip


README_MAX_LINES = 320
CAPABILITIES = sorted(p for p in (ROOT / "components").iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def test_readme_is_the_entry_point_and_links_the_configuration_reference() -> None:
    """The README is the entry point; every config key is in docs/configuration.md (generated), not here."""
    readme = (ROOT / "README.md").read_text()
    assert "](docs/configuration.md)" in readme, "README.md must link docs/configuration.md"
    lines = len(readme.splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; at most {README_MAX_LINES}"


@pytest.mark.parametrize("capability", CAPABILITIES, ids=lambda p: p.name)
def test_every_capability_has_a_readme(capability: Path) -> None:
    readme = capability / "README.md"
    assert readme.is_file(), f"{capability.relative_to(ROOT)} has no README.md (what it builds and why)"
    assert readme.read_text().strip(), f"{readme.relative_to(ROOT)} is empty"


DOCUMENTS = sorted({ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "components").glob("*/README.md")})
FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def relative_links(markdown: str) -> list[str]:
    """The targets of the inline links of a markdown text that point into the repository (no URL scheme, no bare
    anchor), outside code blocks and code spans."""
    prose = INLINE_CODE.sub("", FENCED_BLOCK.sub("", markdown))
    return [
        target
        for target in LINK.findall(prose)
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and not target.startswith("#")
    ]


def test_relative_links_finds_links_outside_code_only() -> None:
    text = "[a](docs/x.md) [b](https://e.org) [c](#top) `[d](no.md)`\n```\n[e](no.md)\n```\n[f](y.md#part)\n"
    assert relative_links(text) == ["docs/x.md", "y.md#part"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_markdown_links_resolve(document: Path) -> None:
    """Every relative link of the README, docs/ and the capability READMEs names a file or folder that exists."""
    broken = [
        target
        for target in relative_links(document.read_text())
        if not (document.parent / target.split("#", 1)[0]).resolve().exists()
    ]
    assert broken == [], f"{document.relative_to(ROOT)}: links to missing files: {broken}"


def test_offline_plan_reports_bad_config_without_a_traceback(tmp_path: Path) -> None:
    copy_project(tmp_path, ["prod"])
    bad = (ROOT / "Pulumi.prod.yaml").read_text().replace("natGateways: perAz", "natGateways: single")
    (tmp_path / "Pulumi.prod.yaml").write_text(bad)
    result = offline_plan(tmp_path, "--stack", "prod")
    assert result.returncode == 2
    assert "aws-platform:network.natGateways" in result.stderr
    assert '"single"' in result.stderr
    assert "Traceback" not in result.stderr


def test_offline_plan_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = subprocess.run(
        [sys.executable, "-m", "offline.plan", "--stack", "sandbox", "--json", str(out), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "stack sandbox:" in result.stdout
    import json

    doc = json.loads(out.read_text())
    types = {r["type"] for r in doc["sandbox"]["resources"]}
    assert "aws:ec2/vpc:Vpc" in types
    flow = next(r for r in doc["sandbox"]["resources"] if r["type"] == "aws:ec2/flowLog:FlowLog")
    assert flow["parent"].endswith("::network")
    assert flow["inputs"]["trafficType"] == "ALL"
    assert flow["dependencies"]


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_actions_are_pinned_by_sha(workflow: Path) -> None:
    for line in workflow.read_text().splitlines():
        match = re.search(r"uses:\s*(\S+)(.*)", line)
        if not match or match.group(1).startswith("./"):
            continue
        ref = match.group(1)
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{workflow.name}: {ref} is not pinned by SHA"
        assert re.search(r"#\s*v\d", match.group(2)), f"{workflow.name}: {ref} has no version comment"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_permissions_are_least_by_default(workflow: Path) -> None:
    doc = yaml.safe_load(workflow.read_text())
    assert doc["permissions"] == {}, "top-level permissions must be empty; jobs ask for what they need"
    for name, job in doc["jobs"].items():
        assert "permissions" in job, f"job {name} declares no permissions"
        assert "write-all" not in str(job["permissions"])


OUTSIDE_THE_REPOSITORY = re.compile(r"\.\./shared|/work/shared|ROOT\.parent|PLATFORM_SCHEMAS|Path\.home\(\)")


def test_nothing_reads_outside_the_repository() -> None:
    """A clone anywhere must test and plan: upstream artefacts are vendored under vendor/, never read from a sibling
    checkout, a workspace path or the home directory."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    sources = [
        ROOT / f
        for f in tracked
        if f.endswith((".py", ".yaml", ".yml", ".toml", ".cfg")) or f in ("Makefile", ".ci/run")
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        if path.exists() and path.name != "test_project.py"
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE_THE_REPOSITORY.search(line)
    ]
    assert offenders == []


def test_configuration_reference_is_generated_and_fresh() -> None:
    """docs/configuration.md is generated from the declared schema; regenerate with `python -m offline.config_docs`."""
    from offline.config_docs import OUTPUT, document

    assert OUTPUT.read_text() == document()
