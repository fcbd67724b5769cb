"""Karpenter and its node pools, in every workload stack: the failure modes users of other modules report."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from policy_sentry.querying.all import get_all_actions

from components.nodepools import karpenter, manifests
from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config
from tests.upstream import VENDOR, strict


def karpenter_crds(version: str) -> Path:
    """The CRDs of the pinned Karpenter version, vendored from upstream (vendor/README.md)."""
    return VENDOR / "crds" / "karpenter" / version


def _pinned_version(stack: str) -> str:
    cfg = stack_config(stack).karpenter
    assert cfg is not None, f"{stack} has no karpenter section"
    return cfg.version


PINNED = {stack: _pinned_version(stack) for stack in WORKLOAD_STACKS}


NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
RELEASE = "kubernetes:helm.sh/v3:Release"


@cache
def crd_schema(file: str, karpenter_version: str) -> dict[str, Any]:
    crd = yaml.safe_load((karpenter_crds(karpenter_version) / file).read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return strict(version["schema"]["openAPIV3Schema"])


def validate(obj: dict[str, Any], file: str, karpenter_version: str = PINNED["prod"]) -> None:
    jsonschema.validate(obj, crd_schema(file, karpenter_version), cls=jsonschema.Draft7Validator)


def as_object(r: Recorded) -> dict[str, Any]:
    return {k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


def release(plan: Plan, name: str) -> Recorded:
    return plan.one(RELEASE, name)


def in_component(plan: Plan, component: str, typ: str) -> list[Recorded]:
    (parent,) = [r for r in plan.resources if r.type == f"aws-platform:platform:{component}"]
    return [r for r in plan.by_type(typ) if r.parent == parent.urn]


# ---------------------------------------------------------------------------------------------------------------------
# Rendered Karpenter objects against the real CRD schemas


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_node_pools_and_node_class_validate_against_the_crd_schemas(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    pools = plan.by_type(NODE_POOL)
    assert pools
    for pool in pools:
        validate(as_object(pool), "karpenter.sh_nodepools.yaml", PINNED[stack])
    (node_class,) = plan.by_type(NODE_CLASS)
    validate(as_object(node_class), "karpenter.k8s.aws_ec2nodeclasses.yaml", PINNED[stack])


def test_schema_validation_rejects_a_broken_object() -> None:
    cfg = stack_config("prod").karpenter
    assert cfg is not None
    pool = manifests.node_pools(cfg, zones=["eu-west-1a"])[0]
    pool["spec"]["disruption"]["consolidationPolicy"] = "Sometimes"
    with pytest.raises(jsonschema.ValidationError, match="Sometimes"):
        validate(pool, "karpenter.sh_nodepools.yaml")
    node_class = manifests.node_class(cfg, cluster_name="c", node_role_name="r", kms_key_arn="k", tags={})
    node_class["spec"]["metadataOptions"]["httpTokens"] = "optional-please"
    with pytest.raises(jsonschema.ValidationError):
        validate(node_class, "karpenter.k8s.aws_ec2nodeclasses.yaml")


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_node_class_pins_the_ami_and_hardens_the_nodes(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    spec = plan.one(NODE_CLASS).inputs["spec"]
    cfg = stack_config(stack)
    assert cfg.karpenter is not None
    assert spec["amiSelectorTerms"] == [{"alias": cfg.karpenter.ami_alias}]
    discovery = [{"tags": {"karpenter.sh/discovery": cfg.cluster_name}}]
    assert spec["subnetSelectorTerms"] == discovery
    assert spec["securityGroupSelectorTerms"] == discovery
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (device,) = spec["blockDeviceMappings"]
    assert device["ebs"]["encrypted"] is True
    assert device["ebs"]["volumeType"] == "gp3"
    assert device["ebs"]["kmsKeyID"] == plan.one("aws:kms/key:Key", "cluster-cluster").outputs["arn"]
    assert spec["role"] == plan.one("aws:iam/role:Role", "nodepools-node").inputs["name"]
    assert spec["tags"]["Environment"] == stack


def test_selectors_find_what_the_network_and_cluster_tag(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    private = [s for s in plan.by_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "private"]
    assert all(s.inputs["tags"]["karpenter.sh/discovery"] == "plat-prod" for s in private)
    assert plan.one("aws:ec2/securityGroup:SecurityGroup", "cluster-nodes").inputs["tags"][
        "karpenter.sh/discovery"
    ] == ("plat-prod")
    tagged = [
        r
        for r in plan.resources
        if r.type.startswith("aws:") and (r.inputs.get("tags") or {}).get("karpenter.sh/discovery")
    ]
    assert {r.type for r in tagged} == {"aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup"}


def _requirement(pool: dict[str, Any], key: str) -> list[str]:
    (req,) = [r for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    assert req["operator"] == "In"
    return req["values"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_architecture_pools_use_the_seed_families(plans: dict[str, Plan], stack: str) -> None:
    pools = [p.inputs for p in plans[stack].by_type(NODE_POOL)]
    by_arch: dict[str, set[str]] = {}
    for pool in pools:
        (arch,) = _requirement(pool, "kubernetes.io/arch")
        by_arch.setdefault(arch, set()).update(_requirement(pool, "karpenter.k8s.aws/instance-family"))
        assert pool["spec"]["template"]["metadata"]["labels"]["platform/pool"] == arch
        assert _requirement(pool, "topology.kubernetes.io/zone") == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert by_arch == {"amd64": {"c5", "c6a", "c6i", "m6i"}, "arm64": {"c6g", "c7g", "m6g", "m7g"}}


def test_sizes_are_requirements_not_instance_lists(plans: dict[str, Plan]) -> None:
    for pool in plans["prod"].by_type(NODE_POOL):
        keys = {r["key"] for r in pool.inputs["spec"]["template"]["spec"]["requirements"]}
        assert "node.kubernetes.io/instance-type" not in keys
        sizes = _requirement(pool.inputs, "karpenter.k8s.aws/instance-size")
        arch = _requirement(pool.inputs, "kubernetes.io/arch")[0]
        assert sizes == (["medium", "large", "xlarge"] if arch == "arm64" else ["large", "xlarge"])


def test_prod_keeps_an_on_demand_floor_with_spot_above_it(plans: dict[str, Plan]) -> None:
    pools = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in plans["prod"].by_type(NODE_POOL)}
    assert set(pools) == {"amd64-on-demand", "amd64-spot", "arm64-on-demand", "arm64-spot"}
    cfg = stack_config("prod").karpenter
    assert cfg is not None
    for arch, pool_cfg in cfg.node_pools.items():
        floor, spot = pools[f"{arch}-on-demand"], pools[f"{arch}-spot"]
        assert _requirement({"spec": floor}, "karpenter.sh/capacity-type") == ["on-demand"]
        assert _requirement({"spec": spot}, "karpenter.sh/capacity-type") == ["spot", "on-demand"]
        assert floor["weight"] > spot["weight"]
        assert int(floor["limits"]["cpu"]) == pool_cfg.on_demand_base_cpu > 0
        assert int(floor["limits"]["cpu"]) + int(spot["limits"]["cpu"]) == pool_cfg.cpu_limit


def test_sandbox_runs_spot_first_without_a_floor(plans: dict[str, Plan]) -> None:
    pools = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in plans["sandbox"].by_type(NODE_POOL)}
    assert set(pools) == {"amd64-spot", "arm64-spot"}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_disruption_settings(plans: dict[str, Plan], stack: str) -> None:
    for pool in plans[stack].by_type(NODE_POOL):
        spec = pool.inputs["spec"]
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert spec["disruption"]["consolidateAfter"] == "5m"
        assert spec["template"]["spec"]["expireAfter"] == "720h"
        assert spec["disruption"]["budgets"]
    prod_budgets = plans["prod"].by_type(NODE_POOL)[0].inputs["spec"]["disruption"]["budgets"]
    assert {"nodes": "0", "schedule": "0 7 * * mon-fri", "duration": "11h"} in prod_budgets


# ---------------------------------------------------------------------------------------------------------------------
# Controller IAM: the official policy for the pinned version, scoped by cluster tags


def _scope() -> karpenter.Scope:
    return karpenter.Scope(
        partition="aws",
        region="eu-west-1",
        account_id="210987654321",
        cluster_name="plat-prod",
        node_role_arn="arn:aws:iam::210987654321:role/plat-prod-karpenter-node",
        queue_arn="arn:aws:sqs:eu-west-1:210987654321:plat-prod-karpenter",
    )


@pytest.mark.parametrize("version", karpenter.supported_versions())
def test_controller_policy_grants_exactly_the_recorded_actions(version: str) -> None:
    policies = karpenter.controller_policies(f"{version}.0", _scope())
    assert karpenter.granted_actions(policies) == set(karpenter.CONTROLLER_ACTIONS[version])


@pytest.mark.parametrize("version", karpenter.supported_versions())
def test_controller_actions_are_real_iam_actions(version: str) -> None:
    known = {a.lower() for a in get_all_actions()}
    unknown = [a for a in karpenter.CONTROLLER_ACTIONS[version] if a.lower() not in known]
    assert unknown == []


def test_policy_sentry_data_catches_a_misspelled_action() -> None:
    known = {a.lower() for a in get_all_actions()}
    assert "ec2:createfleets" not in known


def test_mutating_ec2_actions_are_scoped_to_the_clusters_tags() -> None:
    policies = karpenter.controller_policies(f"{karpenter.supported_versions()[-1]}.0", _scope())
    mutating = ("ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:TerminateInstances")
    for doc in policies.values():
        for st in json.loads(doc)["Statement"]:
            actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
            assert "*" not in "".join(actions), st
            if st["Resource"] == "*":
                assert not set(actions) & set(mutating), st
            owned = json.dumps(st.get("Condition", {}))
            if {"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate", "ec2:CreateLaunchTemplate"} & set(actions):
                assert "kubernetes.io/cluster/plat-prod" in owned, st["Sid"]


def test_pass_role_is_limited_to_the_node_role_and_ec2() -> None:
    policies = karpenter.controller_policies(f"{karpenter.supported_versions()[-1]}.0", _scope())
    statements = [st for doc in policies.values() for st in json.loads(doc)["Statement"]]
    (pass_role,) = [st for st in statements if st["Action"] == "iam:PassRole"]
    assert pass_role["Resource"] == _scope().node_role_arn
    assert "ec2.amazonaws.com" in pass_role["Condition"]["StringEquals"]["iam:PassedToService"]


def test_an_unrecorded_karpenter_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no controller IAM recorded for Karpenter 1\.99"):
        karpenter.controller_policies("1.99.0", _scope())


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_controller_role_in_the_plan_carries_the_official_policies(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    role = plan.one("aws:iam/role:Role", "nodepools-controller")
    inline = {
        p.inputs["name"]: p.inputs["policy"]
        for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["id"]
    }
    cfg = stack_config(stack)
    assert cfg.karpenter is not None
    assert set(inline) == {"NodeLifecycle", "IAMIntegration", "EKSIntegration", "Interruption", "ZonalShift",
                           "ResourceDiscovery"}  # fmt: skip
    granted = karpenter.granted_actions(inline)
    assert granted == set(karpenter.CONTROLLER_ACTIONS[karpenter.minor(cfg.karpenter.version)])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "karpenter"
    (association,) = in_component(plan, "NodePools", "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("kube-system", "karpenter")
    assert association.inputs["roleArn"] == role.outputs["arn"]


# ---------------------------------------------------------------------------------------------------------------------
# Nodes join: role, EC2_LINUX access entry, Spot service-linked role


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_node_role_has_an_ec2_linux_access_entry(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    node_role = plan.one("aws:iam/role:Role", "nodepools-node")
    (entry,) = in_component(plan, "NodePools", "aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == node_role.outputs["arn"]
    assert entry.inputs["clusterName"] == f"plat-{stack}"
    attached = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == node_role.outputs["name"]
    )
    assert attached == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    ]


def test_spot_service_linked_role_is_created_and_kept_on_destroy(plans: dict[str, Plan]) -> None:
    (slr,) = plans["prod"].by_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert slr.inputs["awsServiceName"] == "spot.amazonaws.com"
    assert slr.options["retainOnDelete"] is True


# ---------------------------------------------------------------------------------------------------------------------
# Interruption handling


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_interruption_rules_cover_all_five_event_sources(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    queue = plan.one("aws:sqs/queue:Queue", "nodepools-interruption")
    rules = plan.by_type("aws:cloudwatch/eventRule:EventRule")
    patterns = {(p["source"][0], p["detail-type"][0]) for p in (json.loads(r.inputs["eventPattern"]) for r in rules)}
    assert patterns == {
        ("aws.health", "AWS Health Event"),
        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        ("aws.ec2", "EC2 Instance State-change Notification"),
        ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
    }
    targets = plan.by_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 5
    assert {t.inputs["arn"] for t in targets} == {queue.outputs["arn"]}
    assert {t.inputs["rule"] for t in targets} == {r.outputs["name"] for r in rules}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_interruption_queue_is_encrypted_short_lived_and_tls_only(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    queue = plan.one("aws:sqs/queue:Queue", "nodepools-interruption")
    key = plan.one("aws:kms/key:Key", "nodepools-interruption")
    assert queue.inputs["messageRetentionSeconds"] == 300
    assert queue.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    policy = json.loads(plan.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == queue.outputs["arn"]
    key_policy = json.loads(key.inputs["policy"])
    principals = json.dumps([s["Principal"] for s in key_policy["Statement"]])
    assert "events.amazonaws.com" in principals
    assert f"role/plat-{stack}-karpenter-controller" in principals


# ---------------------------------------------------------------------------------------------------------------------
# Controller installation


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_controller_and_crd_charts_are_pinned_together(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack).karpenter
    assert cfg is not None
    controller, crds = release(plan, "nodepools-karpenter"), release(plan, "nodepools-karpenter-crd")
    assert controller.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    assert controller.inputs["version"] == crds.inputs["version"] == cfg.version
    assert controller.inputs["skipCrds"] is True
    assert crds.urn in controller.dependencies
    for pool in plan.by_type(NODE_POOL):
        assert controller.urn in pool.dependencies


def test_controller_runs_on_system_nodes_spread_over_zones(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    values = release(plan, "nodepools-karpenter").inputs["values"]
    assert values["replicas"] == 2
    assert {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": "node-role/system", "operator": "In", "values": ["true"]} in terms[0]["matchExpressions"]
    assert values["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert values["podDisruptionBudget"]["maxUnavailable"] == 1
    assert values["controller"]["resources"]["limits"]["memory"] == "1Gi"
    settings = values["settings"]
    assert settings["clusterName"] == "plat-prod"
    assert settings["interruptionQueue"] == plan.one("aws:sqs/queue:Queue", "nodepools-interruption").inputs["name"]
    assert settings["clusterEndpoint"] == plan.exports["cluster"]["endpoint"]
    assert values["serviceAccount"]["name"] == "karpenter"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_pinned_karpenter_version_has_its_crds_vendored(stack: str) -> None:
    assert sorted(p.name for p in karpenter_crds(PINNED[stack]).glob("*.yaml")) == [
        "karpenter.k8s.aws_ec2nodeclasses.yaml",
        "karpenter.sh_nodepools.yaml",
    ]
