"""The `karpenter` section: controller version, AMI pin, node pools (amd64/arm64), Spot/On-Demand mix, disruption.

Durations, budgets and schedules accept exactly what the pinned Karpenter accepts: the NodePool CRD's patterns
(copied below; tests/test_config_nodepools.py checks them against the vendored CRD) and what the controller then
parses (Go's `time.ParseDuration`, robfig/cron's standard parser, a 32-bit node count).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from components.nodepools import karpenter
from core.ec2types import architecture_of_family, sizes_by_family
from core.schema import Bool, Int, Invalid, Model, context_of

ARCHITECTURES = ("amd64", "arm64")
DISRUPTION_REASONS = ("Drifted", "Underutilized", "Empty")
_VERSION = re.compile(r"^1\.\d+\.\d+$")
_AMI_ALIAS = re.compile(r"^(al2023|bottlerocket)@(latest|v\d{8}|v\d+\.\d+\.\d+)$")

# ---------------------------------------------------------------------------------------------------------------------
# What Karpenter 1.14.1 accepts (vendor/crds/karpenter/1.14.1/karpenter.sh_nodepools.yaml, kubernetes-sigs/karpenter
# pkg/apis/v1/nodepool.go and duration.go). The patterns are the CRD's, character for character.

CONSOLIDATE_AFTER_PATTERN = r"^(([0-9]+(s|m|h))+|Never)$"
"""spec.disruption.consolidateAfter"""
EXPIRE_AFTER_PATTERN = r"^(([0-9]+(s|m|h))+|Never)$"
"""spec.template.spec.expireAfter"""
TERMINATION_GRACE_PERIOD_PATTERN = r"^([0-9]+(s|m|h))+$"
"""spec.template.spec.terminationGracePeriod"""
BUDGET_DURATION_PATTERN = r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$"
"""spec.disruption.budgets[].duration: hours and minutes only."""
BUDGET_NODES_PATTERN = r"^((100|[0-9]{1,2})%|[0-9]+)$"
"""spec.disruption.budgets[].nodes"""
BUDGET_SCHEDULE_PATTERN = r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\s(.+)\s(.+)\s(.+)\s(.+))$"
"""spec.disruption.budgets[].schedule (note the unanchored alternatives: the cron parser refuses what slips through)"""

MAX_GO_DURATION = "2562047h47m16s"
"""The longest duration Go's time.ParseDuration reads (2^63-1 ns, rounded down to whole seconds)."""
_MAX_INT32 = 2**31 - 1

CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _go_regexp(pattern: str) -> re.Pattern[str]:
    r"""A CRD pattern as Kubernetes applies it (Go RE2, unanchored search): `$` is the end of the text only (Python's
    `\Z`; Python's `$` also matches before a final newline) and `\s` is ASCII whitespace without \v."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            out.append(r"[\t\n\f\r ]" if char == "s" and not in_class else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == "]":
            in_class = False
            out.append(char)
        elif char == "$" and not in_class:
            out.append(r"\Z")
        else:
            out.append(char)
    return re.compile("".join(out))


_CONSOLIDATE_AFTER = _go_regexp(CONSOLIDATE_AFTER_PATTERN)
_EXPIRE_AFTER = _go_regexp(EXPIRE_AFTER_PATTERN)
_TERMINATION_GRACE_PERIOD = _go_regexp(TERMINATION_GRACE_PERIOD_PATTERN)
_BUDGET_DURATION = _go_regexp(BUDGET_DURATION_PATTERN)
_BUDGET_NODES = _go_regexp(BUDGET_NODES_PATTERN)
_BUDGET_SCHEDULE = _go_regexp(BUDGET_SCHEDULE_PATTERN)


_GO_UNITS = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "m": 60_000_000_000, "h": 3_600_000_000_000}  # fmt: skip


def go_parse_duration(text: str) -> int | None:
    """Go's time.ParseDuration, which Karpenter reads every duration with: the nanoseconds, or None where Go returns
    an error (malformed, unknown unit, or beyond int64 nanoseconds: longer than 2562047h47m16.854775807s)."""
    s = text
    negative = False
    if s[:1] in ("-", "+"):
        negative, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            return None
        digits = len(s) - len(s.lstrip("0123456789"))
        whole, s = s[:digits], s[digits:]
        value = 0
        for char in whole:  # leadingInt
            if value > (1 << 63) // 10:
                return None
            value = value * 10 + int(char)
            if value > 1 << 63:
                return None
        fraction, scale, has_fraction = 0, 1.0, False
        if s[:1] == ".":
            s = s[1:]
            digits = len(s) - len(s.lstrip("0123456789"))
            has_fraction, overflow = digits > 0, False
            for char in s[:digits]:  # leadingFraction
                if overflow:
                    continue
                if fraction > ((1 << 63) - 1) // 10:
                    overflow = True
                    continue
                following = fraction * 10 + int(char)
                if following > 1 << 63:
                    overflow = True
                    continue
                fraction, scale = following, scale * 10
            s = s[digits:]
        if not whole and not has_fraction:
            return None
        length = next((i for i, char in enumerate(s) if char == "." or "0" <= char <= "9"), len(s))
        unit = _GO_UNITS.get(s[:length])
        if length == 0 or unit is None:
            return None
        s = s[length:]
        if value > (1 << 63) // unit:
            return None
        value *= unit
        if fraction > 0:
            value += int(float(fraction) * (float(unit) / scale))
            if value > 1 << 63:
                return None
        total += value
        if total > 1 << 63:
            return None
    if negative:
        return -total
    return total if total <= (1 << 63) - 1 else None


def _go_is_space(char: str) -> bool:
    """Go's unicode.IsSpace (what strings.Fields and strings.TrimSpace split and trim on)."""
    if char in "\t\n\v\f\r \x85\xa0":
        return True
    return ord(char) > 0xFF and (unicodedata.category(char) == "Zs" or char in "\u2028\u2029")


def _go_fields(text: str) -> list[str]:
    fields: list[str] = []
    current = ""
    for char in text:
        if _go_is_space(char):
            if current:
                fields.append(current)
            current = ""
        else:
            current += char
    if current:
        fields.append(current)
    return fields


def _go_trim_space(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _go_is_space(text[start]):
        start += 1
    while end > start and _go_is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def _go_atoi(text: str) -> int | None:
    """strconv.Atoi: optional sign and decimal digits, within int64; None where Go returns an error."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    number = int(text)
    return number if -(2**63) <= number <= 2**63 - 1 else None


def _go_lower(text: str) -> str:
    """strings.ToLower (simple case mapping, character by character)."""
    return "".join("i" if char == "\u0130" else char.lower() for char in text)


_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_WEEKDAYS = {name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int] | None], ...] = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _WEEKDAYS),
)


def _cron_number(text: str, names: dict[str, int] | None) -> int | str:
    """parseIntOrName: the value, or why it is not one."""
    if names is not None and _go_lower(text) in names:
        return names[_go_lower(text)]
    number = _go_atoi(text)
    if number is None:
        return f"{text!r} is not a number" + (" or a name" if names else "")
    if number < 0:
        return f"{number} is negative"
    return number


def _cron_range(expr: str, what: str, low: int, high: int, names: dict[str, int] | None) -> str | None:
    """robfig/cron v3 getRange: None if `expr` (`*`, `?`, `N`, `N-M`, each optionally `/step`) is valid."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _cron_number(low_and_high[0], names)
        if isinstance(start, str):
            return f"{what}: {start}"
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _cron_number(low_and_high[1], names)
            if isinstance(end, str):
                return f"{what}: {end}"
        else:
            return f"{what}: too many hyphens in {expr!r}"
    step = 1
    if len(range_and_step) == 2:
        parsed = _cron_number(range_and_step[1], None)
        if isinstance(parsed, str):
            return f"{what}: step {parsed}"
        step = parsed
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
    elif len(range_and_step) > 2:
        return f"{what}: too many slashes in {expr!r}"
    if start < low:
        return f"{what}: {start} is below {low}"
    if end > high:
        return f"{what}: {end} is above {high}"
    if start > end:
        return f"{what}: range {expr!r} starts after it ends"
    if step == 0:
        return f"{what}: a step of 0"
    return None


def cron_problem(schedule: str) -> str | None:
    """Why Karpenter 1.14.1 refuses a budget schedule, or None if it accepts it: the CRD's pattern, then
    `cron.ParseStandard("TZ=UTC " + schedule)` of robfig/cron v3.0.1 (five fields: minute 0-59, hour 0-23, day of
    month 1-31, month 1-12 or jan-dec, day of week 0-6 or sun-sat, each `*`, `?`, a list, a range, `/step`; or one of
    the descriptors)."""
    if not _BUDGET_SCHEDULE.search(schedule):
        return "five fields separated by spaces, or a descriptor"
    spec = _go_trim_space(schedule)
    if spec.startswith("@"):
        if spec in CRON_DESCRIPTORS:
            return None
        if spec.startswith("@every ") and go_parse_duration(spec[len("@every ") :]) is not None:
            return None  # robfig's interval form; the CRD pattern lets it through only padded to five "fields"
        return f"{spec!r} is not one of the descriptors"
    fields = _go_fields(spec)
    if len(fields) != 5:
        return f"exactly 5 fields, not {len(fields)}"
    for field, (what, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for expr in (part for part in field.split(",") if part):
            problem = _cron_range(expr, what, low, high, names)
            if problem is not None:
                return problem
    return None


_CRON_TEXT = (
    'a five-field cron expression in UTC, e.g. "0 7 * * mon-fri" (minute 0-59, hour 0-23, day of month 1-31, '
    "month 1-12 or jan-dec, day of week 0-6 or sun-sat; *, ?, lists, ranges, /step), or one of "
    + ", ".join(CRON_DESCRIPTORS)
)


# ---------------------------------------------------------------------------------------------------------------------
# The section


class NodePoolConfig(Model):
    """One architecture's pool of workload nodes: the instance families and sizes Karpenter may launch, its limits
    and its Spot/On-Demand mix."""

    families: tuple[str, ...]
    """EC2 instance families (at least one, each existing in EC2 and of the pool's architecture), e.g. `[m7g, c7g]`."""
    sizes: tuple[str, ...]
    """Instance sizes (at least one), each offered by every family, e.g. `[medium, large, xlarge]`."""
    cpu_limit: Int
    """The pool's total vCPU limit (a positive integer)."""
    memory_limit_gib: Int = Field(alias="memoryLimitGiB")
    """The pool's total memory limit in GiB (a positive integer)."""
    on_demand_base_cpu: Int = 0
    """vCPUs served On-Demand before Spot (a weighted On-Demand pool limited to this), below cpuLimit; 0 = no floor.
    Positive in production when the pool uses Spot."""
    spot: Bool = True
    """Whether the pool uses Spot capacity (with On-Demand fallback); false makes the whole pool On-Demand."""

    _architecture: str = PrivateAttr(default="")

    @property
    def architecture(self) -> str:
        """amd64 or arm64: the key of the pool under nodePools."""
        return self._architecture

    @field_validator("families")
    @classmethod
    def _families(cls, families: tuple[str, ...]) -> tuple[str, ...]:
        if not families:
            raise ValueError("at least one instance family")
        catalogue = sizes_by_family()
        found = [
            (f"[{index}]", family, "an EC2 instance family that exists (botocore's EC2 InstanceType list)")
            for index, family in enumerate(families)
            if family not in catalogue
        ]
        if found:
            raise Invalid(*found)
        return families

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, sizes: tuple[str, ...]) -> tuple[str, ...]:
        if not sizes:
            raise ValueError("at least one size")
        return sizes

    @field_validator("cpu_limit")
    @classmethod
    def _cpu_limit(cls, cpu_limit: int) -> int:
        if cpu_limit <= 0:
            raise ValueError("a positive number of vCPUs")
        return cpu_limit

    @field_validator("memory_limit_gib")
    @classmethod
    def _memory_limit(cls, memory_limit: int) -> int:
        if memory_limit <= 0:
            raise ValueError("a positive number of GiB")
        return memory_limit

    @model_validator(mode="after")
    def _on_demand_floor(self, info: ValidationInfo) -> NodePoolConfig:
        ctx = context_of(info)
        found: list[tuple[str, Any, str]] = []
        base = self.on_demand_base_cpu
        if not 0 <= base < self.cpu_limit:
            found.append(("onDemandBaseCpu", base, f"0 or more and below cpuLimit ({self.cpu_limit})"))
        if not self.spot and base:
            found.append(("onDemandBaseCpu", base, "0 when spot is false (the whole pool is On-Demand)"))
        if self.spot and base == 0 and ctx.profile is not None and ctx.profile.production:
            found.append(("onDemandBaseCpu", base, f"a positive On-Demand floor in {ctx.environment}"))
        if found:
            raise Invalid(*found)
        return self


class NodePools(Model):
    """The workload node pools, one per architecture (at least one)."""

    amd64: NodePoolConfig | None = None
    """The x86-64 pool (Intel and AMD families)."""
    arm64: NodePoolConfig | None = None
    """The Graviton pool."""

    @field_validator("amd64", "arm64")
    @classmethod
    def _architecture_and_sizes(cls, pool: NodePoolConfig | None, info: ValidationInfo) -> NodePoolConfig | None:
        if pool is None:
            return pool
        architecture = str(info.field_name)
        found: list[tuple[str, Any, str]] = []
        catalogue = sizes_by_family()
        for index, family in enumerate(pool.families):
            if architecture_of_family(family) != architecture:
                found.append(
                    (f"families[{index}]", family, f"{architecture} instance families (the pool's architecture)")
                )
                continue
            known = catalogue[family]
            for size_index, size in enumerate(pool.sizes):
                if size not in known:
                    offered = ", ".join(sorted(known))
                    found.append(
                        (
                            f"sizes[{size_index}]",
                            f"{family}.{size}",
                            f"sizes every family offers; {family} has: {offered}",
                        )
                    )
        if found:
            raise Invalid(*found)
        pool._architecture = architecture
        return pool

    @model_validator(mode="after")
    def _at_least_one(self) -> NodePools:
        if self.amd64 is None and self.arm64 is None:
            raise Invalid(("", {}, "at least one of the pools amd64, arm64"))
        return self


class Budget(Model):
    """A disruption budget: how many nodes Karpenter may disrupt at once, optionally only in a time window or for
    some reasons."""

    nodes: str
    """Nodes that may be disrupted at once: a count or a percentage of the pool, as a string (`"0"`, `"1"`,
    `"10%"`)."""
    schedule: str | None = None
    """When the budget's window starts: a five-field cron expression in UTC (`"0 7 * * mon-fri"`) or a descriptor
    (`@daily`, ...). Set together with duration."""
    duration: str | None = None
    """How long the window lasts after each schedule hit, in hours and minutes (`"11h"`, `"90m"`, `"1h30m"`)."""
    reasons: tuple[Literal["Drifted", "Underutilized", "Empty"], ...] = ()
    """The disruption reasons the budget limits (each once); empty = all."""

    @field_validator("nodes", mode="before")
    @classmethod
    def _nodes(cls, nodes: Any) -> Any:
        if not isinstance(nodes, str) or not _BUDGET_NODES.search(nodes):
            raise ValueError('a node count or percentage as a string, e.g. "0", "1" or "10%"')
        if not nodes.endswith("%") and int(nodes) > _MAX_INT32:
            raise ValueError(f"a node count up to {_MAX_INT32} (Karpenter reads it as a 32-bit integer)")
        return nodes

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, schedule: Any) -> Any:
        if schedule is None:
            return schedule
        if not isinstance(schedule, str):
            raise ValueError(_CRON_TEXT)
        problem = cron_problem(schedule)
        if problem is not None:
            raise ValueError(f"{_CRON_TEXT} ({problem})")
        return schedule

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, duration: Any) -> Any:
        if duration is None:
            return duration
        text = 'a duration such as "10h" or "30m" (hours and minutes only, no seconds)'
        if not isinstance(duration, str) or not _BUDGET_DURATION.search(duration):
            raise ValueError(text)
        if go_parse_duration(duration) is None:
            raise ValueError(f"{text} (at most {MAX_GO_DURATION}, the longest duration Go reads)")
        return duration

    @field_validator("reasons", mode="before")
    @classmethod
    def _reasons(cls, reasons: Any) -> Any:
        if not isinstance(reasons, list | tuple) or any(r not in DISRUPTION_REASONS for r in reasons):
            raise ValueError("a list of " + ", ".join(DISRUPTION_REASONS))
        if len(set(reasons)) != len(reasons):
            raise ValueError("each reason listed once")
        return reasons

    @model_validator(mode="after")
    def _window(self) -> Budget:
        if (self.schedule is None) != (self.duration is None):
            shown = self.model_dump(by_alias=True, exclude_defaults=True)
            raise Invalid(("", shown, "schedule and duration set together (or neither)"))
        return self


def _duration(value: Any, pattern: re.Pattern[str], text: str) -> Any:
    if not isinstance(value, str) or not pattern.search(value):
        raise ValueError(text)
    if value != "Never" and go_parse_duration(value) is None:  # NillableDuration: "Never" is nil, not parsed
        raise ValueError(f"{text} (at most {MAX_GO_DURATION}, the longest duration Go reads)")
    return value


class KarpenterConfig(Model):
    """Karpenter: the controller, the node class every pool uses, disruption, and the node pools."""

    version: str
    """The Karpenter release (chart and CRDs, e.g. `"1.14.1"`): one whose controller IAM is recorded in
    components/nodepools/karpenter.py."""
    ami_alias: str
    """The node AMI: `al2023@<version>` or `bottlerocket@<version>` (e.g. `al2023@v20260903`); `@latest` only in
    sandbox environments."""
    create_spot_service_linked_role: Bool
    """Create the EC2 Spot service-linked role (once per account; false where it already exists)."""
    root_volume_gib: Int = Field(default=50, alias="rootVolumeGiB")
    """Root (data) volume size of each node in GiB (encrypted gp3), 20-1000."""
    detailed_monitoring: Bool = False
    """EC2 detailed (1-minute) monitoring of the nodes."""
    consolidate_after: str = "1m"
    """How long a node must be empty or underutilised before consolidation (`"30s"`, `"5m"`, `"1h"`), or `Never`."""
    expire_after: str = "720h"
    """Node lifetime before replacement (`"720h"`), or `Never`."""
    termination_grace_period: str = "24h"
    """Longest wait for a node's pods to drain before it is terminated regardless (`"24h"`)."""
    budgets: tuple[Budget, ...] = (Budget(nodes="10%"),)
    """Disruption budgets (1-50); the most restrictive active one applies. Default: 10% of the nodes at a time."""
    pools: NodePools = Field(alias="nodePools")
    """The node pools, by architecture."""

    @property
    def node_pools(self) -> dict[str, NodePoolConfig]:
        """Architecture -> pool, for the pools that are configured (amd64 first)."""
        return {arch: pool for arch in ARCHITECTURES if (pool := getattr(self.pools, arch)) is not None}

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, version: Any) -> Any:
        if not isinstance(version, str) or not _VERSION.match(version):
            raise ValueError('a Karpenter 1.x release such as "1.14.1"')
        if karpenter.minor(version) not in karpenter.supported_versions():
            raise ValueError(
                "a version whose controller IAM is recorded in components/nodepools/karpenter.py ("
                + ", ".join(f"{v}.x" for v in karpenter.supported_versions())
                + "); review the release's CloudFormation template and add it there first"
            )
        return version

    @field_validator("ami_alias", mode="before")
    @classmethod
    def _ami_alias(cls, alias: Any, info: ValidationInfo) -> Any:
        match = _AMI_ALIAS.match(alias) if isinstance(alias, str) else None
        if match is None:
            raise ValueError("al2023@<version> or bottlerocket@<version>, e.g. al2023@v20260903")
        ctx = context_of(info)
        if match.group(2) == "latest" and ctx.profile is not None and not ctx.profile.sandbox:
            raise ValueError(f"a pinned AMI version in {ctx.environment} (@latest is allowed only in sandbox)")
        return alias

    @field_validator("root_volume_gib")
    @classmethod
    def _root_volume(cls, volume: int) -> int:
        if not 20 <= volume <= 1000:
            raise ValueError("20-1000")
        return volume

    @field_validator("consolidate_after", mode="before")
    @classmethod
    def _consolidate_after(cls, value: Any) -> Any:
        return _duration(value, _CONSOLIDATE_AFTER, 'a duration such as "30s", "5m" or "24h", or "Never"')

    @field_validator("expire_after", mode="before")
    @classmethod
    def _expire_after(cls, value: Any) -> Any:
        return _duration(value, _EXPIRE_AFTER, 'a duration such as "720h", or "Never"')

    @field_validator("termination_grace_period", mode="before")
    @classmethod
    def _termination_grace_period(cls, value: Any) -> Any:
        return _duration(value, _TERMINATION_GRACE_PERIOD, 'a duration such as "30s", "5m" or "24h"')

    @field_validator("budgets", mode="before")
    @classmethod
    def _budgets(cls, budgets: Any) -> Any:
        if not isinstance(budgets, list | tuple) or not budgets:
            raise ValueError('a non-empty list of budgets such as [{nodes: "10%"}]')
        if len(budgets) > 50:
            raise ValueError("at most 50 budgets (the NodePool CRD's limit)")
        return budgets
