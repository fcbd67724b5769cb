"""Adding an environment is a profile row, a stack file and an address-plan entry (docs/runbooks/new-environment.md).

The test does exactly those three steps in a copy of the project, for a fifth environment `perf` modelled on stg, and
checks that both the new stack's plan and shared-services' plan contain everything stg gets: its own stack renders and
passes the policy pack, and shared-services creates its CI roles, image pull grant, state access, Identity Center
assignments and OU, with nothing in the program or the shared-services stack file edited.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import copy_project, offline_plan

NEW, MODEL = "perf", "stg"
NEW_ACCOUNT, MODEL_ACCOUNT = "543210987654", "321098765432"
NEW_CIDR = "10.40.0.0/16"


def add_environment(project: Path) -> None:
    """The documented procedure, step by step, as a user would edit the files."""
    # 1. A profile row in Pulumi.yaml (what the environment is).
    pulumi_yaml = project / "Pulumi.yaml"
    text = pulumi_yaml.read_text()
    row = (
        f"      {NEW}:\n"
        f'        accountId: "{NEW_ACCOUNT}"\n'
        f"        accountEmail: aws+{NEW}@example.com\n"
        f"        ou: workloads/{NEW}\n"
        "        highlyAvailable: true\n"
        "        minLogRetentionDays: 30\n"
    )
    anchor = "      sandbox:\n"
    assert anchor in text
    text = text.replace(anchor, row + anchor, 1)
    # 2. An address-plan entry.
    text = text.replace("      sandbox: 10.30.0.0/16\n", f"      sandbox: 10.30.0.0/16\n      {NEW}: {NEW_CIDR}\n", 1)
    pulumi_yaml.write_text(text)
    # 3. A stack file: the model environment's, with the new environment's own values.
    stack = (project / f"Pulumi.{MODEL}.yaml").read_text()
    stack = stack.replace(f"aws-platform:environment: {MODEL}", f"aws-platform:environment: {NEW}")
    stack = stack.replace(MODEL_ACCOUNT, NEW_ACCOUNT).replace("10.20.0.0/16", NEW_CIDR)
    stack = stack.replace(f"clusters/{MODEL}", f"clusters/{NEW}")
    (project / f"Pulumi.{NEW}.yaml").write_text(stack)


@cache
def rendered(tmp: str) -> dict[str, Any]:
    project = Path(tmp)
    copy_project(project, ["prod", MODEL, "sandbox", "shared-services"])
    add_environment(project)
    result = offline_plan(project, "--stack", NEW, "--stack", "shared-services", "--quiet", "--json", "plan.json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((project / "plan.json").read_text())


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return rendered(str(tmp_path_factory.mktemp("fifth-environment")))


def names(plan: dict[str, Any]) -> set[str]:
    return {r["name"] for r in plan["resources"]}


def test_the_new_stack_renders_like_its_model(plans: dict[str, Any]) -> None:
    from offline.plan import render

    model = {r.name for r in render(MODEL).resources}
    assert names(plans[NEW]) == model  # same logical names: the URN carries the stack
    assert plans[NEW]["exports"]["accountId"] == NEW_ACCOUNT
    assert plans[NEW]["policy"]["levels"]
    assert [d for d in plans[NEW]["policy"]["diagnostics"] if d["level"] == "mandatory"] == []


def test_shared_services_gives_it_everything_the_model_gets(plans: dict[str, Any]) -> None:
    shared = names(plans["shared-services"])
    model_names = {n for n in shared if MODEL in n}
    assert len(model_names) >= 9  # provider, CI roles, Identity Center assignments, OU
    assert {n.replace(MODEL, NEW) for n in model_names} <= shared


def _inputs(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r["inputs"] for r in plan["resources"] if r["type"] == type_]


def test_the_new_account_gets_ci_roles_pull_grants_state_access_and_assignments(plans: dict[str, Any]) -> None:
    shared = plans["shared-services"]
    roles = [
        i for i in _inputs(shared, "aws:iam/role:Role") if i.get("name") in ("pulumi-deployer", "pulumi-previewer")
    ]
    providers = {r["name"]: r for r in shared["resources"] if r["type"] == "pulumi:providers:aws"}
    assert json.loads(providers[f"aws-{NEW}"]["inputs"]["allowedAccountIds"]) == [NEW_ACCOUNT]
    assert len(roles) == 2 * 5  # deployer and previewer in the management account and four environment accounts
    pulls = [json.loads(i["policy"]) for i in _inputs(shared, "aws:ecr/repositoryPolicy:RepositoryPolicy")]
    assert pulls
    assert all(f"arn:aws:iam::{NEW_ACCOUNT}:root" in json.dumps(p) for p in pulls)
    state = [json.loads(i["policy"]) for i in _inputs(shared, "aws:s3/bucketPolicy:BucketPolicy")]
    assert any(f"arn:aws:iam::{NEW_ACCOUNT}:role/pulumi-deployer" in json.dumps(p) for p in state)
    assigned = {i["targetId"] for i in _inputs(shared, "aws:ssoadmin/accountAssignment:AccountAssignment")}
    assert NEW_ACCOUNT in assigned
    ous = {i["name"] for i in _inputs(shared, "aws:organizations/organizationalUnit:OrganizationalUnit")}
    assert NEW in ous


def test_the_procedure_edits_no_program_file(tmp_path: Path) -> None:
    """The three steps touch Pulumi.yaml and a new stack file only (what `add_environment` writes)."""
    copy_project(tmp_path, [MODEL])
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    add_environment(tmp_path)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    changed = {p.relative_to(tmp_path).as_posix() for p in after if before.get(p) != after[p]}
    assert changed == {"Pulumi.yaml", f"Pulumi.{NEW}.yaml"}
    assert NEW in yaml.safe_load((tmp_path / "Pulumi.yaml").read_text())["config"]["environments"]["value"]
