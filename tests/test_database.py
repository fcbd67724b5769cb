"""The Database component in every workload stack: access, encryption, durability, identity and alarms."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.database.bootstrap.handler import BootstrapError, statements, verification_query
from components.database.config import DatabaseConfig, windows_overlap
from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

INSTANCE = "aws:rds/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def db_config(stack: str) -> DatabaseConfig:
    cfg = stack_config(stack).database
    assert cfg is not None
    return cfg


def instance(plan: Plan) -> Recorded:
    return plan.one(INSTANCE)


def key_arn(plan: Plan) -> str:
    return plan.one("aws:kms/key:Key", "database-database").outputs["arn"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_subnet_group_spans_the_isolated_database_subnets(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    group = plan.one("aws:rds/subnetGroup:SubnetGroup")
    assert set(group.inputs["subnetIds"]) == set(plan.exports["network"]["databaseSubnetIds"].values())
    assert instance(plan).inputs["dbSubnetGroupName"] == group.outputs["name"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_security_group_admits_only_postgres_from_the_app_security_group(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "database-database")
    rules = [r for r in plan.by_type(INGRESS) if r.inputs["securityGroupId"] == sg.outputs["id"]]
    assert {(r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {("tcp", 5432, 5432)}
    # The application's pod security group and the bootstrap function's, nothing else (not the nodes' group).
    assert {r.inputs["referencedSecurityGroupId"] for r in rules} == {
        plan.exports["database"]["appSecurityGroupId"],
        plan.one("aws:ec2/securityGroup:SecurityGroup", "database-bootstrap").outputs["id"],
    }
    assert plan.exports["cluster"]["nodeSecurityGroupId"] not in {r.inputs["referencedSecurityGroupId"] for r in rules}
    for rule in rules:
        assert "cidrIpv4" not in rule.inputs
        assert "cidrIpv6" not in rule.inputs
    assert [r for r in plan.by_type(EGRESS) if r.inputs["securityGroupId"] == sg.outputs["id"]] == []
    assert instance(plan).inputs["vpcSecurityGroupIds"] == [sg.outputs["id"]]
    assert instance(plan).inputs["publiclyAccessible"] is False


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_one_customer_key_encrypts_storage_insights_secret_logs_and_alarms(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    key = plan.one("aws:kms/key:Key", "database-database")
    assert key.inputs["enableKeyRotation"] is True
    inputs = instance(plan).inputs
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == key_arn(plan)
    assert inputs["performanceInsightsKmsKeyId"] == key_arn(plan)
    assert inputs["masterUserSecretKmsKeyId"] == key_arn(plan)
    for export in ("postgresql", "upgrade"):
        group = plan.one("aws:cloudwatch/logGroup:LogGroup", f"database-log-{export}")
        assert group.inputs["kmsKeyId"] == key_arn(plan)
    assert plan.one("aws:sns/topic:Topic", "database-alarms").inputs["kmsMasterKeyId"] == key_arn(plan)
    sids = {s["Sid"] for s in json.loads(key.inputs["policy"])["Statement"]}
    assert {"UseThroughAwsServices", "CloudWatchLogsUsesKey", "CloudWatchAlarmsPublishToTopic"} <= sids


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_parameter_group_forces_tls_and_logs(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    group = plan.one("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == "postgres17"
    params = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert params["rds.force_ssl"] == "1"
    assert params["log_min_duration_statement"] == str(db_config(stack).log_min_duration_ms)
    assert params["log_connections"] == params["log_disconnections"] == "1"
    assert "pg_stat_statements" in params["shared_preload_libraries"]
    assert instance(plan).inputs["parameterGroupName"] == group.outputs["name"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_instance_settings_follow_config(plans: dict[str, Plan], stack: str) -> None:
    inputs = instance(plans[stack]).inputs
    cfg = db_config(stack)
    assert inputs["engine"] == "postgres"
    assert inputs["engineVersion"] == cfg.engine_version
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["instanceClass"] == cfg.instance_class
    assert inputs["storageType"] == "gp3"
    assert inputs["maxAllocatedStorage"] > inputs["allocatedStorage"]
    assert inputs["multiAz"] is cfg.multi_az
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    assert inputs["manageMasterUserPassword"] is True
    assert "password" not in inputs
    assert 7 <= inputs["backupRetentionPeriod"] <= 35
    assert inputs["backupWindow"] == cfg.backup_window
    assert inputs["maintenanceWindow"] == cfg.maintenance_window
    assert inputs["copyTagsToSnapshot"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"].startswith(f"plat-{stack}-postgres-final-")
    assert inputs["deleteAutomatedBackups"] is False
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsRetentionPeriod"] == cfg.performance_insights_retention_days
    assert inputs["monitoringInterval"] == cfg.monitoring_interval_seconds
    assert inputs["monitoringRoleArn"] == plans[stack].one("aws:iam/role:Role", "database-monitoring").outputs["arn"]
    assert inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert inputs["caCertIdentifier"] == "rds-ca-rsa2048-g1"


@pytest.mark.parametrize("stack", ["prod", "stg"])
def test_multi_az_in_prod_and_stg(plans: dict[str, Plan], stack: str) -> None:
    assert instance(plans[stack]).inputs["multiAz"] is True


def test_deletion_protection_and_pulumi_protect_in_prod(plans: dict[str, Plan]) -> None:
    prod = instance(plans["prod"])
    assert prod.inputs["deletionProtection"] is True
    assert prod.protect is True
    assert plans["prod"].one("aws:kms/key:Key", "database-database").protect is True
    assert instance(plans["sandbox"]).protect is False


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_log_groups_exist_before_the_instance_exports_into_them(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    db = instance(plan)
    for export in ("postgresql", "upgrade"):
        group = plan.one("aws:cloudwatch/logGroup:LogGroup", f"database-log-{export}")
        assert group.inputs["name"] == f"/aws/rds/instance/{db.inputs['identifier']}/{export}"
        assert group.inputs["retentionInDays"] == stack_config(stack).log_retention_days
        assert group.urn in db.dependencies


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_master_secret_rotates_on_the_configured_schedule(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    (rotation,) = plan.by_type("aws:secretsmanager/secretRotation:SecretRotation")
    assert rotation.inputs["secretId"] == instance(plan).outputs["masterUserSecrets"][0]["secretArn"]
    assert rotation.inputs["rotationRules"] == {"automaticallyAfterDays": db_config(stack).secret_rotation_days}
    assert "rotationLambdaArn" not in rotation.inputs  # RDS-managed rotation, no Lambda


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_app_role_connects_only_as_its_own_user_on_this_instance(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = db_config(stack)
    role = plan.one("aws:iam/role:Role", "database-app")
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "database-app-connect").inputs["policy"])
    (statement,) = policy["Statement"]
    resource_id = instance(plan).outputs["resourceId"]
    assert statement["Action"] == "rds-db:connect"
    assert (
        statement["Resource"]
        == f"arn:aws:rds-db:eu-west-1:{plan.exports['accountId']}:dbuser:{resource_id}/{cfg.app.db_user}"
    )
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert trust["aws:RequestTag/kubernetes-namespace"] == cfg.app.namespace
    assert trust["aws:RequestTag/kubernetes-service-account"] == cfg.app.service_account
    (association,) = [
        a
        for a in plan.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if a.inputs["serviceAccount"] == cfg.app.service_account
    ]
    assert association.inputs["roleArn"] == role.outputs["arn"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_bootstrap_creates_the_iam_user_and_reads_only_the_master_secret(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = db_config(stack)
    (invocation,) = plan.by_type("aws:lambda/invocation:Invocation")
    event = json.loads(invocation.inputs["input"])
    assert event == {
        "host": instance(plan).outputs["address"],
        "port": 5432,
        "database": cfg.database_name,
        "user": cfg.app.db_user,
        "secretArn": plan.exports["database"]["masterSecretArn"],
    }
    assert "GRANT rds_iam TO" in " ".join(statements(event["user"], event["database"]))
    bootstrap_policy = json.loads(
        plan.one("aws:iam/rolePolicy:RolePolicy", "database-bootstrap-secret").inputs["policy"]
    )
    secret = [s for s in bootstrap_policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert [s["Resource"] for s in secret] == [plan.exports["database"]["masterSecretArn"]]
    assert {s["Sid"]: s["Action"] for s in bootstrap_policy["Statement"]} == {
        "ReadMasterSecret": "secretsmanager:GetSecretValue",
        "DecryptMasterSecret": "kms:Decrypt",
        "WriteOwnLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    }


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_alarms_on_cpu_storage_memory_and_connections(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = db_config(stack).alarms
    topic = plan.one("aws:sns/topic:Topic", "database-alarms")
    alarms = {a.inputs["metricName"]: a.inputs for a in plan.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {"CPUUtilization", "FreeStorageSpace", "FreeableMemory", "DatabaseConnections"}
    assert alarms["CPUUtilization"]["threshold"] == cfg.cpu_percent
    assert alarms["FreeStorageSpace"]["threshold"] == cfg.free_storage_gib * 1024**3
    assert alarms["FreeableMemory"]["threshold"] == cfg.freeable_memory_mib * 1024**2
    assert alarms["DatabaseConnections"]["threshold"] == cfg.connections
    identifier = instance(plan).inputs["identifier"]
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic.outputs["arn"]]
        assert alarm["dimensions"] == {"DBInstanceIdentifier": identifier}
    emails = [
        s.inputs["endpoint"]
        for s in plan.by_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == topic.outputs["arn"]
    ]
    assert emails == list(cfg.emails)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_outputs_are_exported(plans: dict[str, Plan], stack: str) -> None:
    exported = plans[stack].exports["database"]
    assert set(exported) == {
        "endpoint",
        "port",
        "databaseName",
        "masterSecretArn",
        "resourceId",
        "appRoleArn",
        "securityGroupId",
        "appSecurityGroupId",
        "bootstrapFunction",
        "alarmTopicArn",
    }
    assert exported["port"] == 5432
    assert exported["resourceId"].startswith("db-")


# ---------------------------------------------------------------------------------------------------------------------
# Window overlap (pure)


@pytest.mark.parametrize(
    ("backup", "maintenance", "overlap"),
    [
        ("02:00-03:00", "sun:03:30-sun:04:30", False),
        ("02:00-03:00", "sun:02:30-sun:03:30", True),
        ("23:30-00:30", "mon:00:00-mon:01:00", True),
        ("23:30-00:30", "sun:23:45-mon:00:15", True),
        ("04:00-05:00", "sat:23:00-sun:03:59", False),
        ("22:00-23:00", "sat:22:30-sat:23:30", True),
    ],
)
def test_window_overlap(backup: str, maintenance: str, overlap: bool) -> None:
    assert windows_overlap(backup, maintenance) is overlap


_times = st.tuples(st.integers(0, 23), st.integers(0, 59))


@given(start=_times, length=st.integers(30, 180), day=st.sampled_from(["mon", "wed", "sun"]))
def test_a_maintenance_window_inside_the_backup_window_always_overlaps(
    start: tuple[int, int], length: int, day: str
) -> None:
    begin = start[0] * 60 + start[1]
    end = (begin + length) % (24 * 60)
    backup = f"{begin // 60:02d}:{begin % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    inner = (begin + 10) % (24 * 60)
    inner_end = (inner + 15) % (24 * 60)
    next_day = inner_end < inner
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    end_day = days[(days.index(day) + 1) % 7] if next_day else day
    maintenance = f"{day}:{inner // 60:02d}:{inner % 60:02d}-{end_day}:{inner_end // 60:02d}:{inner_end % 60:02d}"
    assert windows_overlap(backup, maintenance)


# ---------------------------------------------------------------------------------------------------------------------
# The bootstrap SQL, run against a real PostgreSQL (the function's protocol and TLS: tests/test_database_isolation.py)


def test_bootstrap_sql_embeds_only_identifiers_the_config_accepts() -> None:
    # The statements embed the names (PostgreSQL has no bind parameters for identifiers): anything but a plain
    # identifier is refused before any SQL is built.
    assert all('"shop_app"' in sql or "'shop_app'" in sql for sql in statements("shop_app", "shop"))
    for bad in ("shop_app; DROP DATABASE shop", 'x"y', "Shop", "", "a" * 64):
        with pytest.raises(BootstrapError):
            statements(bad, "shop")
        with pytest.raises(BootstrapError):
            statements("shop_app", bad)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else None


@pytest.fixture(scope="module")
def local_postgres() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL server on a Unix socket, with an `rds_iam` role as RDS has."""
    initdb, pg_ctl, psql = _pg_bin("initdb"), _pg_bin("pg_ctl"), shutil.which("psql")
    if not (initdb and pg_ctl and psql):
        pytest.skip("no local PostgreSQL server binaries (initdb, pg_ctl, psql)")
    # Not under pytest's tmp dirs: those are private to root, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="platform-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.skip("running as root without a postgres user")
        shutil.chown(root, user)
        shutil.chown(sock, user)
        as_user = ["runuser", "-u", user, "--"]
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "admin", "--auth=trust"], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o", f"-k {sock} -c listen_addresses=''",
         "start"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    env = {**os.environ, "PGHOST": str(sock), "PGUSER": "admin", "PGDATABASE": "postgres"}
    try:
        subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-c", "CREATE ROLE rds_iam", "-c", "CREATE DATABASE shop"],
                       check=True, capture_output=True, env=env)  # fmt: skip
        yield env
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_bootstrap_sql_creates_the_iam_user_and_is_idempotent(local_postgres: dict[str, str]) -> None:
    env = {**local_postgres, "PGDATABASE": "shop"}
    for _ in range(2):  # the function may run again (a new revision, a retried invocation): it must converge
        for sql in statements("shop_app", "shop"):
            result = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True,
                                    env=env)  # fmt: skip
            assert result.returncode == 0, result.stderr
    query = verification_query("shop_app", "shop")
    out = subprocess.run(["psql", "-At", "-c", query], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "t|t|t|t"
