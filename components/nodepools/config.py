"""The `karpenter` section: controller version, AMI pin, node pools (amd64/arm64), Spot/On-Demand mix, disruption."""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.cluster.config import architecture_of_instance_type
from components.nodepools import karpenter
from core.ec2types import sizes_by_family
from core.schema import ValidationContext
from core.validation import Section

ARCHITECTURES = ("amd64", "arm64")
DISRUPTION_REASONS = ("Drifted", "Underutilized", "Empty")
_VERSION = re.compile(r"^1\.\d+\.\d+$")
_AMI_ALIAS = re.compile(r"^(al2023|bottlerocket)@(latest|v\d{8}|v\d+\.\d+\.\d+)$")
_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")
_NODES = re.compile(r"^(\d+|\d{1,3}%)$")
_CRON_FIELD = r"(\*|[\w,\-/*]+)"
_CRON = re.compile(r"^" + r"\s+".join([_CRON_FIELD] * 5) + r"$")


@dataclass(frozen=True, kw_only=True)
class NodePoolConfig:
    architecture: str
    families: tuple[str, ...]
    sizes: tuple[str, ...]
    cpu_limit: int
    memory_limit_gib: int
    on_demand_base_cpu: int
    """vCPUs served On-Demand before Spot (a weighted On-Demand pool limited to this); 0 = no floor."""
    spot: bool


@dataclass(frozen=True, kw_only=True)
class Budget:
    nodes: str
    schedule: str | None = None
    duration: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class KarpenterConfig:
    version: str
    ami_alias: str
    create_spot_service_linked_role: bool
    root_volume_gib: int
    detailed_monitoring: bool
    consolidate_after: str
    expire_after: str
    termination_grace_period: str
    budgets: tuple[Budget, ...]
    node_pools: dict[str, NodePoolConfig]


def _is_duration(value: str) -> bool:
    return bool(value) and _DURATION.match(value) is not None


def _parse_pool(sec: Section, architecture: str, *, environment: str) -> NodePoolConfig | None:
    families = sec.string_list("families", allowed="a list of EC2 instance families such as m7g")
    sizes = sec.string_list("sizes", allowed="a list of instance sizes such as medium, large, xlarge")
    cpu_limit = sec.integer("cpuLimit", allowed="the pool's total vCPU limit (a positive integer)")
    memory_limit = sec.integer("memoryLimitGiB", allowed="the pool's total memory limit in GiB (a positive integer)")
    base = sec.integer("onDemandBaseCpu", default=0, allowed="vCPUs kept On-Demand before Spot (>= 0)")
    spot = sec.boolean("spot", default=True)
    sec.finish()

    catalogue = sizes_by_family()
    for family in families or []:
        known = catalogue.get(family)
        if known is None:
            sec.bad("families", family, "an EC2 instance family that exists (botocore's EC2 InstanceType list)")
        elif architecture_of_instance_type(f"{family}.large") != architecture:
            sec.bad("families", family, f"{architecture} instance families (the pool's architecture)")
        else:
            for size in sizes or []:
                if size not in known:
                    sec.bad(
                        "sizes",
                        f"{family}.{size}",
                        f"sizes every family offers; {family} has: {', '.join(sorted(known))}",
                    )
    if families is not None and not families:
        sec.bad("families", families, "at least one instance family")
    if sizes is not None and not sizes:
        sec.bad("sizes", sizes, "at least one size")
    if cpu_limit is not None and cpu_limit <= 0:
        sec.bad("cpuLimit", cpu_limit, "a positive number of vCPUs")
    if memory_limit is not None and memory_limit <= 0:
        sec.bad("memoryLimitGiB", memory_limit, "a positive number of GiB")
    if base is not None and cpu_limit is not None and not 0 <= base < cpu_limit:
        sec.bad("onDemandBaseCpu", base, f"0 or more and below cpuLimit ({cpu_limit})")
    if base == 0 and environment == "prod":
        sec.bad("onDemandBaseCpu", base, "a positive On-Demand floor in prod")
    if spot is False and base:
        sec.bad("onDemandBaseCpu", base, "0 when spot is false (the whole pool is On-Demand)")

    if None in (families, sizes, cpu_limit, memory_limit, base, spot):
        return None
    assert families is not None and sizes is not None and cpu_limit is not None
    assert memory_limit is not None and base is not None and spot is not None
    return NodePoolConfig(
        architecture=architecture,
        families=tuple(families),
        sizes=tuple(sizes),
        cpu_limit=cpu_limit,
        memory_limit_gib=memory_limit,
        on_demand_base_cpu=base,
        spot=spot,
    )


def _parse_budgets(sec: Section) -> tuple[Budget, ...] | None:
    raw = sec.raw("budgets")
    if not isinstance(raw, list) or not raw:
        sec.bad("budgets", raw, 'a non-empty list of budgets such as [{nodes: "10%"}]')
        return None
    budgets: list[Budget] = []
    ok = True
    for index, item in enumerate(raw):
        where = f"budgets[{index}]"
        if not isinstance(item, dict):
            sec.bad(where, item, "an object with nodes and optionally schedule, duration and reasons")
            ok = False
            continue
        unknown = sorted(set(item) - {"nodes", "schedule", "duration", "reasons"})
        if unknown:
            sec.bad(
                f"{where}.{unknown[0]}", item[unknown[0]], "no such key (known: nodes, schedule, duration, reasons)"
            )
            ok = False
        nodes, schedule, duration = item.get("nodes"), item.get("schedule"), item.get("duration")
        reasons = item.get("reasons", [])
        if not isinstance(nodes, str) or not _NODES.match(nodes):
            sec.bad(f"{where}.nodes", nodes, 'a node count or percentage as a string, e.g. "0", "1" or "10%"')
            ok = False
        if (schedule is None) != (duration is None):
            sec.bad(where, item, "schedule and duration set together (or neither)")
            ok = False
        if schedule is not None and (not isinstance(schedule, str) or not _CRON.match(schedule.strip())):
            sec.bad(f"{where}.schedule", schedule, 'a five-field cron expression in UTC, e.g. "0 7 * * mon-fri"')
            ok = False
        if duration is not None and (not isinstance(duration, str) or not _is_duration(duration)):
            sec.bad(f"{where}.duration", duration, 'a duration such as "10h" or "30m"')
            ok = False
        if not isinstance(reasons, list) or any(r not in DISRUPTION_REASONS for r in reasons):
            sec.bad(f"{where}.reasons", reasons, "a list of " + ", ".join(DISRUPTION_REASONS))
            ok = False
        if ok:
            budgets.append(Budget(nodes=str(nodes), schedule=schedule, duration=duration, reasons=tuple(reasons)))
    return tuple(budgets) if ok else None


def parse_karpenter(sec: Section, *, context: ValidationContext, top: Section) -> KarpenterConfig | None:
    environment = context.environment or ""
    version = sec.string("version", allowed='a Karpenter 1.x release such as "1.14.1"')
    alias = sec.string("amiAlias", allowed="an AMI alias such as al2023@v20260903")
    create_slr = sec.boolean("createSpotServiceLinkedRole")
    volume = sec.integer("rootVolumeGiB", default=50, allowed="a root volume size in GiB, 20-1000")
    monitoring = sec.boolean("detailedMonitoring", default=False)
    consolidate_after = sec.string("consolidateAfter", default="1m", allowed='a duration such as "1m"')
    expire_after = sec.string("expireAfter", default="720h", allowed='a duration such as "720h", or "Never"')
    grace = sec.string("terminationGracePeriod", default="24h", allowed='a duration such as "24h"')
    # Karpenter's own default is one budget of 10% of the pool's nodes.
    budgets = _parse_budgets(sec) if sec.has("budgets") else (Budget(nodes="10%"),)
    pools_sec = sec.obj("nodePools")
    pools: dict[str, NodePoolConfig] = {}
    pools_ok = pools_sec is not None
    if pools_sec is not None:
        for arch in ARCHITECTURES:
            pool_sec = pools_sec.obj(arch, default=None)
            if pool_sec is None:
                continue
            pool = _parse_pool(pool_sec, arch, environment=environment)
            if pool is None:
                pools_ok = False
            else:
                pools[arch] = pool
        pools_sec.finish()
        if not set(pools_sec.data) & set(ARCHITECTURES):
            sec.bad("nodePools", dict(pools_sec.data), "at least one of the pools amd64, arm64")
            pools_ok = False
    sec.finish()

    if version is not None:
        if not _VERSION.match(version):
            sec.bad("version", version, 'a Karpenter 1.x release such as "1.14.1"')
            version = None
        elif karpenter.minor(version) not in karpenter.supported_versions():
            sec.bad(
                "version",
                version,
                "a version whose controller IAM is recorded in core/karpenter.py ("
                + ", ".join(f"{v}.x" for v in karpenter.supported_versions())
                + "); review the release's CloudFormation template and add it there first",
            )
            version = None
    if alias is not None:
        match = _AMI_ALIAS.match(alias)
        if match is None:
            sec.bad("amiAlias", alias, "al2023@<version> or bottlerocket@<version>, e.g. al2023@v20260903")
            alias = None
        elif match.group(2) == "latest" and environment != "sandbox":
            sec.bad("amiAlias", alias, f"a pinned AMI version in {environment} (@latest is allowed only in sandbox)")
            alias = None
    if volume is not None and not 20 <= volume <= 1000:
        sec.bad("rootVolumeGiB", volume, "20-1000")
    for key, value in (("consolidateAfter", consolidate_after), ("terminationGracePeriod", grace)):
        if value is not None and not _is_duration(value):
            sec.bad(key, value, 'a duration such as "30s", "5m" or "24h"')
    if expire_after is not None and expire_after != "Never" and not _is_duration(expire_after):
        sec.bad("expireAfter", expire_after, 'a duration such as "720h", or "Never"')

    values = (version, alias, create_slr, volume, monitoring, consolidate_after, expire_after, grace, budgets)
    if any(v is None for v in values) or not pools_ok:
        return None
    assert version is not None and alias is not None and create_slr is not None and volume is not None
    assert consolidate_after is not None and expire_after is not None and grace is not None and budgets is not None
    return KarpenterConfig(
        version=version,
        ami_alias=alias,
        create_spot_service_linked_role=create_slr,
        root_volume_gib=volume,
        detailed_monitoring=bool(monitoring),
        consolidate_after=consolidate_after,
        expire_after=expire_after,
        termination_grace_period=grace,
        budgets=budgets,
        node_pools=pools,
    )
