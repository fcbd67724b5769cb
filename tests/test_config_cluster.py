"""The declared `cluster` section: instance types and their architecture, environment rules read from the profile,
and the organisation-wide addonVersions table the cluster takes its entry from."""

from __future__ import annotations

from typing import Any

import pytest

from components.cluster.config import EKS_ADDONS, ClusterConfig, NodeGroupConfig, addon_table_problems
from core.ec2types import architecture_of_family, architecture_of_instance_type, instance_types, sizes_by_family
from core.loading import MISSING, Problems, validate
from core.profiles import EnvironmentProfile
from core.schema import Model, ValidationContext
from tests.test_config import P, problems_of

PINS = {
    "vpc-cni": "v1.22.4-eksbuild.3",
    "kube-proxy": "v1.34.6-eksbuild.13",
    "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    "coredns": "v1.13.2-eksbuild.11",
    "aws-ebs-csi-driver": "v1.62.0-eksbuild.1",
    "metrics-server": "v0.8.1-eksbuild.5",
}
TABLE = {"1.34": PINS}
ACCOUNT = "210987654321"


def profile(**flags: Any) -> EnvironmentProfile:
    return EnvironmentProfile(account_id=ACCOUNT, account_email="aws+env@example.com", ou="workloads/env", **flags)


def context(environment: str = "env", table: Any = TABLE, **flags: Any) -> ValidationContext:
    return ValidationContext(
        stack=environment, environment=environment, profile=profile(**flags), account_id=ACCOUNT, addon_versions=table
    )


def cluster_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kubernetesVersion": "1.34",
        "adminRoleArns": [f"arn:aws:iam::{ACCOUNT}:role/platform-admin"],
        "systemNodeGroup": {
            "instanceTypes": ["m7g.large"],
            "amiType": "AL2023_ARM_64_STANDARD",
            "minSize": 3,
            "desiredSize": 3,
            "maxSize": 4,
        },
    }
    node_group = changes.pop("systemNodeGroup", {})
    data["systemNodeGroup"].update(node_group)
    data.update(changes)
    return data


class _Stack(Model):
    """The section nested as the stack composition nests it, so problem paths read as in a stack file."""

    cluster: ClusterConfig


def check(data: dict[str, Any], ctx: ValidationContext) -> tuple[ClusterConfig | None, list[str]]:
    problems = Problems()
    stack = validate(_Stack, {"cluster": data}, context=ctx, project=P, problems=problems)
    return (stack.cluster if stack else None), [str(p) for p in problems.items]


def accepted(data: dict[str, Any], ctx: ValidationContext) -> ClusterConfig:
    cluster, problems = check(data, ctx)
    assert not problems, problems
    assert cluster is not None
    return cluster


def refused(data: dict[str, Any], ctx: ValidationContext, *fragments: str) -> str:
    cluster, problems = check(data, ctx)
    assert cluster is None
    text = "\n".join(problems)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} missing from:\n{text}"
    return text


# ---------------------------------------------------------------------------------------------------------------------
# Instance types and architectures

NOT_AMD64 = {
    **dict.fromkeys(
        ["a1", "c6g", "c6gd", "c6gn", "c7g", "c7gd", "c7gn", "c8g", "c8gb", "c8gd", "c8gn", "c9g", "c9gd", "g5g",
         "hpc7g", "i4g", "i8g", "i8ge", "im4gn", "is4gen", "m6g", "m6gd", "m7g", "m7gd", "m8g", "m8gb", "m8gd", "m8gn",
         "m9g", "m9gd", "p6e-gb200", "r6g", "r6gd", "r7g", "r7gd", "r8g", "r8gb", "r8gd", "r8gn", "r9g", "r9gd", "t4g",
         "x2gd", "x8g"],
        "arm64",
    ),
    "mac1": "x86_64_mac",
    **dict.fromkeys(
        ["mac2", "mac2-m1ultra", "mac2-m2", "mac2-m2pro", "mac-m3ultra", "mac-m4", "mac-m4max", "mac-m4pro"],
        "arm64_mac",
    ),
}  # fmt: skip
"""Every family of botocore's EC2 model (pinned in requirements.txt) that is not amd64. Source: EC2
DescribeInstanceTypes `ProcessorInfo.SupportedArchitectures` as Karpenter's generated instance-type reference publishes
it (aws/karpenter-provider-aws website/content/en/v1.14/reference/instance-types.md, `kubernetes.io/arch`), and the EC2
User Guide for the families that reference omits (Mac, p6e-gb200 on NVIDIA Grace, r9g/r9gd on Graviton). A botocore
update that adds a family fails this test until the family's architecture has been checked and, if it is not amd64,
added here."""


def test_architecture_of_every_family_botocore_lists() -> None:
    wrong = {
        family: architecture_of_family(family)
        for family in sizes_by_family()
        if architecture_of_family(family) != NOT_AMD64.get(family, "amd64")
    }
    assert not wrong, f"families detected wrongly (or new and unchecked): {wrong}"
    assert set(NOT_AMD64) <= set(sizes_by_family()), "NOT_AMD64 lists a family botocore does not"


def test_every_instance_type_has_its_family_architecture() -> None:
    for name in instance_types():
        assert architecture_of_instance_type(name) == architecture_of_family(name.split(".")[0])


@pytest.mark.parametrize(
    "name", ["a1.large", "m7g.large", "c6gn.xlarge", "t4g.medium", "r8g.large", "x2gd.xlarge", "im4gn.large",
             "is4gen.large", "c8gb.large", "p6e-gb200.36xlarge"],
)  # fmt: skip
def test_graviton_types_are_arm64(name: str) -> None:
    assert architecture_of_instance_type(name) == "arm64"


@pytest.mark.parametrize("name", ["m6i.large", "c7i-flex.large", "gr6.4xlarge", "g4ad.xlarge", "u7i-12tb.224xlarge"])
def test_x86_types_are_amd64(name: str) -> None:
    assert architecture_of_instance_type(name) == "amd64"


def test_a1_is_accepted_on_an_arm64_ami() -> None:
    cluster = accepted(cluster_data(systemNodeGroup={"instanceTypes": ["a1.large", "m7g.large"]}), context())
    assert cluster.system_node_group.instance_types == ("a1.large", "m7g.large")
    assert cluster.system_node_group.architecture == "arm64"


def test_a1_is_refused_on_an_x86_ami() -> None:
    data = cluster_data(systemNodeGroup={"instanceTypes": ["a1.large"], "amiType": "AL2023_x86_64_STANDARD"})
    refused(data, context(), f"{P}:cluster.systemNodeGroup.instanceTypes[0]", '"a1.large"', "amd64 instance types")


def test_x86_type_is_accepted_on_an_x86_ami() -> None:
    data = cluster_data(systemNodeGroup={"instanceTypes": ["m6i.large"], "amiType": "BOTTLEROCKET_x86_64"})
    assert accepted(data, context()).system_node_group.architecture == "amd64"


def test_mac_instances_match_no_linux_ami() -> None:
    data = cluster_data(systemNodeGroup={"instanceTypes": ["mac2.metal"]})
    refused(data, context(), f"{P}:cluster.systemNodeGroup.instanceTypes[0]", '"mac2.metal"', "arm64 instance types")


def test_instance_type_that_does_not_exist_is_refused() -> None:
    data = cluster_data(systemNodeGroup={"instanceTypes": ["m7g.large", "m7g.huge"]})
    refused(data, context(), f"{P}:cluster.systemNodeGroup.instanceTypes[1]", '"m7g.huge"', "botocore")


def test_malformed_instance_type_is_refused() -> None:
    data = cluster_data(systemNodeGroup={"instanceTypes": ["large"]})
    refused(data, context(), f"{P}:cluster.systemNodeGroup.instanceTypes[0]", "such as m7g.large")


def test_empty_instance_type_list_is_refused() -> None:
    data = cluster_data(systemNodeGroup={"instanceTypes": []})
    refused(data, context(), f"{P}:cluster.systemNodeGroup.instanceTypes: got []", "at least one EC2 instance type")


def test_node_group_sizes() -> None:
    refused(cluster_data(systemNodeGroup={"desiredSize": 5}), context(), "desiredSize", "between minSize (3)")
    refused(cluster_data(systemNodeGroup={"maxUnavailable": 4}), context(), "maxUnavailable", "fewer than maxSize")
    refused(cluster_data(systemNodeGroup={"diskSizeGiB": 10}), context(), "systemNodeGroup.diskSizeGiB", "20-1000")
    group = accepted(cluster_data(), context()).system_node_group
    assert (group.disk_size_gib, group.max_unavailable, group.detailed_monitoring) == (50, 1, False)


def test_node_group_standalone_without_context() -> None:
    group = NodeGroupConfig.model_validate(cluster_data()["systemNodeGroup"] | {"minSize": 1, "desiredSize": 1})
    assert group.min_size == 1


# ---------------------------------------------------------------------------------------------------------------------
# Environment rules read the profile, not the environment's name


def test_highly_available_environment_needs_three_system_nodes() -> None:
    small = cluster_data(systemNodeGroup={"minSize": 2, "desiredSize": 2})
    refused(small, context("qa", highly_available=True), "systemNodeGroup.minSize", ">= 3 for environment qa")
    accepted(small, context("prod"))  # named prod, but its profile does not say highly available


def test_production_endpoint_is_private() -> None:
    public = cluster_data(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])
    refused(public, context("live", production=True), f"{P}:cluster.endpointPublicAccess", "private only")
    assert accepted(public, context("prod")).endpoint_public_access


def test_world_cidr_is_refused_in_production_even_with_the_opt_in() -> None:
    world = cluster_data(publicAccessCidrs=["0.0.0.0/0"], allowWorldPublicEndpoint=True)
    refused(world, context("live", production=True), f"{P}:cluster.publicAccessCidrs[0]", "never in live")
    assert accepted(world, context("prod")).public_access_cidrs == ("0.0.0.0/0",)


def test_world_cidr_needs_the_opt_in_elsewhere() -> None:
    world = cluster_data(publicAccessCidrs=["0.0.0.0/0"])
    refused(world, context("qa"), f"{P}:cluster.publicAccessCidrs[0]", "allowWorldPublicEndpoint")


def test_public_endpoint_needs_a_cidr() -> None:
    refused(cluster_data(endpointPublicAccess=True), context(), f"{P}:cluster.publicAccessCidrs", "at least one CIDR")


def test_production_cluster_keeps_deletion_protection() -> None:
    unprotected = cluster_data(deletionProtection=False)
    refused(unprotected, context("live", production=True), f"{P}:cluster.deletionProtection", "protected")
    assert accepted(unprotected, context("prod")).deletion_protection is False


def test_admin_roles() -> None:
    # Optional since issue 13: Identity Center's PlatformAdmin is the cluster admin (the access component); the former
    # required `role/platform-admin` named a role no stack created.
    assert accepted(cluster_data(adminRoleArns=[]), context()).admin_role_arns == ()
    assert accepted({k: v for k, v in cluster_data().items() if k != "adminRoleArns"}, context()).admin_role_arns == ()
    other = ["arn:aws:iam::999999999999:role/platform-admin"]
    refused(cluster_data(adminRoleArns=other), context(), "adminRoleArns[0]", f"account {ACCOUNT}")


def test_kubernetes_version_rules() -> None:
    refused(cluster_data(kubernetesVersion=1.3), context(), f"{P}:cluster.kubernetesVersion: got 1.3", "quote it")
    refused(cluster_data(kubernetesVersion="1.29"), context(), '"1.29"', "a supported version: 1.34")
    assert accepted({k: v for k, v in cluster_data().items() if k != "kubernetesVersion"}, context()).kubernetes_version


# ---------------------------------------------------------------------------------------------------------------------
# addonVersions


def test_cluster_takes_its_entry_of_the_table() -> None:
    table = {"1.34": PINS, "1.35": {addon: version.replace("v", "v9", 1) for addon, version in PINS.items()}}
    cluster = accepted(cluster_data(kubernetesVersion="1.35"), context(table=table))
    assert dict(cluster.addon_versions) == table["1.35"]
    assert list(cluster.addon_versions) == list(EKS_ADDONS)


def test_version_without_an_entry_is_refused() -> None:
    refused(
        cluster_data(kubernetesVersion="1.35"),
        context(),
        f'{P}:cluster.kubernetesVersion: got "1.35"',
        "an entry for Kubernetes 1.35 pinning vpc-cni, kube-proxy",
        "(it has: 1.34)",
    )


def test_without_the_table_the_cluster_has_no_pins() -> None:
    assert accepted(cluster_data(), context(table=None)).addon_versions == {}


def test_a_malformed_table_is_left_to_the_table_check() -> None:
    assert accepted(cluster_data(), context(table={"1.34": {"vpc-cni": "latest"}})).addon_versions == {}


def test_addon_table_problems() -> None:
    assert addon_table_problems(TABLE) == []
    assert addon_table_problems({}) == []
    assert addon_table_problems(["1.34"]) == [("", ["1.34"], "an object: Kubernetes version -> {add-on name: version}")]
    problems = addon_table_problems(
        {
            "1.34": {**PINS, "coredns": "latest", "kube-proxy": MISSING, "karpenter": "v1.0.0-eksbuild.1"},
            "1.35": "v1",
            "1.3": PINS,
        }
    )
    problems = [(p, MISSING if v is MISSING else v, a) for p, v, a in problems]
    assert ("1.34.coredns", "latest", "an EKS add-on version such as v1.20.4-eksbuild.1") in problems
    assert ("1.34.kube-proxy", MISSING, "an EKS add-on version such as v1.20.4-eksbuild.1") in problems
    assert ("1.34.karpenter", "v1.0.0-eksbuild.1", "one of the managed add-ons " + ", ".join(EKS_ADDONS)) in problems
    assert ("1.35", "v1", "an entry for Kubernetes 1.35 pinning " + ", ".join(EKS_ADDONS)) in problems
    assert ("1.3", "1.3", 'a Kubernetes minor version string such as "1.34" (quote it in YAML)') in problems
    assert len(problems) == 5


def test_missing_pin_is_reported_as_missing() -> None:
    (problem,) = addon_table_problems({"1.34": {k: v for k, v in PINS.items() if k != "coredns"}})
    assert problem[:1] == ("1.34.coredns",)
    assert problem[1] is MISSING


def test_legacy_pipeline_keeps_todays_messages() -> None:
    message = problems_of("stg", {"addonVersions": {"1.34": {**PINS, "vpc-cni": "latest"}}})
    assert f'{P}:addonVersions.1.34.vpc-cni: got "latest"; allowed: an EKS add-on version' in message
    message = problems_of("stg", {"addonVersions": {"1.34": {k: v for k, v in PINS.items() if k != "coredns"}}})
    assert f"{P}:addonVersions.1.34.coredns: missing" in message
    message = problems_of("stg", {"cluster.kubernetesVersion": "1.35"})
    assert f'{P}:cluster.kubernetesVersion: got "1.35"; allowed: an entry for Kubernetes 1.35 pinning' in message


def test_legacy_pipeline_reports_model_rules_at_the_key() -> None:
    message = problems_of("sandbox", {"cluster.publicAccessCidrs": ["0.0.0.0/0"]})
    assert f"{P}:cluster.publicAccessCidrs[0]: got" in message
