"""Environment stacks deploy and preview from inside their VPC: the EKS endpoint is private everywhere, CodeBuild-hosted
GitHub Actions runners sit in the private subnets, and the previewer can read (never write) the cluster."""

from __future__ import annotations

import json

import pytest

from components.access.component import ClusterAccess, grants
from components.runners.component import runner_label
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

PROJECT = "aws:codebuild/project:Project"
WEBHOOK = "aws:codebuild/webhook:Webhook"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_a_runner_project_lives_in_the_private_subnets(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    (project,) = plan.by_type(PROJECT)
    assert project.inputs["name"] == f"plat-{stack}-gha-runner"
    private = {s.outputs["id"] for s in plan.by_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "private"}
    vpc = project.inputs["vpcConfig"]
    assert set(vpc["subnets"]) == private
    assert project.inputs["source"]["type"] == "GITHUB"
    assert project.inputs["source"]["auth"]["type"] == "CODECONNECTIONS"
    (webhook,) = plan.by_type(WEBHOOK)
    assert webhook.inputs["filterGroups"] == [{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_runner_reaches_the_private_endpoint_and_holds_no_aws_rights(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    runner_sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "runners-runner")
    rules = plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not [r for r in rules if r.inputs["securityGroupId"] == runner_sg.outputs["id"]]  # nothing comes in
    control_plane = plan.one("aws:ec2/securityGroup:SecurityGroup", "cluster-control-plane")
    from_runner = [r for r in rules if r.inputs.get("referencedSecurityGroupId") == runner_sg.outputs["id"]]
    assert [(r.inputs["securityGroupId"], r.inputs["fromPort"]) for r in from_runner] == [
        (control_plane.outputs["id"], 443)
    ]
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "runners-runner").inputs["policy"])
    actions = {
        a for st in policy["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    assert {a.split(":")[0] for a in actions} == {"logs", "ec2", "codeconnections"}
    assert not [a for a in actions if a.endswith("*")]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_cluster_endpoint_is_private(plans: dict[str, Plan], stack: str) -> None:
    assert stack_config(stack).cluster.endpoint_public_access is False
    (cluster,) = plans[stack].by_type("eks:index:Cluster")
    assert cluster.inputs["endpointPublicAccess"] is False


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_previewer_can_view_the_cluster(plans: dict[str, Plan], stack: str) -> None:
    cfg = stack_config(stack)
    previewer = f"arn:aws:iam::{cfg.account_id}:role/{cfg.previewer_role_name}"
    associations = plans[stack].by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    (view,) = [a for a in associations if a.inputs["principalArn"] == previewer]
    assert view.inputs["policyArn"].endswith("/AmazonEKSViewPolicy")
    assert view.inputs["accessScope"] == {"type": "cluster"}


def test_a_cluster_created_by_the_deployer_gets_no_second_deployer_entry() -> None:
    cfg = stack_config("stg")
    access = ClusterAccess(
        cluster=None,  # type: ignore[arg-type]  # grants() reads no handle
        sso=cfg.identity,
        deployer_role_arn="arn:aws:iam::321098765432:role/pulumi-deployer",
        previewer_role_arn="arn:aws:iam::321098765432:role/pulumi-previewer",
        app_namespaces=["shop"],
        deployer_created_cluster=True,
    )
    assert "ci-deployer" not in {g.key for g in grants(access)}
    bootstrapped = ClusterAccess(
        cluster=None,  # type: ignore[arg-type]
        sso=cfg.identity,
        deployer_role_arn="arn:aws:iam::321098765432:role/pulumi-deployer",
        previewer_role_arn="arn:aws:iam::321098765432:role/pulumi-previewer",
        app_namespaces=["shop"],
    )
    assert "ci-deployer" in {g.key for g in grants(bootstrapped)}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_no_stack_names_an_admin_role_nothing_creates(stack: str) -> None:
    assert not [arn for arn in stack_config(stack).cluster.admin_role_arns if arn.endswith("role/platform-admin")]


def test_the_runner_label_is_codebuilds_documented_form() -> None:
    assert (
        runner_label("plat-prod-gha-runner")
        == "codebuild-plat-prod-gha-runner-${{ github.run_id }}-${{ github.run_attempt }}"
    )
