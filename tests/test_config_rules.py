"""The mistakes operators make, refused with the key named, across the stack kinds (the per-section rules have their
own tests/test_config_<capability>.py): YAML the CLI would misread, a stack file overriding the organisation,
environment and account mismatches, profile floors, zones that do not exist, secrets in messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import yamlfile
from core.loading import REDACTED, ConfigError, Problems, redact
from offline.stackfiles import StackFileError, read_stack
from stacks.config import parse
from tests.support import copy_project, offline_plan
from tests.test_config import P, parse_any, problems_of, raw_config


def test_duplicate_yaml_keys_are_refused_with_the_key_named(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "Pulumi.sandbox.yaml").read_text()
    (tmp_path / "Pulumi.yaml").write_text((Path(__file__).parent.parent / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.sandbox.yaml").write_text(text + "  aws-platform:logRetentionDays: 30\n")
    with pytest.raises(StackFileError, match=r"key 'aws-platform:logRetentionDays' appears twice"):
        read_stack("sandbox", tmp_path)


def test_yaml_is_read_as_the_cli_reads_it() -> None:
    data = yamlfile.load("a: yes\nb: 012345678901\nc: '012345678901'\nd: true\n")
    assert data == {"a": "yes", "b": 12345678901, "c": "012345678901", "d": True}


def test_an_unquoted_account_id_gets_a_hint_to_quote_it() -> None:
    message = problems_of("sandbox", {"accountId": "43210987654"})  # what YAML leaves of 043210987654
    assert f"{P}:accountId" in message
    assert "quote it" in message


def test_the_environment_must_be_the_stacks_own_name() -> None:
    message = problems_of("stg", {"environment": "prod"})
    assert f"{P}:environment" in message
    assert "'stg', the stack's own name" in message


def test_an_environment_outside_the_table_is_refused() -> None:
    message = problems_of("stg", {"environment": "qa"})
    assert f"{P}:environment" in message
    assert "a row of environments" in message


def test_the_account_must_be_the_one_the_profile_names() -> None:
    message = problems_of("stg", {"accountId": "210987654321"})
    assert f'{P}:accountId: got "210987654321"' in message
    assert "321098765432, the account environments.stg names" in message


def test_a_zone_that_does_not_exist_in_the_region_is_refused() -> None:
    message = problems_of("prod", {"network.availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1d"]})
    assert f"{P}:network.availabilityZones[2]" in message
    assert "a zone that exists in eu-west-1: eu-west-1a, eu-west-1b, eu-west-1c" in message


def test_a_profile_floor_is_a_config_error_naming_the_key() -> None:
    message = problems_of("prod", {"logRetentionDays": "90"})
    assert f'{P}:logRetentionDays: got "90"' in message
    assert "at least 365 days" in message
    parse_any("sandbox", {"logRetentionDays": "7"})  # sandbox's floor is 7


def test_a_production_profile_must_protect_stateful_resources() -> None:
    message = problems_of("prod", {"protectStatefulResources": "false"})
    assert f"{P}:protectStatefulResources" in message
    assert "production" in message


def test_a_stack_file_overriding_an_organisation_wide_value_is_refused_by_make_plan(tmp_path: Path) -> None:
    copy_project(tmp_path, ["sandbox"])
    stack = tmp_path / "Pulumi.sandbox.yaml"
    stack.write_text(stack.read_text() + "  aws-platform:namePrefix: sbx\n")
    result = offline_plan(tmp_path, "--stack", "sandbox", "--quiet")
    assert result.returncode == 2
    assert f"{P}:namePrefix" in result.stderr
    assert "organisation-wide, set once in Pulumi.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_secrets_never_appear_in_messages() -> None:
    assert redact("aws-platform:delivery.gitops.token", "ghp_abc") == REDACTED
    assert redact("aws-platform:x.dbPassword", "hunter2") == REDACTED
    assert redact("aws-platform:delivery.gitops.repoUrl", "https://u:p4ss@github.com/a/b.git") == REDACTED
    assert redact("aws-platform:x", {"apiKey": "k", "name": "n"}) == {"apiKey": REDACTED, "name": "n"}
    assert redact("aws-platform:region", "eu-west-1") == "eu-west-1"
    problems = Problems(secret_paths=["aws-platform:tags"])
    problems.add("aws-platform:tags.owner", "s3cret", "x")
    assert problems.items[0].value == REDACTED


def test_a_secret_value_in_a_bad_key_is_redacted_end_to_end() -> None:
    raw = raw_config("sandbox", {"delivery.gitops.repoUrl": "https://bot:supersecret@github.com/acme/x"})
    with pytest.raises(ConfigError) as err:
        parse(raw, stack="sandbox")
    assert "supersecret" not in str(err.value)


def test_every_problem_of_several_kinds_is_reported_at_once() -> None:
    message = problems_of(
        "stg",
        {
            "logRetentionDays": "45",
            "network.availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1z"],
            "database.instanceClass": "db.m7g.huge",
            "karpenter.budgets": [{"nodes": "0", "schedule": "0 24 * * *", "duration": "1h"}],
        },
    )
    for key in ("logRetentionDays", "network.availabilityZones[2]", "database.instanceClass",
                "karpenter.budgets[0].schedule"):  # fmt: skip
        assert f"{P}:{key}" in message, message
    assert json.dumps("db.m7g.huge") in message
