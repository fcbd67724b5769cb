"""The declared `karpenter` section: what the pinned Karpenter accepts (its NodePool CRD's patterns, Go durations,
robfig/cron schedules, 32-bit node counts), pool families and sizes, and environment rules read from the profile."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.nodepools import config as karpenter_config
from components.nodepools.config import Budget, KarpenterConfig, cron_problem, go_parse_duration
from core.loading import Problems, validate
from core.profiles import EnvironmentProfile
from core.schema import Model, ValidationContext
from tests.test_config import P, parse_stack
from tests.upstream import VENDOR

CRD = VENDOR / "crds" / "karpenter" / "1.14.1" / "karpenter.sh_nodepools.yaml"


def profile(**flags: Any) -> EnvironmentProfile:
    return EnvironmentProfile(
        account_id="321098765432", account_email="aws+env@example.com", ou="workloads/env", **flags
    )


def context(environment: str = "env", **flags: Any) -> ValidationContext:
    return ValidationContext(stack=environment, environment=environment, profile=profile(**flags))


def pool(**changes: Any) -> dict[str, Any]:
    return {"families": ["m7g", "c7g"], "sizes": ["large"], "cpuLimit": 32, "memoryLimitGiB": 128,
            "onDemandBaseCpu": 4} | changes  # fmt: skip


def karpenter_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": "1.14.1",
        "amiAlias": "al2023@v20260903",
        "createSpotServiceLinkedRole": True,
        "nodePools": {"arm64": pool()},
    }
    return data | changes


class _Stack(Model):
    """The section nested as the stack composition nests it, so problem paths read as in a stack file."""

    karpenter: KarpenterConfig


def check(data: dict[str, Any], ctx: ValidationContext) -> tuple[KarpenterConfig | None, str]:
    problems = Problems()
    stack = validate(_Stack, {"karpenter": data}, context=ctx, project=P, problems=problems)
    return (stack.karpenter if stack else None), "\n".join(str(p) for p in problems.items)


def accepted(data: dict[str, Any], ctx: ValidationContext | None = None) -> KarpenterConfig:
    cfg, problems = check(data, ctx or context())
    assert not problems, problems
    assert cfg is not None
    return cfg


def refused(data: dict[str, Any], *fragments: str, ctx: ValidationContext | None = None) -> str:
    cfg, problems = check(data, ctx or context())
    assert cfg is None
    for fragment in fragments:
        assert fragment in problems, f"{fragment!r} missing from:\n{problems}"
    return problems


# ---------------------------------------------------------------------------------------------------------------------
# The CRD's patterns, copied: they must not drift from the vendored CRD


def _nodepool_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def test_patterns_equal_the_vendored_crd() -> None:
    spec = _nodepool_schema()
    disruption = spec["disruption"]["properties"]
    budget = disruption["budgets"]["items"]["properties"]
    template = spec["template"]["properties"]["spec"]["properties"]
    assert disruption["consolidateAfter"]["pattern"] == karpenter_config.CONSOLIDATE_AFTER_PATTERN
    assert template["expireAfter"]["pattern"] == karpenter_config.EXPIRE_AFTER_PATTERN
    assert template["terminationGracePeriod"]["pattern"] == karpenter_config.TERMINATION_GRACE_PERIOD_PATTERN
    assert budget["duration"]["pattern"] == karpenter_config.BUDGET_DURATION_PATTERN
    assert budget["nodes"]["pattern"] == karpenter_config.BUDGET_NODES_PATTERN
    assert budget["schedule"]["pattern"] == karpenter_config.BUDGET_SCHEDULE_PATTERN
    assert disruption["budgets"]["maxItems"] == 50
    assert budget["reasons"]["x-kubernetes-list-type"] == "set"


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_stacks_pin_the_karpenter_the_patterns_were_copied_from(stack: str) -> None:
    """A stack moving to another Karpenter release must first re-copy the patterns from that release's CRD."""
    cfg = parse_stack(stack).karpenter
    assert cfg is not None
    assert cfg.version == CRD.parent.name


# ---------------------------------------------------------------------------------------------------------------------
# Durations


def test_never_is_accepted_where_the_crd_allows_it() -> None:
    cfg = accepted(karpenter_data(expireAfter="Never", consolidateAfter="Never"))
    assert (cfg.expire_after, cfg.consolidate_after) == ("Never", "Never")
    refused(karpenter_data(terminationGracePeriod="Never"), f'{P}:karpenter.terminationGracePeriod: got "Never"')


def test_defaults() -> None:
    cfg = accepted(karpenter_data())
    assert (cfg.consolidate_after, cfg.expire_after, cfg.termination_grace_period) == ("1m", "720h", "24h")
    assert cfg.budgets == (Budget(nodes="10%"),)
    assert (cfg.root_volume_gib, cfg.detailed_monitoring) == (50, False)
    assert list(cfg.node_pools) == ["arm64"]
    assert cfg.node_pools["arm64"].architecture == "arm64"


@pytest.mark.parametrize("duration", ["30s", "5m", "1h30m", "90s", "0s", "1h1h", "2562047h47m16s"])
def test_durations_karpenter_reads(duration: str) -> None:
    cfg = accepted(karpenter_data(consolidateAfter=duration, expireAfter=duration, terminationGracePeriod=duration))
    assert cfg.termination_grace_period == duration


@pytest.mark.parametrize(
    "duration", ["30d", "1.5h", "", "5ms", "-1h", "1h ", "5m\n", "2562047h47m17s", "99999999999h", 30]
)
def test_durations_karpenter_refuses(duration: Any) -> None:
    for key in ("consolidateAfter", "expireAfter", "terminationGracePeriod"):
        refused(karpenter_data(**{key: duration}), f"{P}:karpenter.{key}", "a duration such as")


def test_go_parse_duration() -> None:
    assert go_parse_duration("1h30m") == 5_400_000_000_000
    assert go_parse_duration("1.5h") == 5_400_000_000_000
    assert go_parse_duration(".5s") == 500_000_000
    assert go_parse_duration("1\u00b5s") == go_parse_duration("1us") == 1_000
    assert go_parse_duration("-1s") == -1_000_000_000
    assert go_parse_duration("0") == 0
    assert go_parse_duration("9223372036s") == 9_223_372_036_000_000_000
    for bad in ("", "1", "1d", "h", ".s", "9223372037s", "1h 1m"):
        assert go_parse_duration(bad) is None, bad


# ---------------------------------------------------------------------------------------------------------------------
# Budgets


def budgets(*items: dict[str, Any]) -> dict[str, Any]:
    return karpenter_data(budgets=list(items))


@pytest.mark.parametrize("duration", ["11h", "30m", "1h30m", "10h0s", "0m"])
def test_budget_durations_in_hours_and_minutes(duration: str) -> None:
    cfg = accepted(budgets({"nodes": "0", "schedule": "0 7 * * mon-fri", "duration": duration}))
    assert cfg.budgets[0].duration == duration


@pytest.mark.parametrize("duration", ["39600s", "11h30s", "1h30m10s", "1d", "h"])
def test_budget_durations_with_seconds_are_refused(duration: str) -> None:
    refused(budgets({"nodes": "0", "schedule": "@daily", "duration": duration}),
            f'{P}:karpenter.budgets[0].duration: got "{duration}"', "hours and minutes only")  # fmt: skip


@pytest.mark.parametrize(
    "schedule",
    ["@daily", "@yearly", "@annually", "@monthly", "@weekly", "@midnight", "@hourly", "0 7 * * mon-fri",
     "*/15 0-6,18-23 ? JAN-MAR sun", "0 0 1,15 * *", "59 23 31 12 6", "0 7 * * MON-FRI", "5/10 * * * *",
     "0   7 * * 1-5", "@daily "],
)  # fmt: skip
def test_schedules_karpenter_accepts(schedule: str) -> None:
    assert cron_problem(schedule) is None
    cfg = accepted(budgets({"nodes": "0", "schedule": schedule, "duration": "1h"}))
    assert cfg.budgets[0].schedule == schedule


@pytest.mark.parametrize(
    ("schedule", "why"),
    [("0 24 * * *", "hour: 24 is above 23"), ("60 7 * * *", "minute: 60"), ("0 7 0 * *", "day of month: 0"),
     ("0 7 32 * *", "day of month: 32"), ("0 7 * 13 *", "month: 13"), ("0 7 * * 7", "day of week: 7"),
     ("0 7 * * mon-sun", "starts after it ends"), ("*/0 7 * * *", "step of 0"), ("0 7 * *", "five fields"),
     ("0 7 * * * *", "exactly 5 fields"), ("@every 1h", "five fields"), ("@dailyx", "descriptors"),
     ("@reboot", "five fields"), ("0 7 * * tuesday", "not a number"), ("0 7-9-11 * * *", "too many hyphens"),
     ("0 7/2/2 * * *", "too many slashes"), ("0 -7 * * *", "not a number"), (" @daily", "five fields"),
     ("", "five fields"), ("TZ=Europe/Paris 0 7 * * *", "exactly 5 fields")],
)  # fmt: skip
def test_schedules_karpenter_refuses(schedule: str, why: str) -> None:
    problem = cron_problem(schedule)
    assert problem is not None
    assert why in problem, problem
    refused(budgets({"nodes": "0", "schedule": schedule, "duration": "1h"}),
            f"{P}:karpenter.budgets[0].schedule", 'a five-field cron expression in UTC, e.g. "0 7 * * mon-fri"',
            why)  # fmt: skip


def test_schedule_and_duration_go_together() -> None:
    refused(budgets({"nodes": "0", "duration": "1h"}), f"{P}:karpenter.budgets[0]", "schedule and duration")


@pytest.mark.parametrize("nodes", ["0", "1", "10%", "100%", "0%", "2147483647"])
def test_budget_nodes_karpenter_reads(nodes: str) -> None:
    assert accepted(budgets({"nodes": nodes})).budgets[0].nodes == nodes


@pytest.mark.parametrize("nodes", ["101%", "10.5%", "-1", "ten", "", "2147483648", 10])
def test_budget_nodes_karpenter_refuses(nodes: Any) -> None:
    refused(budgets({"nodes": nodes}), f"{P}:karpenter.budgets[0].nodes")


def test_budget_reasons() -> None:
    assert accepted(budgets({"nodes": "1", "reasons": ["Drifted", "Empty"]})).budgets[0].reasons == ("Drifted", "Empty")
    refused(budgets({"nodes": "1", "reasons": ["Empty", "Empty"]}), "budgets[0].reasons", "each reason listed once")
    refused(budgets({"nodes": "1", "reasons": ["Boredom"]}), "budgets[0].reasons", "Underutilized")


def test_budget_count() -> None:
    refused(karpenter_data(budgets=[]), f"{P}:karpenter.budgets: got []", "a non-empty list")
    refused(karpenter_data(budgets=[{"nodes": "1"}] * 51), f"{P}:karpenter.budgets", "at most 50")
    assert len(accepted(karpenter_data(budgets=[{"nodes": "1"}] * 50)).budgets) == 50


# ---------------------------------------------------------------------------------------------------------------------
# Pools


def test_a1_is_an_arm64_family() -> None:
    cfg = accepted(karpenter_data(nodePools={"arm64": pool(families=["a1", "m7g"])}))
    assert cfg.node_pools["arm64"].families == ("a1", "m7g")
    refused(karpenter_data(nodePools={"amd64": pool(families=["a1"])}),
            f'{P}:karpenter.nodePools.amd64.families[0]: got "a1"', "amd64 instance families")  # fmt: skip


@pytest.mark.parametrize("family", ["m7g", "c6gn", "t4g", "r8g", "x2gd", "im4gn", "is4gen", "c8gb"])
def test_graviton_families_belong_in_the_arm64_pool(family: str) -> None:
    refused(karpenter_data(nodePools={"amd64": pool(families=[family])}), "amd64 instance families")


def test_mac_families_belong_in_no_pool() -> None:
    for arch in ("amd64", "arm64"):
        refused(karpenter_data(nodePools={arch: pool(families=["mac2"], sizes=["metal"])}), f"{arch} instance families")


def test_families_and_sizes_must_exist() -> None:
    refused(karpenter_data(nodePools={"arm64": pool(families=["m7g", "m99g"])}), "families[1]", "botocore")
    refused(karpenter_data(nodePools={"arm64": pool(sizes=["large", "huge"])}), '"m7g.huge"', "m7g has: ")


def test_empty_families_or_sizes_are_refused() -> None:
    refused(karpenter_data(nodePools={"arm64": pool(families=[])}),
            f"{P}:karpenter.nodePools.arm64.families: got []", "at least one instance family")  # fmt: skip
    refused(karpenter_data(nodePools={"arm64": pool(sizes=[])}),
            f"{P}:karpenter.nodePools.arm64.sizes: got []", "at least one size")  # fmt: skip


def test_at_least_one_pool() -> None:
    refused(karpenter_data(nodePools={}), f"{P}:karpenter.nodePools", "at least one of the pools amd64, arm64")
    refused(karpenter_data(nodePools={"x86": pool()}), f"{P}:karpenter.nodePools.x86", "no such key")


def test_both_pools_keep_their_architecture() -> None:
    cfg = accepted(karpenter_data(nodePools={"amd64": pool(families=["m6i"]), "arm64": pool()}))
    assert {arch: p.architecture for arch, p in cfg.node_pools.items()} == {"amd64": "amd64", "arm64": "arm64"}


def test_limits_and_floor() -> None:
    refused(karpenter_data(nodePools={"arm64": pool(cpuLimit=0)}), "cpuLimit", "a positive number of vCPUs")
    refused(karpenter_data(nodePools={"arm64": pool(onDemandBaseCpu=32)}), "onDemandBaseCpu", "below cpuLimit (32)")
    refused(karpenter_data(nodePools={"arm64": pool(spot=False)}), "onDemandBaseCpu", "0 when spot is false")


# ---------------------------------------------------------------------------------------------------------------------
# Environment rules read the profile, not the environment's name


def test_production_needs_an_on_demand_floor_under_spot() -> None:
    no_floor = karpenter_data(nodePools={"arm64": pool(onDemandBaseCpu=0)})
    refused(no_floor, "onDemandBaseCpu", "a positive On-Demand floor in live", ctx=context("live", production=True))
    accepted(no_floor, context("prod"))
    all_on_demand = karpenter_data(nodePools={"arm64": pool(onDemandBaseCpu=0, spot=False)})
    accepted(all_on_demand, context("live", production=True))


def test_latest_ami_only_where_the_profile_says_sandbox() -> None:
    latest = karpenter_data(amiAlias="al2023@latest")
    assert accepted(latest, context("lab", sandbox=True)).ami_alias == "al2023@latest"
    refused(latest, f'{P}:karpenter.amiAlias: got "al2023@latest"', "only in sandbox", ctx=context("sandbox"))


def test_version_needs_recorded_iam() -> None:
    refused(karpenter_data(version="1.99.0"), f"{P}:karpenter.version", "components/nodepools/karpenter.py")
    refused(karpenter_data(version="v1.14.1"), f"{P}:karpenter.version", "a Karpenter 1.x release")
