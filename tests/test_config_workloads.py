"""The declared `workloads` section: application namespaces, their quotas and container defaults, the VPA chart."""

from __future__ import annotations

from typing import Any

import pytest

from components.workloads.config import DEFAULT_LIMIT, DEFAULT_REQUEST, WorkloadsConfig, cpu_millis, memory_bytes
from core.loading import Problems, validate
from core.schema import Model, ValidationContext
from tests.test_config import P, parse_stack


def shop(**changes: Any) -> dict[str, Any]:
    return {"quotaRequests": {"cpu": "4", "memory": "8Gi"}, "quotaLimits": {"cpu": "8", "memory": "16Gi"}} | changes


class _Stack(Model):
    """The section nested as the stack composition nests it, so problem paths read as in a stack file."""

    workloads: WorkloadsConfig


def check(data: dict[str, Any]) -> tuple[WorkloadsConfig | None, str]:
    problems = Problems()
    stack = validate(_Stack, {"workloads": data}, context=ValidationContext(), project=P, problems=problems)
    return (stack.workloads if stack else None), "\n".join(str(p) for p in problems.items)


def accepted(data: dict[str, Any]) -> WorkloadsConfig:
    cfg, problems = check(data)
    assert not problems, problems
    assert cfg is not None
    return cfg


def refused(data: dict[str, Any], *fragments: str) -> None:
    cfg, problems = check(data)
    assert cfg is None
    for fragment in fragments:
        assert fragment in problems, f"{fragment!r} missing from:\n{problems}"


def test_namespaces_know_their_name_and_defaults() -> None:
    cfg = accepted({"vpaChartVersion": "4.11.0", "namespaces": {"shop": shop(), "billing": shop(quotaPods=5)}})
    assert [ns.name for ns in cfg.namespaces.values()] == ["shop", "billing"]
    assert cfg.namespaces["shop"].quota_pods == 100
    assert cfg.namespaces["billing"].quota_pods == 5
    assert (cfg.namespaces["shop"].default_request, cfg.namespaces["shop"].default_limit) == (
        DEFAULT_REQUEST,
        DEFAULT_LIMIT,
    )


def test_no_namespaces_by_default() -> None:
    assert accepted({"vpaChartVersion": "4.11.0"}).namespaces == {}


def test_stack_files_keep_the_namespace_names() -> None:
    cfg = parse_stack("prod")
    assert cfg.workloads is not None
    assert {name: ns.name for name, ns in cfg.workloads.namespaces.items()} == {"shop": "shop"}


@pytest.mark.parametrize("name", ["kube-system", "default", "argocd", "Shop", "shop_app", "-shop", "a" * 64])
def test_reserved_or_malformed_namespace_names_are_refused(name: str) -> None:
    refused({"vpaChartVersion": "4.11.0", "namespaces": {name: shop()}}, f"{P}:workloads.namespaces.{name}",
            "a DNS-1123 label that is not a system namespace")  # fmt: skip


def test_requests_within_limits() -> None:
    over = shop(quotaRequests={"cpu": "9", "memory": "8Gi"})
    refused({"vpaChartVersion": "4.11.0", "namespaces": {"shop": over}},
            f'{P}:workloads.namespaces.shop.quotaRequests.cpu: got "9"',
            "no more than the matching limit (8)")  # fmt: skip
    over = shop(defaultRequest={"cpu": "1", "memory": "1Gi"})
    refused({"vpaChartVersion": "4.11.0", "namespaces": {"shop": over}},
            f"{P}:workloads.namespaces.shop.defaultRequest.cpu", "(500m)",
            f"{P}:workloads.namespaces.shop.defaultRequest.memory", "(512Mi)")  # fmt: skip


@pytest.mark.parametrize(("key", "value"), [("cpu", "2 cores"), ("cpu", 2), ("memory", "16GB"), ("memory", "1.5Gi")])
def test_quantities(key: str, value: Any) -> None:
    limits = {"cpu": "8", "memory": "16Gi"} | {key: value}
    refused({"vpaChartVersion": "4.11.0", "namespaces": {"shop": shop(quotaLimits=limits)}},
            f"{P}:workloads.namespaces.shop.quotaLimits.{key}", "quantity such as")  # fmt: skip


@pytest.mark.parametrize("pods", [0, 10001, "many"])
def test_quota_pods(pods: Any) -> None:
    refused({"vpaChartVersion": "4.11.0", "namespaces": {"shop": shop(quotaPods=pods)}},
            f"{P}:workloads.namespaces.shop.quotaPods")  # fmt: skip


@pytest.mark.parametrize("version", ["latest", "4.11", 4.11])
def test_vpa_chart_version_is_pinned(version: Any) -> None:
    refused({"vpaChartVersion": version}, f"{P}:workloads.vpaChartVersion", "a chart version")


def test_quantity_arithmetic() -> None:
    assert cpu_millis("500m") == cpu_millis("0.5") == 500
    assert memory_bytes("1Gi") == memory_bytes("1024Mi")
