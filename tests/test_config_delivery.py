"""The declared `delivery` section: Argo CD highly available where the profile says production; keys and defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.delivery.config import DeliveryConfig
from core.loading import Problems, validate
from core.profiles import EnvironmentProfile
from core.schema import Model, ValidationContext
from offline.stackfiles import read_stack

P = "aws-platform"

PRODUCTION = EnvironmentProfile(
    account_id="210987654321", account_email="aws+prod@example.com", ou="workloads/prod", production=True,
    highly_available=True,
)  # fmt: skip
HIGHLY_AVAILABLE = EnvironmentProfile(
    account_id="321098765432", account_email="aws+stg@example.com", ou="workloads/stg", highly_available=True
)


class _Stack(Model):
    """The section where the stack config holds it, so problems carry their full key path."""

    delivery: DeliveryConfig


def _section(stack: str = "prod") -> dict[str, Any]:
    return json.loads(read_stack(stack).config[f"{P}:delivery"])


def check(
    changes: dict[str, Any] | None = None,
    *,
    profile: EnvironmentProfile | None = None,
    environment: str | None = None,
) -> tuple[DeliveryConfig | None, str]:
    data = {k: v for k, v in (_section() | (changes or {})).items() if v is not None}
    problems = Problems()
    context = ValidationContext(environment=environment, profile=profile)
    result = validate(_Stack, {"delivery": data}, context=context, project=P, problems=problems)
    return (result.delivery if result is not None else None), "\n".join(str(p) for p in problems.items)


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_the_stacks_delivery_sections_are_accepted(stack: str) -> None:
    config = DeliveryConfig.model_validate(_section(stack))
    assert config.argocd_chart_version == "9.5.4"
    assert config.gitops.path == f"clusters/{stack}"


def test_argo_cd_must_be_highly_available_in_production() -> None:
    config, message = check({"highAvailability": False}, profile=PRODUCTION, environment="prod")
    assert config is None
    assert f"{P}:delivery.highAvailability: got false; allowed: true (prod runs Argo CD highly available)" in message
    config, message = check({"highAvailability": None}, profile=PRODUCTION, environment="live")
    assert config is None
    assert "true (live runs Argo CD highly available)" in message


def test_argo_cd_may_run_single_outside_production() -> None:
    config, message = check({"highAvailability": False}, profile=HIGHLY_AVAILABLE, environment="prod")
    assert config is not None, message
    assert config.high_availability is False
    config, message = check({"highAvailability": False})  # no profile: the rule is skipped
    assert config is not None, message


def test_highly_available_argo_cd_is_accepted_in_production() -> None:
    config, message = check(profile=PRODUCTION, environment="prod")
    assert config is not None, message
    assert config.high_availability is True


def test_defaults_are_the_old_parsers() -> None:
    data = _section()
    del data["highAvailability"], data["canaryMaxErrorRate"], data["gitops"]["targetRevision"]
    config = DeliveryConfig.model_validate(data)
    assert config.high_availability is False
    assert config.canary_max_error_rate == 0.02
    assert config.gitops.target_revision == "main"


@pytest.mark.parametrize(("value", "ratio"), [(0.05, 0.05), ("0.05", 0.05), (0.5, 0.5), ("0.999", 0.999)])
def test_canary_error_rate_accepts_ratios(value: Any, ratio: float) -> None:
    config, message = check({"canaryMaxErrorRate": value})
    assert config is not None, message
    assert config.canary_max_error_rate == ratio


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"canaryMaxErrorRate": 5}, "delivery.canaryMaxErrorRate: got 5; allowed: a ratio between 0 and 1, e.g. 0.02"),
        ({"canaryMaxErrorRate": 0}, "delivery.canaryMaxErrorRate: got 0; allowed: a ratio between 0 and 1"),
        ({"canaryMaxErrorRate": True}, "delivery.canaryMaxErrorRate: got true; allowed: a ratio between 0 and 1"),
        ({"canaryMaxErrorRate": "two percent"}, "allowed: a ratio between 0 and 1"),
        ({"argoCdChartVersion": "9.5"}, 'delivery.argoCdChartVersion: got "9.5"; allowed: a chart version'),
        ({"highAvailability": "on"}, 'delivery.highAvailability: got "on"; allowed: true or false'),
        ({"gitops": {"repoUrl": "platform-gitops", "path": "clusters/prod"}},
         'delivery.gitops.repoUrl: got "platform-gitops"; allowed: https://host/owner/repo(.git)'),
        ({"gitops": {"repoUrl": "git@github.com:acme/gitops.git", "path": "clusters/prod env"}},
         'delivery.gitops.path: got "clusters/prod env"; allowed: a relative directory path'),
        ({"gitops": {"repoUrl": "git@github.com:acme/gitops.git", "path": "a/../b"}}, "a relative directory path"),
        ({"gitops": {"repoUrl": "git@github.com:acme/gitops.git", "path": "x", "targetRevision": " "}},
         "delivery.gitops.targetRevision"),
        ({"gitops": None}, "delivery.gitops: missing"),
        ({"argocdChartVersion": "9.5.4"}, "delivery.argocdChartVersion: got \"9.5.4\"; allowed: no such key here"),
    ],
)  # fmt: skip
def test_the_old_rules_still_refuse(changes: dict[str, Any], fragment: str) -> None:
    config, message = check(changes)
    assert config is None
    assert fragment in message
