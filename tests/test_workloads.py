"""Application namespaces' resource policy and the VPA, in every workload stack."""

from __future__ import annotations

import pytest

from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_each_configured_namespace_gets_defaults_and_a_quota(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack).workloads
    assert cfg is not None
    (component,) = [r for r in plan.by_type("aws-platform:platform:Workloads") if r.name == "workloads"]
    namespaces = {
        r.inputs["metadata"]["name"]: r
        for r in plan.by_type("kubernetes:core/v1:Namespace")
        if r.parent == component.urn
    }
    assert set(namespaces) == {*cfg.namespaces, "vpa"}
    for name, ns_cfg in cfg.namespaces.items():
        labels = namespaces[name].inputs["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
        (limits,) = [
            r for r in plan.by_type("kubernetes:core/v1:LimitRange") if r.inputs["metadata"]["namespace"] == name
        ]
        (item,) = limits.inputs["spec"]["limits"]
        assert item["type"] == "Container"
        assert item["defaultRequest"] == {"cpu": ns_cfg.default_request.cpu, "memory": ns_cfg.default_request.memory}
        assert item["default"] == {"cpu": ns_cfg.default_limit.cpu, "memory": ns_cfg.default_limit.memory}
        (quota,) = [
            r for r in plan.by_type("kubernetes:core/v1:ResourceQuota") if r.inputs["metadata"]["namespace"] == name
        ]
        hard = quota.inputs["spec"]["hard"]
        assert hard["requests.cpu"] == ns_cfg.quota_requests.cpu
        assert hard["limits.memory"] == ns_cfg.quota_limits.memory
        assert hard["pods"] == str(ns_cfg.quota_pods)
        assert namespaces[name].urn in quota.dependencies


def test_vpa_is_pinned_and_only_recommends(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    vpa = plan.one("kubernetes:helm.sh/v3:Release", "workloads-vpa")
    assert vpa.inputs["chart"] == "vpa"
    assert vpa.inputs["repositoryOpts"] == {"repo": "https://charts.fairwinds.com/stable"}
    assert vpa.inputs["version"] == "4.11.0"
    values = vpa.inputs["values"]
    assert values["recommender"]["enabled"] is True
    assert values["updater"]["enabled"] is False
    assert values["admissionController"]["enabled"] is False
    assert values["recommender"]["nodeSelector"] == {"node-role/system": "true"}


def test_hpa_relies_on_the_metrics_server_addon(plans: dict[str, Plan]) -> None:
    addons = {a.inputs["addonName"] for a in plans["prod"].by_type("aws:eks/addon:Addon")}
    assert "metrics-server" in addons
