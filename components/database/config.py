"""The `database` section: RDS PostgreSQL sizing, availability, backups, windows, insights, app identity, alarms."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.environments import STRICT_ENVIRONMENTS
from core.schema import ValidationContext
from core.validation import Section

ENGINE_VERSIONS = ("15", "16", "17")
"""PostgreSQL major versions in RDS standard support that the platform accepts."""
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
PI_RETENTION_DAYS = (7, *range(31, 732, 31))
"""Performance Insights retention: 7 days (free tier) or a multiple of 31 days up to 731."""
CA_CERTIFICATES = ("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INSTANCE_CLASS = re.compile(r"^db\.([a-z0-9]+)\.([a-z0-9]+)$")
_NO_PERFORMANCE_INSIGHTS = ("micro", "small")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
_BACKUP_WINDOW = re.compile(rf"^{_TIME}-{_TIME}$")
_MAINTENANCE_WINDOW = re.compile(rf"^({'|'.join(_DAYS)}):{_TIME}-({'|'.join(_DAYS)}):{_TIME}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WEEK = 7 * 24 * 60


@dataclass(frozen=True, kw_only=True)
class AppIdentity:
    namespace: str
    service_account: str
    db_user: str


@dataclass(frozen=True, kw_only=True)
class Alarms:
    cpu_percent: int
    free_storage_gib: int
    freeable_memory_mib: int
    connections: int
    emails: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig:
    engine_version: str
    instance_class: str
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    multi_az: bool
    database_name: str
    master_username: str
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    deletion_protection: bool
    performance_insights_retention_days: int
    monitoring_interval_seconds: int
    log_min_duration_ms: int
    log_connections: bool
    secret_rotation_days: int
    ca_certificate: str
    app: AppIdentity
    alarms: Alarms

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_version}"

    @property
    def graviton(self) -> bool:
        match = _INSTANCE_CLASS.match(self.instance_class)
        return bool(match and "g" in re.sub(r"^[a-z]+\d+", "", match.group(1)))


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


def _parse_app(sec: Section) -> AppIdentity | None:
    namespace = sec.string("namespace", allowed="the application's Kubernetes namespace")
    service_account = sec.string("serviceAccount", allowed="the application's Kubernetes service account")
    db_user = sec.string("dbUser", allowed="the PostgreSQL user the application logs in as (IAM auth)")
    sec.finish()
    for key, value in (("namespace", namespace), ("serviceAccount", service_account)):
        if value is not None and not _K8S_NAME.match(value):
            sec.bad(key, value, "a DNS-1123 label (lowercase letters, digits, hyphens)")
    if db_user is not None and not _IDENTIFIER.match(db_user):
        sec.bad("dbUser", db_user, "a PostgreSQL identifier: lowercase letter first, then letters, digits, _")
    if None in (namespace, service_account, db_user):
        return None
    assert namespace is not None and service_account is not None and db_user is not None
    return AppIdentity(namespace=namespace, service_account=service_account, db_user=db_user)


def _parse_alarms(sec: Section) -> Alarms | None:
    cpu = sec.integer("cpuPercent", default=80, allowed="a CPU threshold in percent, 1-100")
    storage = sec.integer("freeStorageGiB", default=10, allowed="a free-storage floor in GiB")
    memory = sec.integer("freeableMemoryMiB", default=256, allowed="a freeable-memory floor in MiB")
    connections = sec.integer("connections", allowed="a connection-count ceiling (size it to max_connections)")
    emails = sec.string_list("emails", default=[])
    sec.finish()
    if cpu is not None and not 1 <= cpu <= 100:
        sec.bad("cpuPercent", cpu, "1-100")
    for key, value in (("freeStorageGiB", storage), ("freeableMemoryMiB", memory), ("connections", connections)):
        if value is not None and value <= 0:
            sec.bad(key, value, "a positive number")
    for email in emails or []:
        if not _EMAIL.match(email):
            sec.bad("emails", email, "e-mail addresses")
    if None in (cpu, storage, memory, connections, emails):
        return None
    assert cpu is not None and storage is not None and memory is not None
    assert connections is not None and emails is not None
    return Alarms(
        cpu_percent=cpu,
        free_storage_gib=storage,
        freeable_memory_mib=memory,
        connections=connections,
        emails=tuple(emails),
    )


def parse_database(sec: Section, *, context: ValidationContext, top: Section) -> DatabaseConfig | None:
    environment = context.environment or ""
    version = sec.choice("engineVersion", ENGINE_VERSIONS)
    instance_class = sec.string("instanceClass", allowed="an RDS instance class such as db.m7g.large")
    storage = sec.integer("allocatedStorageGiB", allowed="initial gp3 storage in GiB, 20-65536")
    max_storage = sec.integer("maxAllocatedStorageGiB", allowed="the storage autoscaling ceiling in GiB")
    multi_az = sec.boolean("multiAz")
    db_name = sec.string("databaseName", allowed="the initial database name")
    master = sec.string("masterUsername", default="platform_admin", allowed="the master user name")
    retention = sec.integer("backupRetentionDays", allowed="automated backup retention, 7-35 days")
    backup_window = sec.string("backupWindow", allowed="a daily UTC window hh:mm-hh:mm of at least 30 minutes")
    maintenance = sec.string("maintenanceWindow", allowed="a weekly UTC window ddd:hh:mm-ddd:hh:mm, >= 30 minutes")
    deletion_protection = sec.boolean("deletionProtection", default=True)
    pi_retention = sec.integer("performanceInsightsRetentionDays", default=7, allowed="7 or a multiple of 31, <= 731")
    interval = sec.integer("monitoringIntervalSeconds", default=60, allowed="1, 5, 10, 15, 30 or 60")
    log_min = sec.integer("logMinDurationMs", default=500, allowed="slow-statement threshold in ms (>= 0)")
    log_connections = sec.boolean("logConnections", default=True)
    rotation = sec.integer("secretRotationDays", default=7, allowed="master secret rotation period, 1-365 days")
    ca = sec.choice("caCertificate", CA_CERTIFICATES, default="rds-ca-rsa2048-g1")
    app_sec = sec.obj("app")
    app = _parse_app(app_sec) if app_sec is not None else None
    alarms_sec = sec.obj("alarms")
    alarms = _parse_alarms(alarms_sec) if alarms_sec is not None else None
    sec.finish()

    if instance_class is not None:
        match = _INSTANCE_CLASS.match(instance_class)
        if match is None:
            sec.bad("instanceClass", instance_class, "an RDS instance class such as db.m7g.large")
        elif match.group(2) in _NO_PERFORMANCE_INSIGHTS:
            sec.bad("instanceClass", instance_class, "medium or larger (Performance Insights needs it)")
    if storage is not None and not 20 <= storage <= 65536:
        sec.bad("allocatedStorageGiB", storage, "20-65536")
    if storage is not None and max_storage is not None and max_storage <= storage:
        sec.bad("maxAllocatedStorageGiB", max_storage, f"above allocatedStorageGiB ({storage}) to enable autoscaling")
    if multi_az is False and environment in STRICT_ENVIRONMENTS:
        sec.bad("multiAz", multi_az, f"true (environment {environment} needs a standby in another AZ)")
    if db_name is not None and not _IDENTIFIER.match(db_name):
        sec.bad("databaseName", db_name, "a PostgreSQL identifier: lowercase letter first, then letters, digits, _")
    if master is not None and (not _IDENTIFIER.match(master) or master in ("postgres", "rdsadmin", "admin")):
        sec.bad("masterUsername", master, "a PostgreSQL identifier other than the reserved postgres/rdsadmin/admin")
    if retention is not None and not 7 <= retention <= 35:
        sec.bad("backupRetentionDays", retention, "7-35 days")
    if backup_window is not None and not _BACKUP_WINDOW.match(backup_window):
        sec.bad("backupWindow", backup_window, "hh:mm-hh:mm in UTC, e.g. 02:00-03:00")
        backup_window = None
    if maintenance is not None and not _MAINTENANCE_WINDOW.match(maintenance):
        sec.bad("maintenanceWindow", maintenance, "ddd:hh:mm-ddd:hh:mm in UTC, e.g. sun:03:30-sun:04:30")
        maintenance = None
    if backup_window is not None and min(e - s for s, e in backup_intervals(backup_window)) < 30:
        sec.bad("backupWindow", backup_window, "a window of at least 30 minutes")
    if maintenance is not None:
        start, end = maintenance_interval(maintenance)
        if end - start < 30:
            sec.bad("maintenanceWindow", maintenance, "a window of at least 30 minutes")
    if backup_window is not None and maintenance is not None and windows_overlap(backup_window, maintenance):
        sec.bad("maintenanceWindow", maintenance, f"a window that does not overlap backupWindow ({backup_window})")
    if deletion_protection is False and environment == "prod":
        sec.bad("deletionProtection", deletion_protection, "true (prod databases are protected from deletion)")
    if pi_retention is not None and pi_retention not in PI_RETENTION_DAYS:
        sec.bad("performanceInsightsRetentionDays", pi_retention, "7, or a multiple of 31 up to 731")
    if interval is not None and interval not in MONITORING_INTERVALS:
        sec.bad("monitoringIntervalSeconds", interval, "one of 1, 5, 10, 15, 30, 60 (Enhanced Monitoring is on)")
    if log_min is not None and log_min < 0:
        sec.bad("logMinDurationMs", log_min, "0 or more milliseconds")
    if rotation is not None and not 1 <= rotation <= 365:
        sec.bad("secretRotationDays", rotation, "1-365 days")

    values = (version, instance_class, storage, max_storage, multi_az, db_name, master, retention, backup_window,
              maintenance, deletion_protection, pi_retention, interval, log_min, log_connections, rotation, ca, app,
              alarms)  # fmt: skip
    if any(v is None for v in values):
        return None
    assert version is not None and instance_class is not None and storage is not None and max_storage is not None
    assert db_name is not None and master is not None and retention is not None and backup_window is not None
    assert maintenance is not None and pi_retention is not None and interval is not None and log_min is not None
    assert rotation is not None and ca is not None and app is not None and alarms is not None
    return DatabaseConfig(
        engine_version=version,
        instance_class=instance_class,
        allocated_storage_gib=storage,
        max_allocated_storage_gib=max_storage,
        multi_az=bool(multi_az),
        database_name=db_name,
        master_username=master,
        backup_retention_days=retention,
        backup_window=backup_window,
        maintenance_window=maintenance,
        deletion_protection=bool(deletion_protection),
        performance_insights_retention_days=pi_retention,
        monitoring_interval_seconds=interval,
        log_min_duration_ms=log_min,
        log_connections=bool(log_connections),
        secret_rotation_days=rotation,
        ca_certificate=ca,
        app=app,
        alarms=alarms,
    )
