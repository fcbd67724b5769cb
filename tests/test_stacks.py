"""Whole-program runs: `__main__.py` under mocks with each stack's real config file."""

from __future__ import annotations

import json

import pytest

from components.cluster.component import AFTER_NODES
from core.tags import REQUIRED_TAG_KEYS
from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import STACKS, WORKLOAD_STACKS
from tests.support import stack_config, taggable


@pytest.mark.parametrize("stack", STACKS)
def test_stack_renders_and_exports_its_identity(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert plan.exports["environment"] in ("prod", "stg", "sandbox", "shared-services")
    assert len(plan.exports["accountId"]) == 12
    assert plan.exports["region"] == "eu-west-1"


@pytest.mark.parametrize("stack", STACKS)
def test_one_explicit_aws_provider_pinned_to_the_account(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    provider = plan.one("pulumi:providers:aws", "aws")
    assert provider.inputs["region"] == plan.exports["region"]
    # Providers receive structured inputs JSON-encoded, as the engine sends them.
    assert json.loads(provider.inputs["allowedAccountIds"]) == [plan.exports["accountId"]]
    assert set(json.loads(provider.inputs["defaultTags"])["tags"]) >= set(REQUIRED_TAG_KEYS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_uses_an_explicit_pinned_provider(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    providers = {p.urn: p for p in plan.by_type("pulumi:providers:aws")}
    assert all(json.loads(p.inputs["allowedAccountIds"]) for p in providers.values())
    if stack != "shared-services":
        # The stack's provider, plus the us-east-1 one CloudFront's certificate and WAF need (same account).
        edge = stack_config(stack).edge
        assert edge is not None
        expected = ["aws", "aws-us-east-1"] if edge.cloudfront else ["aws"]
        assert [p.name for p in providers.values()] == expected
        assert {json.dumps(json.loads(p.inputs["allowedAccountIds"])) for p in providers.values()} == {
            json.dumps([plan.exports["accountId"]])
        }
    for r in plan.resources:
        if r.custom and r.type.startswith("aws:"):
            assert r.provider_urn in providers, f"{r.urn} uses {r.provider}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_the_required_tags(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    checked = 0
    for r in plan.resources:
        if r.custom and taggable(r.type):
            tags = r.inputs.get("tags") or {}
            missing = [k for k in REQUIRED_TAG_KEYS if not tags.get(k)]
            assert not missing, f"{r.urn} lacks tags {missing}"
            assert tags["Environment"] == plan.exports["environment"]
            checked += 1
    if stack in WORKLOAD_STACKS:
        assert checked > 30


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_workload_stacks_build_and_export_a_network(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert len(plan.by_type("aws-platform:platform:Network")) == 1
    network = plan.exports["network"]
    assert set(network["privateSubnetIds"]) == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert network["vpcId"].startswith("vpc-")


def test_shared_services_builds_no_network(plans: dict[str, Plan]) -> None:
    assert plans["shared-services"].by_type("aws-platform:platform:Network") == []
    assert "network" not in plans["shared-services"].exports


def test_plans_are_deterministic() -> None:
    from offline.plan import render

    first, second = render("stg"), render("stg")
    assert [(r.urn, r.inputs) for r in first.resources] == [(r.urn, r.inputs) for r in second.resources]


def test_no_data_source_invokes_decide_the_plan(plans: dict[str, Plan]) -> None:
    # The mocks refuse any invoke outside a short account-independent list; a render that got here used none of the
    # refused ones. Double-check that the network's AZs and CIDRs came straight from config.
    prod = plans["prod"]
    azs = sorted({s.inputs["availabilityZone"] for s in prod.by_type("aws:ec2/subnet:Subnet")})
    assert azs == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


CLUSTER_BOUND = (
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_everything_that_names_the_cluster_waits_for_it(plans: dict[str, Plan], stack: str) -> None:
    """Pod Identity associations and access entries call the EKS API of the cluster; created while the cluster is still
    being created, on a first `pulumi up`, they fail. They take the cluster handle's `name` Output, which resolves only
    once the control plane exists, so each depends on it without a hand-written `depends_on`."""
    plan = plans[stack]
    cluster = plan.one("eks:index:Cluster")
    bound = [r for r in plan.resources if r.type in CLUSTER_BOUND]
    assert len(bound) >= 8
    by_urn = {r.urn: r for r in plan.resources}

    def waits_for_cluster(resource: Recorded, seen: set[str]) -> bool:
        for dep in resource.dependencies:
            if dep == cluster.urn:
                return True
            if dep not in seen and dep in by_urn:
                seen.add(dep)
                if waits_for_cluster(by_urn[dep], seen):
                    return True
        return False

    late = [r.urn for r in bound if not waits_for_cluster(r, set())]
    assert late == []


RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_helm_release_waits_for_the_system_nodes_and_add_ons(plans: dict[str, Plan], stack: str) -> None:
    """Every controller is installed through the add-on block, which orders its release after `cluster.ready`: the
    system node group (itself after the node security-group rules) and the add-ons that run after the nodes."""
    plan = plans[stack]
    ready = {plan.one("aws:eks/nodeGroup:NodeGroup").urn} | {
        a.urn for a in plan.by_type("aws:eks/addon:Addon") if a.inputs["addonName"] in AFTER_NODES
    }
    assert len(ready) == 1 + len(AFTER_NODES)
    releases = plan.by_type(RELEASE)
    assert len(releases) >= 9
    for release in releases:
        assert ready <= set(release.dependencies), release.urn
        assert release.provider_urn == plan.one("pulumi:providers:kubernetes").urn


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_no_component_depends_on_the_cluster_component_wholesale(plans: dict[str, Plan], stack: str) -> None:
    """Consumers get the cluster as a handle, never as `depends_on=[cluster]` (which would make them wait for every
    child of the component, the default StorageClass and the security-group rules included)."""
    plan = plans[stack]
    cluster = plan.one("aws-platform:platform:Cluster")
    # Children of the cluster component that no consumer has a reason to wait for.
    kinds = {"kubernetes:storage.k8s.io/v1:StorageClass", "aws:kms/alias:Alias", "aws:cloudwatch/logGroup:LogGroup"}
    internal = {r.urn for r in plan.resources if r.parent == cluster.urn and r.type in kinds}
    assert len(internal) == len(kinds)
    for r in plan.resources:
        if r.parent != cluster.urn:
            assert not internal & set(r.dependencies), r.urn
