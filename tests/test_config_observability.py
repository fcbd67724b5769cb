"""The declared `observability` section: alert e-mail addresses follow the one e-mail rule; keys and defaults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.database.config import Alarms, DatabaseConfig
from components.observability.config import ObservabilityConfig
from core.loading import Problems, validate
from core.schema import Email, Model, ValidationContext
from offline.stackfiles import read_stack

P = "aws-platform"
EMAIL_RULE = "an e-mail address such as team@example.com"


class _Stack(Model):
    """The section where the stack config holds it, so problems carry their full key path."""

    observability: ObservabilityConfig


def _section(stack: str = "prod") -> dict[str, Any]:
    return json.loads(read_stack(stack).config[f"{P}:observability"])


def check(changes: dict[str, Any]) -> tuple[ObservabilityConfig | None, str]:
    data = {k: v for k, v in (_section() | changes).items() if v is not None}
    problems = Problems()
    result = validate(_Stack, {"observability": data}, context=ValidationContext(), project=P, problems=problems)
    return (result.observability if result is not None else None), "\n".join(str(p) for p in problems.items)


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_the_stacks_observability_sections_are_accepted(stack: str) -> None:
    config = ObservabilityConfig.model_validate(_section(stack))
    assert config.alert_emails == ("platform-oncall@example.com",)


@pytest.mark.parametrize("email", ["oncall", "oncall@localhost", "a@b@example.com", "oncall@example.com "])
def test_alert_emails_follow_the_email_rule(email: str) -> None:
    config, message = check({"alertEmails": ["platform-oncall@example.com", email]})
    assert config is None
    assert f"{P}:observability.alertEmails[1]: got {json.dumps(email)}; allowed: {EMAIL_RULE}" in message


@pytest.mark.parametrize(
    "email", ["platform-oncall@example.com", "aws+alerts@mail.example.co.uk", "first.last@ex-ample.io"]
)
def test_valid_alert_emails_are_accepted(email: str) -> None:
    config, message = check({"alertEmails": [email]})
    assert config is not None, message
    assert config.alert_emails == (email,)


def test_every_email_key_uses_the_same_rule() -> None:
    assert ObservabilityConfig.model_fields["alert_emails"].annotation == tuple[Email, ...]
    assert Alarms.model_fields["emails"].annotation == tuple[Email, ...]
    assert DatabaseConfig.model_fields["alarms"].annotation is Alarms


def test_defaults_are_the_old_parsers() -> None:
    config, message = check({"logsToS3": None, "logArchiveDays": None, "alertEmails": None})
    assert config is not None, message
    assert config.logs_to_s3 is True
    assert config.log_archive_days == 400
    assert config.alert_emails == ()


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"logArchiveDays": 29}, "observability.logArchiveDays: got 29; allowed: at least 30 days"),
        ({"logsToS3": "yes"}, 'observability.logsToS3: got "yes"; allowed: true or false'),
        (
            {"fluentBitChartVersion": "v0.2"},
            'observability.fluentBitChartVersion: got "v0.2"; allowed: a chart version',
        ),
        ({"otelCollectorChartVersion": None}, "observability.otelCollectorChartVersion: missing"),
        ({"logsToS3Bucket": "x"}, 'observability.logsToS3Bucket: got "x"; allowed: no such key here'),
    ],
)
def test_the_old_rules_still_refuse(changes: dict[str, Any], fragment: str) -> None:
    config, message = check(changes)
    assert config is None
    assert fragment in message
