"""Account baselines in every stack, and who may use the cluster of each environment stack (cluster access)."""

from __future__ import annotations

import pytest

from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import STACKS, WORKLOAD_STACKS
from tests.support import stack_config

ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


@pytest.mark.parametrize("stack", STACKS)
def test_every_account_blocks_public_s3_and_encrypts_ebs_by_default(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    blocks = plan.by_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    assert blocks
    for block in blocks:
        assert all(block.inputs[f] for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                              "restrictPublicBuckets"))  # fmt: skip
    assert all(e.inputs["enabled"] for e in plan.by_type("aws:ebs/encryptionByDefault:EncryptionByDefault"))
    # shared-services sets them in the management account and in the shared-services member account
    assert len(blocks) == (2 if stack == "shared-services" else 1)


def _associations(plan: Plan) -> dict[str, Recorded]:
    parent = next(r for r in plan.resources if r.type == "aws-platform:platform:ClusterAccess")
    return {r.name.removeprefix(f"{parent.name}-"): r for r in plan.by_type(ASSOCIATION) if r.parent == parent.urn}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_identity_center_roles_and_ci_get_the_right_access(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    assert cfg.identity is not None
    assert cfg.workloads is not None
    roles = cfg.identity.sso_role_arns
    associations = _associations(plan)
    assert set(associations) == {"platform-admin", "platform-engineer", "developer", "ci-deployer", "ci-previewer"}

    def policy(name: str) -> str:
        return associations[name].inputs["policyArn"].rsplit("/", 1)[-1]

    admin = associations["platform-admin"].inputs
    assert admin["principalArn"] == roles["PlatformAdmin"]
    assert policy("platform-admin") == "AmazonEKSClusterAdminPolicy"
    assert admin["accessScope"] == {"type": "cluster"}
    engineer = associations["platform-engineer"].inputs
    assert policy("platform-engineer") == "AmazonEKSAdminPolicy"
    assert engineer["accessScope"] == {"type": "namespace", "namespaces": list(cfg.workloads.namespaces)}
    developer = associations["developer"].inputs
    assert developer["principalArn"] == roles["Developer"]
    if stack == "sandbox":
        assert policy("developer") == "AmazonEKSEditPolicy"
        assert developer["accessScope"]["type"] == "namespace"
    else:
        assert policy("developer") == "AmazonEKSViewPolicy"
    deployer = associations["ci-deployer"].inputs
    assert deployer["principalArn"] == f"arn:aws:iam::{cfg.account_id}:role/pulumi-deployer"
    assert policy("ci-deployer") == "AmazonEKSClusterAdminPolicy"
    entries = {r.inputs["principalArn"]: r for r in plan.by_type(ENTRY) if r.inputs.get("type") == "STANDARD"}
    for association in associations.values():
        entry = entries[association.inputs["principalArn"]]
        assert entry.urn in association.dependencies
        assert entry.inputs["clusterName"] == cfg.cluster_name


def test_access_entries_wait_for_the_cluster(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    cluster = plan.one("eks:index:Cluster")
    for entry in plan.by_type(ENTRY):
        if entry.inputs.get("type") == "STANDARD":
            assert cluster.urn in entry.dependencies
