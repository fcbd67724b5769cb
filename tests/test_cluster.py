"""The Cluster component in every workload stack, under mocks: the inputs a security review would check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.cluster.component import CONTROL_PLANE_TO_NODE_PORTS
from components.cluster.config import EKS_ADDONS
from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

EKS = "eks:index:Cluster"
ADDON = "aws:eks/addon:Addon"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"


def cluster_of(plans: dict[str, Plan], stack: str) -> Recorded:
    return plans[stack].one(EKS)


def by_urn(plan: Plan, urn: str) -> Recorded:
    return next(r for r in plan.resources if r.urn == urn)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_control_plane_runs_in_private_subnets_with_a_private_endpoint(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cluster = cluster_of(plans, stack)
    private = set(plan.exports["network"]["privateSubnetIds"].values())
    assert set(cluster.inputs["subnetIds"]) == private
    assert cluster.inputs["endpointPrivateAccess"] is True
    assert cluster.inputs["version"] == "1.34"
    assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}


def test_every_endpoint_is_private_ci_reaches_it_from_the_vpc(plans: dict[str, Plan]) -> None:
    """Issue 13: stg and sandbox opened their endpoints to 203.0.113.0/24, a documentation range; CI now runs on the
    in-VPC runners, so no stack needs a public endpoint."""
    for stack in WORKLOAD_STACKS:
        inputs = cluster_of(plans, stack).inputs
        assert inputs["endpointPublicAccess"] is False, stack
        assert inputs["endpointPrivateAccess"] is True, stack
        assert "publicAccessCidrs" not in inputs, stack


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_secrets_are_encrypted_with_the_clusters_rotating_key(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    key = plan.one("aws:kms/key:Key", "cluster-cluster")
    assert cluster_of(plans, stack).inputs["encryptionConfigKeyArn"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    sids = {s["Sid"] for s in policy["Statement"]}
    assert {"AccountAdministersKeyThroughIam", "CloudWatchLogsUsesKey", "EbsThroughEc2"} <= sids


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_all_log_types_go_to_a_precreated_retained_encrypted_group(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cluster = cluster_of(plans, stack)
    assert sorted(cluster.inputs["enabledClusterLogTypes"]) == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane")
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert group.inputs["retentionInDays"] == stack_config(stack).log_retention_days
    assert group.inputs["kmsKeyId"] == plan.one("aws:kms/key:Key", "cluster-cluster").outputs["arn"]
    assert group.urn in cluster.dependencies, "EKS would create its own never-expiring group first"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_access_entries_only_with_the_configured_admins(plans: dict[str, Plan], stack: str) -> None:
    inputs = cluster_of(plans, stack).inputs
    cfg = stack_config(stack).cluster
    assert cfg is not None
    assert inputs["authenticationMode"] == "API"
    entries = inputs["accessEntries"]
    assert sorted(e["principalArn"] for e in entries.values()) == sorted(cfg.admin_role_arns)
    for entry in entries.values():
        (association,) = entry["accessPolicies"].values()
        assert association["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert association["accessScope"] == {"type": "cluster"}


def test_deletion_protection_and_pulumi_protect_in_prod(plans: dict[str, Plan]) -> None:
    prod = cluster_of(plans, "prod")
    assert prod.inputs["deletionProtection"] is True
    assert prod.protect is True
    assert plans["prod"].one("aws:kms/key:Key", "cluster-cluster").protect is True
    sandbox = cluster_of(plans, "sandbox")
    assert sandbox.inputs["deletionProtection"] is False
    assert sandbox.protect is False


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_default_node_group_and_security_groups_are_replaced_by_explicit_ones(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    inputs = cluster_of(plans, stack).inputs
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["skipDefaultSecurityGroups"] is True
    assert inputs["clusterSecurityGroup"] == {"$resource": plan.one(SG, "cluster-control-plane").urn}
    assert inputs["serviceRole"] == {"$resource": plan.one("aws:iam/role:Role", "cluster-cluster").urn}
    assert inputs["createOidcProvider"] is True
    assert inputs["bootstrapSelfManagedAddons"] is False


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_security_group_rules_between_control_plane_and_nodes(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    control_plane = plan.one(SG, "cluster-control-plane").outputs["id"]
    nodes = plan.one(SG, "cluster-nodes").outputs["id"]
    rules = [r.inputs for r in plan.by_type(INGRESS)]
    into_nodes_from_cp = {
        r["fromPort"]
        for r in rules
        if r["securityGroupId"] == nodes and r.get("referencedSecurityGroupId") == control_plane
    }
    assert {443, 10250} <= into_nodes_from_cp
    node_to_node = [r for r in rules if r["securityGroupId"] == nodes and r.get("referencedSecurityGroupId") == nodes]
    assert [r["ipProtocol"] for r in node_to_node] == ["-1"]
    into_cp = [r for r in rules if r["securityGroupId"] == control_plane]
    runners = plan.exports["runners"]["securityGroupId"]
    assert sorted((r["fromPort"], r["toPort"], r["referencedSecurityGroupId"]) for r in into_cp) == sorted(
        [(443, 443, nodes), (443, 443, runners)]
    )
    # No CIDR-based ingress on either group.
    assert not [
        r for r in rules if r["securityGroupId"] in (nodes, control_plane) and (r.get("cidrIpv4") or r.get("cidrIpv6"))
    ]
    assert (
        plan.one(SG, "cluster-nodes").inputs["tags"]["karpenter.sh/discovery"]
        == cluster_of(plans, stack).inputs["name"]
    )


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_system_node_group_is_tainted_labelled_and_private(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    ng = plan.one(NODE_GROUP).inputs
    cfg = stack_config(stack).cluster
    assert cfg is not None
    assert ng["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert ng["labels"] == {"node-role/system": "true"}
    assert set(ng["subnetIds"]) == set(plan.exports["network"]["privateSubnetIds"].values())
    assert ng["instanceTypes"] == list(cfg.system_node_group.instance_types)
    assert ng["amiType"] == cfg.system_node_group.ami_type
    assert ng["scalingConfig"]["minSize"] == cfg.system_node_group.min_size
    assert ng["updateConfig"] == {"maxUnavailable": cfg.system_node_group.max_unavailable}
    assert "remoteAccess" not in ng, "no SSH key: SSM is the debugging path"
    assert ng["launchTemplate"]["id"] == plan.one(LT).outputs["id"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    lt = plan.one(LT).inputs
    assert lt["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    (mapping,) = lt["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"]["volumeType"] == "gp3"
    assert mapping["ebs"]["encrypted"] == "true"
    assert mapping["ebs"]["kmsKeyId"] == plan.one("aws:kms/key:Key", "cluster-cluster").outputs["arn"]
    cfg = stack_config(stack).cluster
    assert cfg is not None
    assert lt["monitoring"] == {"enabled": cfg.system_node_group.detailed_monitoring}
    assert lt["vpcSecurityGroupIds"] == [plan.one(SG, "cluster-nodes").outputs["id"]]
    assert "keyName" not in lt


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_node_role_has_only_the_managed_policies_nodes_need(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    role = plan.one("aws:iam/role:Role", "cluster-system-nodes")
    attached = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role.outputs["name"]
    )
    assert attached == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonSSMManagedInstanceCore",
    ]
    assert not [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_addons_are_pinned_from_config_and_ordered_around_the_nodes(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack).cluster
    assert cfg is not None
    addons = {a.inputs["addonName"]: a for a in plan.by_type(ADDON)}
    assert set(addons) == set(EKS_ADDONS)
    for name, addon in addons.items():
        assert addon.inputs["addonVersion"] == cfg.addon_versions[name]
        assert addon.inputs["clusterName"] == cluster_of(plans, stack).inputs["name"]
    node_group = plan.one(NODE_GROUP)
    for early in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addons[early].urn in node_group.dependencies
    for late in ("coredns", "aws-ebs-csi-driver", "metrics-server"):
        assert node_group.urn in addons[late].dependencies


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_system_nodes_wait_for_their_security_group_rules(plans: dict[str, Plan], stack: str) -> None:
    """Nodes join only with egress and serve webhooks only with the control-plane rules; what waits for the cluster's
    `ready` (the node group) therefore waits for the rules too, and a destroy removes the rules after the nodes."""
    plan = plans[stack]
    node_group = plan.one(NODE_GROUP)
    rules = [
        r
        for r in plan.resources
        if r.type in (INGRESS, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        and r.parent == node_group.parent
    ]
    assert len(rules) == len(CONTROL_PLANE_TO_NODE_PORTS) + 4  # node to node, nodes to API, two egress rules
    assert {r.urn for r in rules} <= set(node_group.dependencies)


def _config(addon: Recorded) -> dict[str, Any]:
    return json.loads(addon.inputs["configurationValues"])


def test_vpc_cni_enforces_network_policy(plans: dict[str, Plan]) -> None:
    (cni,) = [a for a in plans["prod"].by_type(ADDON) if a.inputs["addonName"] == "vpc-cni"]
    assert _config(cni)["enableNetworkPolicy"] == "true"


def test_coredns_tolerates_the_system_taint_spreads_over_zones_and_has_a_pdb(plans: dict[str, Plan]) -> None:
    (coredns,) = [a for a in plans["prod"].by_type(ADDON) if a.inputs["addonName"] == "coredns"]
    config = _config(coredns)
    assert {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"} in config["tolerations"]
    assert config["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert config["podDisruptionBudget"]["enabled"] is True
    assert config["replicaCount"] >= 2


def test_ebs_csi_driver_uses_a_pod_identity_role_scoped_to_its_service_account(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    (ebs,) = [a for a in plan.by_type(ADDON) if a.inputs["addonName"] == "aws-ebs-csi-driver"]
    role = plan.one("aws:iam/role:Role", "cluster-ebs-csi")
    assert ebs.inputs["podIdentityAssociations"] == [
        {"roleArn": role.outputs["arn"], "serviceAccount": "ebs-csi-controller-sa"}
    ]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "ebs-csi-controller-sa"
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-name"] == "plat-prod"


def test_default_storage_class_is_encrypted_gp3(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    (sc,) = plan.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert sc.inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc.inputs["parameters"]["type"] == "gp3"
    assert sc.inputs["parameters"]["encrypted"] == "true"
    assert sc.inputs["parameters"]["kmsKeyId"] == plan.one("aws:kms/key:Key", "cluster-cluster").outputs["arn"]
    assert sc.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    (k8s_provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert sc.provider_urn == k8s_provider.urn


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_kubeconfig_is_a_secret_export_and_the_rest_is_exported(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    assert "kubeconfig" in plan.secret_exports
    exported = plan.exports["cluster"]
    assert exported["name"] == f"plat-{stack}"
    assert exported["endpoint"].startswith("https://")
    assert exported["oidcProviderArn"].startswith("arn:aws:iam::")
    assert exported["nodeSecurityGroupId"] == plan.one(SG, "cluster-nodes").outputs["id"]
    assert exported["clusterSecurityGroupId"] == plan.one(SG, "cluster-control-plane").outputs["id"]
