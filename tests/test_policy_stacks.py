"""The policy pack against this repository's stacks: every stack passes, and broken copies are caught."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from guardrails import ALL, BY_NAME, encryption, public_access, regions
from offline.plan import Plan
from offline.policies import PolicyConfigError, check, load_config, resolve_config
from offline.stackfiles import ROOT, project_file
from tests.conftest import STACKS
from tests.support import copy_project, offline_plan

ALWAYS_MANDATORY = [p.name for p in (*encryption.POLICIES, *public_access.POLICIES, *regions.POLICIES)]
COST_AND_AVAILABILITY = {"rds-multi-az", "rds-deletion-protection", "rds-performance-insights"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_every_mandatory_policy(plans: dict[str, Plan], stack: str) -> None:
    verdict = check(stack, plans[stack].resources)
    assert verdict.mandatory == [], "\n".join(d.message for d in verdict.mandatory)
    # Advisories only where a stack deliberately relaxes cost and availability (sandbox: single-AZ, unprotected DB).
    advisory = {d.policy for d in verdict.advisory}
    assert advisory <= COST_AND_AVAILABILITY
    if stack != "sandbox":
        assert advisory == set()


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_has_a_policy_config_that_the_cli_would_accept(stack: str) -> None:
    resolved = resolve_config(load_config(stack))
    assert set(resolved) == set(BY_NAME)


@pytest.mark.parametrize("stack", STACKS)
def test_encryption_public_access_and_region_rules_are_mandatory_everywhere(stack: str) -> None:
    levels = {name: level for name, (level, _) in resolve_config(load_config(stack)).items()}
    assert all(levels[name] == "mandatory" for name in ALWAYS_MANDATORY), levels


@pytest.mark.parametrize("stack", STACKS)
def test_only_cost_and_availability_rules_are_relaxed(stack: str) -> None:
    levels = {name: level for name, (level, _) in resolve_config(load_config(stack)).items()}
    relaxed = {name for name, level in levels.items() if level != "mandatory"}
    assert relaxed <= COST_AND_AVAILABILITY
    if stack == "prod":
        assert relaxed == set()


@pytest.mark.parametrize("stack", STACKS)
def test_policy_regions_match_the_projects_allowed_regions(stack: str) -> None:
    allowed = project_file()["config"]["allowedRegions"]["value"]
    raw = load_config(stack)
    assert raw["allowed-regions"]["allowedRegions"] == allowed
    assert raw["allowed-availability-zones"]["allowedRegions"] == allowed
    assert allowed == regions.DEFAULT_ALLOWED_REGIONS


def test_schema_defaults_equal_the_defaults_applied_in_code() -> None:
    # The CLI fills schema defaults; unit tests and the offline plan do not. Both must mean the same thing.
    assert regions.allowed_regions.config_schema is not None
    assert regions.allowed_regions.config_schema.properties["allowedRegions"]["default"] == (
        regions.DEFAULT_ALLOWED_REGIONS
    )
    for policy in ALL:
        for key, schema in (policy.config_schema.properties if policy.config_schema else {}).items():
            assert "default" in schema, f"{policy.name}.{key} has no schema default"


def test_every_policy_has_a_name_description_and_level() -> None:
    names = [p.name for p in ALL]
    assert len(names) == len(set(names))
    for policy in ALL:
        assert policy.description
        assert policy.enforcement_level is not None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"all": "mandatory", "no-such-policy": "advisory"}, "unknown policies"),
        ({"allowed-regions": {"enforcementLevel": "mandatory", "allowedRegion": ["x"]}}, "unknown config keys"),
        ({"allowed-regions": {"enforcementLevel": "mandatory", "allowedRegions": "eu-west-1"}}, "is not of type"),
        ({"rds-multi-az": "sometimes"}, "enforcementLevel 'sometimes'"),
    ],
)
def test_bad_policy_config_is_refused(config: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyConfigError, match=message):
        resolve_config(config)


# ---------------------------------------------------------------------------------------------------------------------
# Deliberately broken copies of a stack are caught by the offline plan.


def test_a_copy_with_an_unencrypted_public_bucket_is_caught(tmp_path: Path) -> None:
    copy_project(tmp_path, ["sandbox"])
    main = tmp_path / "__main__.py"
    rogue = "\n".join(
        [
            "import pulumi_aws as _aws",
            '_aws.s3.Bucket("rogue", tags=ctx.tags, opts=pulumi.ResourceOptions(provider=aws))',
        ]
    )
    main.write_text(main.read_text() + "\n" + rogue + "\n")
    result = offline_plan(tmp_path, "--stack", "sandbox")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL (1)   mandatory  s3-bucket-encrypted" in result.stdout
    assert "FAIL (1)   mandatory  s3-bucket-public-access-block" in result.stdout
    assert "Bucket 'rogue'" in result.stdout
    assert "mandatory policy violation" in result.stderr


def test_a_copy_deployed_to_a_region_outside_the_list_is_caught(tmp_path: Path) -> None:
    copy_project(tmp_path, ["sandbox"])
    main = tmp_path / "__main__.py"
    # Bypass the config parser (which would refuse the region first) to prove the policy is an independent gate.
    main.write_text(
        main.read_text().replace("aws = aws_provider(cfg)", 'aws = aws_provider(cfg, region="ap-southeast-2")')
    )
    result = offline_plan(tmp_path, "--stack", "sandbox")
    assert result.returncode == 1
    assert "mandatory  allowed-regions" in result.stdout
    assert '"ap-southeast-2"' in result.stdout


def test_an_unknown_policy_config_key_is_refused() -> None:
    raw = load_config("sandbox")
    raw["log-group-retention"]["minDay"] = 7
    with pytest.raises(PolicyConfigError, match=r"log-group-retention: unknown config keys \['minDay'\]"):
        resolve_config(raw)


def test_policy_configs_follow_the_profiles() -> None:
    """The thresholds differ between environments exactly as their profiles do."""
    assert load_config("prod")["eks-endpoint-not-public"]["allowPublicEndpoint"] is False
    assert load_config("stg")["eks-endpoint-not-public"]["allowPublicEndpoint"] is True
    assert load_config("prod")["log-group-retention"]["minDays"] == 365
    assert load_config("sandbox")["kms-key-rotation"]["minDeletionWindowDays"] == 7
    assert load_config("sandbox")["rds-multi-az"] == "advisory"
    assert "rds-multi-az" not in load_config("stg")
    assert load_config("stg")["rds-deletion-protection"] == "advisory"


def test_the_pack_assembles_and_serves() -> None:
    # `policy/__main__.py` is what `--policy-pack policy` runs: it must import the guardrails and start the analyzer
    # server (which prints its port, then blocks until killed).
    process = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else ""
    finally:
        process.kill()
        process.wait()


def test_policy_readme_lists_every_policy_with_its_level_per_stack() -> None:
    readme = (ROOT / "policy" / "README.md").read_text()
    header = next(line for line in readme.splitlines() if line.startswith("| Policy |"))
    stacks = [c.strip() for c in header.strip("|").split("|")][3:]
    assert set(stacks) == set(STACKS)
    rows = {
        cells[0].strip("` "): [c.strip() for c in cells[3:]]
        for line in readme.splitlines()
        if line.startswith("| `") and (cells := line.strip("|").split("|"))
    }
    for policy in ALL:
        assert policy.name in rows, f"policy/README.md does not list {policy.name}"
        for stack, level in zip(stacks, rows[policy.name], strict=True):
            expected = resolve_config(load_config(stack))[policy.name][0]
            assert level == expected, f"{policy.name} in {stack}: README says {level}, config says {expected}"
