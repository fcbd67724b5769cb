"""The declared `database` section: instance classes that exist, e-mail addresses, rules read from the profile."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.database.config import (
    RDS_ONLY_SIZES,
    RDS_POSTGRES_FAMILIES,
    DatabaseConfig,
    instance_class_problem,
    rds_sizes,
)
from core.ec2types import sizes_by_family
from core.loading import Problems, validate
from core.profiles import EnvironmentProfile
from core.schema import Model, ValidationContext
from offline.stackfiles import read_stack, stack_names
from tests.test_config import parse_stack

P = "aws-platform"
EMAIL_RULE = "an e-mail address such as team@example.com"

PRODUCTION = EnvironmentProfile(
    account_id="210987654321", account_email="aws+prod@example.com", ou="workloads/prod", production=True,
    highly_available=True,
)  # fmt: skip
HIGHLY_AVAILABLE = EnvironmentProfile(
    account_id="321098765432", account_email="aws+stg@example.com", ou="workloads/stg", highly_available=True
)
SANDBOX = EnvironmentProfile(
    account_id="432109876543", account_email="aws+sandbox@example.com", ou="workloads/sandbox", sandbox=True
)


class _Stack(Model):
    """The section where the stack config holds it, so problems carry their full key path."""

    database: DatabaseConfig


def _section(stack: str = "prod") -> dict[str, Any]:
    return json.loads(read_stack(stack).config[f"{P}:database"])


def check(
    changes: dict[str, Any] | None = None,
    *,
    stack: str = "prod",
    profile: EnvironmentProfile | None = None,
    environment: str | None = None,
) -> tuple[DatabaseConfig | None, list[str]]:
    """The stack file's database section with `changes` (dotted keys; None deletes), validated: (model, problems)."""
    data = _section(stack)
    for path, value in (changes or {}).items():
        *parents, leaf = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    problems = Problems()
    context = ValidationContext(stack=environment, environment=environment, profile=profile)
    result = validate(_Stack, {"database": data}, context=context, project=P, problems=problems)
    return (result.database if result is not None else None), [str(p) for p in problems.items]


def refused(changes: dict[str, Any], **kwargs: Any) -> str:
    config, problems = check(changes, **kwargs)
    assert config is None, f"{changes} was accepted"
    assert problems
    return "\n".join(problems)


def accepted(changes: dict[str, Any] | None = None, **kwargs: Any) -> DatabaseConfig:
    config, problems = check(changes, **kwargs)
    assert config is not None, "\n".join(problems)
    return config


# ---------------------------------------------------------------------------------------------------------------------
# Instance classes: db.<EC2 instance type> of a family RDS for PostgreSQL offers


@pytest.mark.parametrize("stack", [s for s in stack_names() if f"{P}:database" in read_stack(s).config])
def test_the_stacks_instance_classes_are_accepted(stack: str) -> None:
    instance_class = _section(stack)["instanceClass"]
    assert instance_class_problem(instance_class) is None
    assert accepted(stack=stack).instance_class == instance_class


@pytest.mark.parametrize(
    "instance_class",
    ["db.m7g.large", "db.t4g.medium", "db.t3.medium", "db.r8g.48xlarge", "db.m8g.medium", "db.r6gd.xlarge",
     "db.m5d.large", "db.r5b.24xlarge", "db.x2iedn.xlarge", "db.x2idn.16xlarge", "db.x2g.large", "db.r7i.48xlarge"],
)  # fmt: skip
def test_existing_postgres_instance_classes_are_accepted(instance_class: str) -> None:
    assert accepted({"instanceClass": instance_class}).instance_class == instance_class


@pytest.mark.parametrize(
    ("instance_class", "allowed"),
    [
        ("db.m7g.huge", "a size db.m7g comes in: medium, large, xlarge, 2xlarge"),
        ("db.m7g.metal", "a size db.m7g comes in"),
        ("db.t4g.nano", "a size db.t4g comes in: micro, small, medium"),
        ("db.x2g.medium", "a size db.x2g comes in: large, xlarge"),
        ("db.c5.large", "a DB instance class family RDS for PostgreSQL offers: db.t3, db.t4g"),
        ("db.z1d.large", "a DB instance class family RDS for PostgreSQL offers"),
        ("db.t2.medium", "a DB instance class family RDS for PostgreSQL offers"),
        ("db.c6gd.large", "a DB instance class family RDS for PostgreSQL offers"),
        ("db.serverless", "db.serverless is Aurora Serverless v2 only"),
        ("m7g.large", "an RDS instance class such as db.m7g.large"),
        ("db.m7g", "an RDS instance class such as db.m7g.large"),
        ("db.t4g.micro", "medium or larger (Performance Insights needs it)"),
        ("db.t3.small", "medium or larger (Performance Insights needs it)"),
    ],
)
def test_instance_classes_that_do_not_exist_for_postgres_are_refused(instance_class: str, allowed: str) -> None:
    message = refused({"instanceClass": instance_class})
    assert f"{P}:database.instanceClass: got {json.dumps(instance_class)}; allowed: " in message
    assert allowed in message


def test_every_family_is_an_ec2_family_or_a_listed_rds_only_one() -> None:
    ec2 = sizes_by_family()
    for family in RDS_POSTGRES_FAMILIES:
        assert (family in ec2) != (family in RDS_ONLY_SIZES), family
        assert rds_sizes(family), family
    assert set(RDS_ONLY_SIZES) <= set(RDS_POSTGRES_FAMILIES)


def test_sizes_come_smallest_first_without_nano_or_metal() -> None:
    assert rds_sizes("t4g") == ("micro", "small", "medium", "large", "xlarge", "2xlarge")
    assert rds_sizes("m8g")[:3] == ("medium", "large", "xlarge")
    assert rds_sizes("m8g")[-1] == "48xlarge"
    assert not any(size.startswith("metal") for family in RDS_POSTGRES_FAMILIES for size in rds_sizes(family))
    assert rds_sizes("c5") == ()


# ---------------------------------------------------------------------------------------------------------------------
# E-mail addresses: core.schema.Email, per item


@pytest.mark.parametrize("email", ["oncall", "oncall@localhost", "on call@example.com", "@example.com", ""])
def test_alarm_emails_follow_the_email_rule(email: str) -> None:
    message = refused({"alarms.emails": ["platform-oncall@example.com", email]})
    assert f"{P}:database.alarms.emails[1]: got {json.dumps(email)}; allowed: {EMAIL_RULE}" in message


@pytest.mark.parametrize(
    "email", ["platform-oncall@example.com", "aws+db.alerts@mail.example.co.uk", "o'neil@ex-ample.io"]
)
def test_valid_alarm_emails_are_accepted(email: str) -> None:
    assert accepted({"alarms.emails": [email]}).alarms.emails == (email,)


def test_alarm_emails_default_to_none() -> None:
    assert accepted({"alarms.emails": None}, stack="stg").alarms.emails == ()


# ---------------------------------------------------------------------------------------------------------------------
# Environment rules read the profile, not the environment's name


def test_multi_az_is_required_where_highly_available() -> None:
    message = refused({"multiAz": False}, profile=HIGHLY_AVAILABLE, environment="stg")
    assert f"{P}:database.multiAz: got false; allowed: true (environment stg needs a standby in another AZ)" in message
    assert "needs a standby" in refused({"multiAz": False}, profile=HIGHLY_AVAILABLE, environment="uat")


def test_single_az_is_accepted_where_not_highly_available() -> None:
    assert accepted({"multiAz": False}, profile=SANDBOX, environment="sandbox").multi_az is False
    assert accepted({"multiAz": False}, profile=SANDBOX, environment="stg").multi_az is False
    assert accepted({"multiAz": False}).multi_az is False  # no profile: the rule is skipped


def test_deletion_protection_is_required_in_production() -> None:
    message = refused({"deletionProtection": False}, profile=PRODUCTION, environment="prod")
    assert f"{P}:database.deletionProtection: got false; allowed: true (prod databases are protected" in message
    assert "live databases are protected" in refused({"deletionProtection": False}, profile=PRODUCTION,
                                                      environment="live")  # fmt: skip


def test_unprotected_database_is_accepted_outside_production() -> None:
    config = accepted({"deletionProtection": False}, profile=HIGHLY_AVAILABLE, environment="prod")
    assert config.deletion_protection is False
    assert accepted({"deletionProtection": False, "multiAz": False}, stack="sandbox", profile=SANDBOX,
                    environment="sandbox").deletion_protection is False  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------------
# The old parser's rules and defaults, unchanged


def test_defaults_are_the_old_parsers() -> None:
    optional = (
        "masterUsername",
        "deletionProtection",
        "performanceInsightsRetentionDays",
        "monitoringIntervalSeconds",
        "logMinDurationMs",
        "logConnections",
        "secretRotationDays",
        "caCertificate",
        "alarms.cpuPercent",
        "alarms.freeStorageGiB",
        "alarms.freeableMemoryMiB",
    )
    config = accepted(dict.fromkeys(optional))
    assert config.master_username == "platform_admin"
    assert config.deletion_protection is True
    assert config.performance_insights_retention_days == 7
    assert config.monitoring_interval_seconds == 60
    assert config.log_min_duration_ms == 500
    assert config.log_connections is True
    assert config.secret_rotation_days == 7
    assert config.ca_certificate == "rds-ca-rsa2048-g1"
    assert (config.alarms.cpu_percent, config.alarms.free_storage_gib, config.alarms.freeable_memory_mib) == (
        80,
        10,
        256,
    )
    assert config.parameter_group_family == "postgres17"
    assert config.graviton is True


def test_cross_field_rules_name_the_key() -> None:
    message = refused({"maxAllocatedStorageGiB": 100})
    assert f"{P}:database.maxAllocatedStorageGiB: got 100; allowed: above allocatedStorageGiB (100)" in message
    message = refused({"maintenanceWindow": "sun:02:30-sun:03:30"})
    assert (
        f'{P}:database.maintenanceWindow: got "sun:02:30-sun:03:30"; allowed: a window that does not overlap' in message
    )


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"engineVersion": "14"}, 'database.engineVersion: got "14"; allowed: one of 15, 16 or 17'),
        ({"engineVersion": 17}, "database.engineVersion: got 17"),
        ({"allocatedStorageGiB": 10}, "database.allocatedStorageGiB: got 10; allowed: 20-65536"),
        ({"multiAz": "yes"}, 'database.multiAz: got "yes"; allowed: true or false'),
        ({"backupRetentionDays": 36}, "database.backupRetentionDays: got 36; allowed: 7-35 days"),
        ({"backupWindow": "02:00-02:20"}, 'database.backupWindow: got "02:00-02:20"; allowed: a window of at least'),
        ({"maintenanceWindow": "sunday 3am"}, "allowed: ddd:hh:mm-ddd:hh:mm in UTC"),
        ({"performanceInsightsRetentionDays": 30}, "allowed: 7, or a multiple of 31 up to 731"),
        ({"monitoringIntervalSeconds": 0}, "allowed: one of 1, 5, 10, 15, 30, 60"),
        ({"logMinDurationMs": -1}, "allowed: 0 or more milliseconds"),
        ({"secretRotationDays": 400}, "allowed: 1-365 days"),
        ({"caCertificate": "rds-ca-2019"}, "allowed: one of rds-ca-rsa2048-g1"),
        ({"databaseName": "Shop"}, 'database.databaseName: got "Shop"; allowed: a PostgreSQL identifier'),
        ({"masterUsername": "admin"}, "reserved postgres/rdsadmin/admin"),
        ({"app.namespace": "Shop_NS"}, 'database.app.namespace: got "Shop_NS"; allowed: a DNS-1123 label'),
        ({"app.dbUser": "1user"}, "database.app.dbUser"),
        ({"alarms.cpuPercent": 0}, "database.alarms.cpuPercent: got 0; allowed: 1-100"),
        ({"alarms.connections": 0}, "database.alarms.connections: got 0; allowed: a positive number"),
        ({"alarms.connections": None}, "database.alarms.connections: missing"),
        ({"app": None}, "database.app: missing"),
        ({"multiAZ": True}, "database.multiAZ: got true; allowed: no such key here"),
    ],
)
def test_the_old_rules_still_refuse(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in refused(changes)


def test_the_whole_stack_pipeline_refuses_a_class_that_does_not_exist() -> None:
    from core.loading import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_stack("prod", {"database.instanceClass": "db.m7g.huge"})
    assert f'{P}:database.instanceClass: got "db.m7g.huge"; allowed: a size db.m7g comes in' in str(err.value)
    assert parse_stack("sandbox").database is not None
