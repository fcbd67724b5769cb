"""Typed stack configuration: one pure parser and one loader.

`parse()` turns a stack's raw configuration (exactly what the Pulumi engine hands the program: fully qualified keys
mapped to strings, objects as JSON text) into a frozen `StackConfig`. It collects every problem and raises a single
`ConfigError` naming each key path, the bad value and what is allowed. Unknown keys are errors.

`load()` is the only code in the program that reads Pulumi configuration.

Section parsers live in `core/sections/` (one module per section). Defaults live in the parsers and nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.sections.cluster import ClusterConfig, parse_cluster
from core.sections.common import ACCOUNT_ID, ENVIRONMENTS, WORKLOAD_ENVIRONMENTS
from core.sections.database import DatabaseConfig, parse_database
from core.sections.karpenter import KarpenterConfig, parse_karpenter
from core.sections.network import NetworkConfig, check_address_plan, parse_network
from core.sections.workloads import WorkloadsConfig, parse_workloads
from core.validate import MISSING, ConfigError, Problems, Section

PROJECT = "aws-platform"


# Values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy). 0 ("never expire") is deliberately absent.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
# AWS tag values: letters, digits, spaces and + - = . _ : / @, up to 256 characters.
_TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]{1,256}$")
_TAG_KEY = re.compile(r"^(?!aws:)[\w\s+\-=.:/@]{1,128}$")

RESERVED_TAG_KEYS = ("Project", "Environment", "Stack", "Owner", "CostCenter", "ManagedBy", "Name")
"""Tag keys the platform sets itself; `tags.extra` may not override them."""


@dataclass(frozen=True, kw_only=True)
class Tags:
    owner: str
    cost_center: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    project: str
    stack: str
    environment: str
    account_id: str
    region: str
    allowed_regions: tuple[str, ...]
    name_prefix: str
    tags: Tags
    log_retention_days: int
    protect_stateful: bool
    """Pulumi `protect` on stateful resources (databases, KMS keys, log groups, state buckets)."""
    address_plan: Mapping[str, str]
    network: NetworkConfig | None = None
    cluster: ClusterConfig | None = None
    karpenter: KarpenterConfig | None = None
    workloads: WorkloadsConfig | None = None
    database: DatabaseConfig | None = None

    @property
    def cluster_name(self) -> str:
        """The EKS cluster name, also used by the network for Karpenter subnet discovery."""
        return f"{self.name_prefix}-{self.stack}"


# ---------------------------------------------------------------------------------------------------------------------
# Raw config decoding


def decode(value: str) -> Any:
    """Decode one raw config value as the Pulumi runtime hands it over: objects and lists arrive as JSON text."""
    text = value.strip()
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def _split_namespaces(raw: Mapping[str, str], project: str, problems: Problems) -> dict[str, Any]:
    own: dict[str, Any] = {}
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if not name:
            problems.add(key, value, f"a namespaced key such as {project}:{key}")
        elif namespace == project:
            own[name] = decode(value)
        elif namespace == "pulumi":
            continue  # engine settings (disable-default-providers, tags, ...), not ours to judge
        elif namespace in ("aws", "kubernetes"):
            problems.add(
                key,
                value,
                f"nothing: the default {namespace} provider is disabled, so {key} would be ignored; "
                f"set the platform key instead (e.g. {project}:region)",
            )
        else:
            problems.add(key, value, f"keys under {project}: (unknown namespace {namespace!r})")
    return own


# ---------------------------------------------------------------------------------------------------------------------
# Sections


def _parse_tags(sec: Section) -> Tags | None:
    owner = sec.string("owner", allowed="a tag value naming the owning team")
    cost_center = sec.string("costCenter", allowed="a tag value naming the cost centre")
    extra = sec.string_map("extra", default={})
    sec.finish()
    for key, value in (("owner", owner), ("costCenter", cost_center)):
        if value is not None and not _TAG_VALUE.match(value):
            sec.bad(key, value, "1-256 characters: letters, digits, spaces and + - = . _ : / @")
    for key, value in (extra or {}).items():
        if key in RESERVED_TAG_KEYS:
            sec.bad(f"extra.{key}", value, "a key other than " + ", ".join(RESERVED_TAG_KEYS))
        elif not _TAG_KEY.match(key) or not _TAG_VALUE.match(value):
            sec.bad(f"extra.{key}", value, "a tag key (not aws:*) and a value of letters, digits, spaces, +-=._:/@")
    if owner is None or cost_center is None or extra is None:
        return None
    return Tags(owner=owner, cost_center=cost_center, extra=extra)


# ---------------------------------------------------------------------------------------------------------------------
# Entry points


def parse(raw: Mapping[str, str], *, stack: str, project: str = PROJECT) -> StackConfig:
    """Parse a stack's raw configuration (fully qualified key -> raw string) into a `StackConfig`."""
    problems = Problems()
    if not _STACK_NAME.match(stack):
        problems.add("<stack name>", stack, "2-20 characters: lowercase letters, digits and hyphens")
    own = _split_namespaces(raw, project, problems)
    top = Section(problems, project, own, sep=":")

    environment = top.choice("environment", ENVIRONMENTS)
    account_id = top.string("accountId", allowed='a 12-digit AWS account id, quoted ("012345678901")')
    if account_id is not None and not ACCOUNT_ID.match(account_id):
        top.bad("accountId", account_id, "exactly 12 digits")
        valid_account = None
    else:
        valid_account = account_id
    allowed_regions = top.string_list("allowedRegions", allowed="a list of AWS region names")
    for region_name in allowed_regions or []:
        if not _REGION.match(region_name):
            top.bad("allowedRegions", region_name, "AWS region names such as eu-west-1")
    region = top.string("region", allowed="an AWS region name such as eu-west-1")
    if region is not None and allowed_regions is not None and region not in allowed_regions:
        top.bad("region", region, "one of allowedRegions: " + ", ".join(allowed_regions))
    name_prefix = top.string("namePrefix", allowed="2-8 lowercase letters or digits, starting with a letter")
    if name_prefix is not None and not _NAME_PREFIX.match(name_prefix):
        top.bad("namePrefix", name_prefix, "2-8 lowercase letters or digits, starting with a letter")
    tags_sec = top.obj("tags")
    tags = _parse_tags(tags_sec) if tags_sec else None
    retention = top.integer("logRetentionDays", allowed="a CloudWatch Logs retention in days")
    if retention is not None and retention not in LOG_RETENTION_DAYS:
        top.bad("logRetentionDays", retention, "one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    protect = top.boolean("protectStatefulResources")
    if protect is False and environment == "prod":
        top.bad("protectStatefulResources", protect, "true (prod must protect databases, keys and log groups)")

    plan_raw = top.raw("addressPlan")
    plan: dict[str, ipaddress.IPv4Network] = {}
    if plan_raw is MISSING or not isinstance(plan_raw, Mapping):
        top.bad("addressPlan", plan_raw, "an object mapping each environment to its /16")
    else:
        plan = check_address_plan(top, plan_raw)

    network = cluster = karpenter = workloads = database = None
    workload_sections = ("network", "cluster", "karpenter", "workloads", "database")
    if environment in WORKLOAD_ENVIRONMENTS:
        net_sec = top.obj("network")
        if net_sec is not None:
            network = parse_network(net_sec, environment=environment or "", region=region, plan=plan)
        cl_sec = top.obj("cluster")
        addon_table = top.raw("addonVersions")
        if cl_sec is not None:
            cluster = parse_cluster(
                cl_sec, top, environment=environment or "", account_id=valid_account, addon_table=addon_table
            )
        kp_sec = top.obj("karpenter")
        if kp_sec is not None:
            karpenter = parse_karpenter(kp_sec, environment=environment or "")
        wl_sec = top.obj("workloads")
        if wl_sec is not None:
            workloads = parse_workloads(wl_sec)
        db_sec = top.obj("database")
        if db_sec is not None:
            database = parse_database(db_sec, environment=environment or "")
        if database is not None and workloads is not None and database.app.namespace not in workloads.namespaces:
            top.bad(
                "database.app.namespace",
                database.app.namespace,
                "one of the application namespaces in workloads.namespaces: " + ", ".join(workloads.namespaces),
            )
    else:
        top.raw("addonVersions")  # project-wide, unused by stacks without a cluster
        for key in workload_sections:
            value = top.raw(key)
            if environment is not None and value is not MISSING:
                top.bad(key, value, f"nothing: {environment} runs no {key}")
    top.finish()
    problems.raise_if_any(stack)

    assert environment
    assert account_id
    assert region
    assert allowed_regions
    assert name_prefix
    assert tags
    assert retention is not None
    assert protect is not None
    return StackConfig(
        project=project,
        stack=stack,
        environment=environment,
        account_id=account_id,
        region=region,
        allowed_regions=tuple(allowed_regions),
        name_prefix=name_prefix,
        tags=tags,
        log_retention_days=retention,
        protect_stateful=protect,
        address_plan={env: str(net) for env, net in plan.items()},
        network=network,
        cluster=cluster,
        karpenter=karpenter,
        workloads=workloads,
        database=database,
    )


def load() -> StackConfig:
    """Read this stack's configuration from the Pulumi runtime and parse it. The only reader of Pulumi config."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, str] = {}
    raw.update(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    try:
        return parse(raw, stack=pulumi.get_stack(), project=pulumi.get_project())
    except ConfigError as err:
        # Raise a RunError: Pulumi prints its message alone, without a Python traceback.
        raise pulumi.RunError(str(err)) from None


__all__ = ["ClusterConfig", "ConfigError", "NetworkConfig", "StackConfig", "Tags", "decode", "load", "parse"]
