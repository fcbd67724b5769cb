"""The `database` section: RDS PostgreSQL sizing, availability, backups, windows, insights, app identity, alarms."""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.ec2types import sizes_by_family
from core.schema import Bool, Email, Int, Invalid, Model, context_of

EngineVersion = Literal["15", "16", "17"]
ENGINE_VERSIONS: tuple[str, ...] = get_args(EngineVersion)
"""PostgreSQL major versions in RDS standard support that the platform accepts."""
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
PI_RETENTION_DAYS = (7, *range(31, 732, 31))
"""Performance Insights retention: 7 days (free tier) or a multiple of 31 days up to 731."""
CaCertificate = Literal["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"]
CA_CERTIFICATES: tuple[str, ...] = get_args(CaCertificate)

RDS_POSTGRES_FAMILIES = (
    "t3", "t4g",
    "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m6in", "m7g", "m7i", "m8g",
    "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r6in", "r7g", "r7i", "r8g",
    "x2g", "x2idn", "x2iedn",
)  # fmt: skip
"""DB instance class families RDS for PostgreSQL (15-17) offers for a DB instance. Source: AWS RDS User Guide,
"Supported DB engines for DB instance classes" (Concepts.DBInstanceClass.Support). Checked against the guide's 2023
table (awsdocs/amazon-rds-user-guide): t3, t4g, m5, m5d, m6g, m6gd, m6i, m7g, r5, r5b, r5d, r6g, r6gd, r6i, r7g, x2g,
x2idn, x2iedn list PostgreSQL 15 (the NVMe `d` families, once Multi-AZ DB cluster only, serve DB instances with
Optimized Reads: "Improving query performance for RDS for PostgreSQL with Amazon RDS Optimized Reads"); m8g and r8g
from the AWS Database Blog, "Leveling up Amazon RDS with AWS Graviton4" (Nov 2024). m6id, m6in, r6id, r6in, m7i and r7i
were added later and could not be confirmed against the stored documentation. Left out on purpose: z1d, x1, x1e and
x2iezn (the guide says No for PostgreSQL), m4, r4 and t2 (PostgreSQL 12 and lower only), m3 and r3 (deprecated),
c6gd (Multi-AZ DB clusters only) and db.serverless (Aurora Serverless v2 only)."""

RDS_ONLY_SIZES: dict[str, tuple[str, ...]] = {
    "x2g": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
}
"""Families RDS offers that EC2 does not (so botocore's EC2 model cannot list them), with their sizes (same source)."""

_NOT_RDS_SIZES = re.compile(r"^(nano|metal.*)$")
"""EC2 sizes RDS has no DB instance class for: no db.*.nano, no bare metal."""
_SIZE_ORDER = ("nano", "micro", "small", "medium", "large", "xlarge")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INSTANCE_CLASS = re.compile(r"^db\.([a-z0-9]+)\.([a-z0-9]+)$")
_NO_PERFORMANCE_INSIGHTS = ("micro", "small")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
_BACKUP_WINDOW = re.compile(rf"^{_TIME}-{_TIME}$")
_MAINTENANCE_WINDOW = re.compile(rf"^({'|'.join(_DAYS)}):{_TIME}-({'|'.join(_DAYS)}):{_TIME}$")
_RESERVED_USERS = ("postgres", "rdsadmin", "admin")
WEEK = 7 * 24 * 60


def _size_key(size: str) -> tuple[int, int]:
    if size in _SIZE_ORDER:
        return (_SIZE_ORDER.index(size), 0)
    return (len(_SIZE_ORDER), int(size.removesuffix("xlarge") or 1))


def rds_sizes(family: str) -> tuple[str, ...]:
    """The sizes of an RDS for PostgreSQL family (`db.<family>.<size>`), smallest first; empty if it offers none."""
    if family not in RDS_POSTGRES_FAMILIES:
        return ()
    sizes = RDS_ONLY_SIZES.get(family) or [s for s in sizes_by_family().get(family, ()) if not _NOT_RDS_SIZES.match(s)]
    return tuple(sorted(sizes, key=_size_key))


def instance_class_problem(value: str) -> str | None:
    """What is wrong with an RDS for PostgreSQL DB instance class, or None."""
    match = _INSTANCE_CLASS.match(value)
    if value == "db.serverless":
        return "a provisioned instance class such as db.m7g.large (db.serverless is Aurora Serverless v2 only)"
    if match is None:
        return "an RDS instance class such as db.m7g.large"
    family, size = match.groups()
    if family not in RDS_POSTGRES_FAMILIES:
        return "a DB instance class family RDS for PostgreSQL offers: " + ", ".join(
            f"db.{f}" for f in RDS_POSTGRES_FAMILIES
        )
    sizes = rds_sizes(family)
    if size not in sizes:
        return f"a size db.{family} comes in: " + ", ".join(sizes)
    if size in _NO_PERFORMANCE_INSIGHTS:
        return "medium or larger (Performance Insights needs it)"
    return None


def _minutes(day: int, hh: str, mm: str) -> int:
    return day * 24 * 60 + int(hh) * 60 + int(mm)


def backup_intervals(window: str) -> list[tuple[int, int]]:
    """The daily backup window as minute-of-week intervals (one per day; wrapping past midnight allowed)."""
    match = _BACKUP_WINDOW.match(window)
    assert match is not None
    out = []
    for day in range(7):
        start = _minutes(day, match.group(1), match.group(2))
        end = _minutes(day, match.group(3), match.group(4))
        if end <= start:
            end += 24 * 60
        out.append((start, end))
    return out


def maintenance_interval(window: str) -> tuple[int, int]:
    match = _MAINTENANCE_WINDOW.match(window)
    assert match is not None
    start = _minutes(_DAYS.index(match.group(1)), match.group(2), match.group(3))
    end = _minutes(_DAYS.index(match.group(4)), match.group(5), match.group(6))
    if end <= start:
        end += WEEK
    return start, end


def windows_overlap(backup: str, maintenance: str) -> bool:
    m_start, m_end = maintenance_interval(maintenance)
    for b_start, b_end in backup_intervals(backup):
        for shift in (-WEEK, 0, WEEK):
            if b_start + shift < m_end and m_start < b_end + shift:
                return True
    return False


class AppIdentity(Model):
    """The application that uses the database: who it runs as in Kubernetes and in PostgreSQL."""

    namespace: str
    """The application's Kubernetes namespace (one of workloads.namespaces)."""
    service_account: str
    """The application's Kubernetes service account; its pods may connect with IAM database authentication."""
    db_user: str
    """The PostgreSQL user the application logs in as (IAM auth); created by the bootstrap function."""
    port: Int = 8080
    """The port the application's pods serve on: the only port their pod security group admits (from the ALB and from
    the nodes: probes, Prometheus, in-cluster clients)."""

    @field_validator("namespace", "service_account")
    @classmethod
    def _k8s_name(cls, value: str) -> str:
        if not _K8S_NAME.match(value):
            raise ValueError("a DNS-1123 label (lowercase letters, digits, hyphens)")
        return value

    @field_validator("db_user")
    @classmethod
    def _db_user(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("a PostgreSQL identifier: lowercase letter first, then letters, digits, _")
        return value

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1024 <= value <= 65535:
            raise ValueError("a port 1024-65535 (the pods run as non-root)")
        return value


class Alarms(Model):
    """CloudWatch alarms on the instance, published to an encrypted SNS topic."""

    cpu_percent: Int = 80
    """Alarm when CPU utilisation stays above this percentage (1-100)."""
    free_storage_gib: Int = Field(default=10, alias="freeStorageGiB")
    """Alarm when free storage falls below this many GiB."""
    freeable_memory_mib: Int = Field(default=256, alias="freeableMemoryMiB")
    """Alarm when freeable memory falls below this many MiB."""
    connections: Int
    """Alarm when the number of connections exceeds this (size it to max_connections)."""
    emails: tuple[Email, ...] = ()
    """E-mail addresses subscribed to the alarm topic (each confirms the subscription)."""

    @field_validator("cpu_percent")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("1-100")
        return value

    @field_validator("free_storage_gib", "freeable_memory_mib", "connections")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("a positive number")
        return value


class DatabaseConfig(Model):
    """The environment's RDS for PostgreSQL instance."""

    engine_version: EngineVersion
    """PostgreSQL major version (in RDS standard support); RDS applies minor versions automatically."""
    instance_class: str
    """RDS DB instance class, `db.<family>.<size>`: a family RDS for PostgreSQL offers (RDS_POSTGRES_FAMILIES), a size
    that exists, medium or larger (Performance Insights needs it)."""
    allocated_storage_gib: Int = Field(alias="allocatedStorageGiB")
    """Initial gp3 storage in GiB, 20-65536."""
    max_allocated_storage_gib: Int = Field(alias="maxAllocatedStorageGiB")
    """The storage autoscaling ceiling in GiB, above allocatedStorageGiB."""
    multi_az: Bool
    """A synchronous standby in another AZ (required where the environment is highly available)."""
    database_name: str
    """The initial database name (a PostgreSQL identifier). Fixed once the instance exists: RDS sets it at creation,
    and the stack refuses a change (it would replace the instance and delete its data)."""
    master_username: str = "platform_admin"
    """The master user name; its password is managed by RDS in Secrets Manager. Not postgres, rdsadmin or admin, nor
    the application's user. Fixed once the instance exists, like databaseName."""
    backup_retention_days: Int
    """Automated backup retention, 7-35 days."""
    backup_window: str
    """The daily UTC backup window hh:mm-hh:mm, at least 30 minutes, e.g. 02:00-03:00."""
    maintenance_window: str
    """The weekly UTC maintenance window ddd:hh:mm-ddd:hh:mm, at least 30 minutes, not overlapping backupWindow."""
    deletion_protection: Bool = True
    """Refuse DeleteDBInstance (required in production environments)."""
    performance_insights_retention_days: Int = 7
    """Performance Insights retention: 7 days (free tier) or a multiple of 31 days up to 731."""
    monitoring_interval_seconds: Int = 60
    """Enhanced Monitoring interval in seconds: 1, 5, 10, 15, 30 or 60."""
    log_min_duration_ms: Int = 500
    """Log statements slower than this many milliseconds (log_min_duration_statement; 0 logs every statement)."""
    log_connections: Bool = True
    """Log every connection and disconnection."""
    secret_rotation_days: Int = 7
    """Rotation period of the master user secret, 1-365 days."""
    ca_certificate: CaCertificate = "rds-ca-rsa2048-g1"
    """The certificate authority of the server certificate clients verify."""
    app: AppIdentity
    """The application identity that connects with IAM database authentication."""
    alarms: Alarms
    """CloudWatch alarm thresholds and who is notified."""

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_version}"

    @property
    def graviton(self) -> bool:
        match = _INSTANCE_CLASS.match(self.instance_class)
        return bool(match and "g" in re.sub(r"^[a-z]+\d+", "", match.group(1)))

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        problem = instance_class_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("allocated_storage_gib")
    @classmethod
    def _storage(cls, value: int) -> int:
        if not 20 <= value <= 65536:
            raise ValueError("20-65536")
        return value

    @field_validator("multi_az")
    @classmethod
    def _multi_az(cls, value: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if value is False and ctx.profile is not None and ctx.profile.highly_available:
            raise ValueError(f"true (environment {ctx.environment} needs a standby in another AZ)")
        return value

    @field_validator("database_name")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("a PostgreSQL identifier: lowercase letter first, then letters, digits, _")
        return value

    @field_validator("master_username")
    @classmethod
    def _master(cls, value: str) -> str:
        if not _IDENTIFIER.match(value) or value in _RESERVED_USERS:
            raise ValueError("a PostgreSQL identifier other than the reserved postgres/rdsadmin/admin")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not 7 <= value <= 35:
            raise ValueError("7-35 days")
        return value

    @field_validator("backup_window")
    @classmethod
    def _backup_window(cls, value: str) -> str:
        if not _BACKUP_WINDOW.match(value):
            raise ValueError("hh:mm-hh:mm in UTC, e.g. 02:00-03:00")
        if min(end - start for start, end in backup_intervals(value)) < 30:
            raise ValueError("a window of at least 30 minutes")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        if not _MAINTENANCE_WINDOW.match(value):
            raise ValueError("ddd:hh:mm-ddd:hh:mm in UTC, e.g. sun:03:30-sun:04:30")
        start, end = maintenance_interval(value)
        if end - start < 30:
            raise ValueError("a window of at least 30 minutes")
        return value

    @field_validator("deletion_protection")
    @classmethod
    def _deletion_protection(cls, value: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if value is False and ctx.profile is not None and ctx.profile.production:
            raise ValueError(f"true ({ctx.environment} databases are protected from deletion)")
        return value

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        if value not in PI_RETENTION_DAYS:
            raise ValueError("7, or a multiple of 31 up to 731")
        return value

    @field_validator("monitoring_interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        if value not in MONITORING_INTERVALS:
            raise ValueError("one of 1, 5, 10, 15, 30, 60 (Enhanced Monitoring is on)")
        return value

    @field_validator("log_min_duration_ms")
    @classmethod
    def _log_min(cls, value: int) -> int:
        if value < 0:
            raise ValueError("0 or more milliseconds")
        return value

    @field_validator("secret_rotation_days")
    @classmethod
    def _rotation(cls, value: int) -> int:
        if not 1 <= value <= 365:
            raise ValueError("1-365 days")
        return value

    @model_validator(mode="after")
    def _fields_agree(self) -> DatabaseConfig:
        found: list[tuple[str, Any, str]] = []
        if self.max_allocated_storage_gib <= self.allocated_storage_gib:
            allowed = f"above allocatedStorageGiB ({self.allocated_storage_gib}) to enable autoscaling"
            found.append(("maxAllocatedStorageGiB", self.max_allocated_storage_gib, allowed))
        if windows_overlap(self.backup_window, self.maintenance_window):
            allowed = f"a window that does not overlap backupWindow ({self.backup_window})"
            found.append(("maintenanceWindow", self.maintenance_window, allowed))
        if self.app.db_user == self.master_username:
            allowed = f"a user other than masterUsername ({self.master_username}): the application logs in with IAM"
            found.append(("app.dbUser", self.app.db_user, allowed))
        if found:
            raise Invalid(*found)
        return self
