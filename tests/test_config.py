"""The stack config parser: every stack file parses, and bad input gets one clear error naming key and value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from components.cluster.config import EKS_ADDONS, architecture_of_instance_type
from components.network.config import REQUIRED_INTERFACE_ENDPOINTS
from core.loading import ConfigError, decode
from core.settings import LOG_RETENTION_DAYS
from offline.stackfiles import read_stack, stack_names
from stacks.config import EnvironmentConfig, SharedServicesConfig, StackConfig, parse

P = "aws-platform"
_DELETE = object()


def raw_config(stack: str, changes: dict[str, Any] | None = None) -> dict[str, str]:
    """The stack's runtime config with `changes` applied; keys are dotted paths below the project namespace
    (`network.natGateways`), or fully qualified keys for other namespaces (`aws:region`)."""
    raw = dict(read_stack(stack).config)
    for path, value in (changes or {}).items():
        if ":" in path:
            raw[path] = value
            continue
        top, *rest = path.split(".")
        key = f"{P}:{top}"
        if not rest:
            if value is _DELETE:
                raw.pop(key, None)
            else:
                raw[key] = value if isinstance(value, str) else json.dumps(value)
            continue
        obj = decode(raw[key])
        node = obj
        for part in rest[:-1]:
            node = node[part]
        if value is _DELETE:
            node.pop(rest[-1], None)
        else:
            node[rest[-1]] = value
        raw[key] = json.dumps(obj)
    return raw


def parse_any(stack: str, changes: dict[str, Any] | None = None) -> StackConfig:
    return parse(raw_config(stack, changes), stack=stack)


def parse_stack(stack: str, changes: dict[str, Any] | None = None) -> EnvironmentConfig:
    """An environment stack's configuration (with `changes`)."""
    cfg = parse_any(stack, changes)
    assert isinstance(cfg, EnvironmentConfig)
    return cfg


def parse_shared(changes: dict[str, Any] | None = None) -> SharedServicesConfig:
    cfg = parse_any("shared-services", changes)
    assert isinstance(cfg, SharedServicesConfig)
    return cfg


def problems_of(stack: str, changes: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_any(stack, changes)
    return str(err.value)


# ---------------------------------------------------------------------------------------------------------------------
# The repository's stack files


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_file_parses(stack: str) -> None:
    cfg = parse_any(stack)
    assert cfg.stack == stack
    assert cfg.region in cfg.allowed_regions
    assert cfg.log_retention_days in LOG_RETENTION_DAYS


def test_expected_stacks_exist() -> None:
    assert set(stack_names()) == {"prod", "stg", "sandbox", "shared-services"}


@pytest.mark.parametrize("stack", ["prod", "stg"])
def test_strict_environments_are_highly_available(stack: str) -> None:
    cfg = parse_stack(stack)
    assert cfg.network is not None
    assert cfg.network.nat_gateways == "perAz"
    assert len(set(cfg.network.availability_zones)) == 3
    assert cfg.protect_stateful


def test_prod_config_values() -> None:
    cfg = parse_stack("prod")
    assert cfg.environment == "prod"
    assert cfg.network is not None
    assert cfg.cluster is not None
    assert cfg.network.interface_endpoints[:3] == REQUIRED_INTERFACE_ENDPOINTS
    assert cfg.cluster.kubernetes_version == "1.34"
    assert cfg.cluster.upgrade_policy == "STANDARD"
    assert cfg.cluster.endpoint_public_access is False
    assert cfg.cluster.deletion_protection is True
    assert set(cfg.cluster.addon_versions) == set(EKS_ADDONS)
    assert cfg.cluster.system_node_group.architecture == "arm64"
    assert cfg.cluster_name == "plat-prod"


@pytest.mark.parametrize(
    ("instance_type", "arch"),
    [("m7g.large", "arm64"), ("c6gn.xlarge", "arm64"), ("t4g.medium", "arm64"), ("m6i.large", "amd64"),
     ("c5.large", "amd64"), ("g5.xlarge", "amd64"), ("x2iedn.xlarge", "amd64"), ("im4gn.large", "arm64")],
)  # fmt: skip
def test_instance_architecture(instance_type: str, arch: str) -> None:
    assert architecture_of_instance_type(instance_type) == arch


def test_vpc_cidrs_of_all_stacks_are_distinct() -> None:
    cidrs = [cfg.network.vpc_cidr for s in stack_names() if isinstance(cfg := parse_any(s), EnvironmentConfig)]
    assert len(cidrs) == len(set(cidrs)) == 3


def test_shared_services_is_its_own_kind_without_environment_sections() -> None:
    cfg = parse_shared()
    assert not isinstance(cfg, EnvironmentConfig)
    assert "network" not in SharedServicesConfig.model_fields
    assert "organization" not in EnvironmentConfig.model_fields


def test_parsed_config_is_frozen() -> None:
    cfg = parse_stack("prod")
    with pytest.raises(ValidationError, match="frozen"):
        cfg.region = "us-east-1"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------------------
# Bad input: each case names the key path and the offending value


BAD_CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("region outside the allowed list", "prod", {"region": "us-east-1"}, [f"{P}:region", '"us-east-1"', "eu-west-1"]),
    ("account id too short", "prod", {"accountId": "12345"}, [f"{P}:accountId", '"12345"', "12 digits"]),
    ("account id not digits", "stg", {"accountId": "12345678901a"}, [f"{P}:accountId", '"12345678901a"']),
    (
        "vpc cidr not a /16",
        "prod",
        {"network.vpcCidr": "10.10.0.0/20"},
        [f"{P}:network.vpcCidr", "10.10.0.0/20", "/16"],
    ),
    (
        "vpc cidr not private",
        "sandbox",
        {"network.vpcCidr": "100.64.0.0/16"},
        [f"{P}:network.vpcCidr", "100.64.0.0/16", "private"],
    ),
    (
        "vpc cidr overlaps another environment",
        "prod",
        {"network.vpcCidr": "10.20.0.0/16"},
        [f"{P}:network.vpcCidr", "10.20.0.0/16", "stg"],
    ),
    (
        "two AZs in prod",
        "prod",
        {"network.availabilityZones": ["eu-west-1a", "eu-west-1b"]},
        [f"{P}:network.availabilityZones", '["eu-west-1a", "eu-west-1b"]', "exactly 3"],
    ),
    (
        "AZ outside the stack's region",
        "stg",
        {"network.availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-central-1c"]},
        [f"{P}:network.availabilityZones", '"eu-central-1c"', "eu-west-1"],
    ),
    (
        "duplicate AZs",
        "prod",
        {"network.availabilityZones": ["eu-west-1a", "eu-west-1a", "eu-west-1b"]},
        [f"{P}:network.availabilityZones", "distinct"],
    ),
    (
        "single NAT in prod",
        "prod",
        {"network.natGateways": "single"},
        [f"{P}:network.natGateways", '"single"', "perAz"],
    ),
    ("single NAT in stg", "stg", {"network.natGateways": "single"}, [f"{P}:network.natGateways", '"single"']),
    ("unknown NAT mode", "sandbox", {"network.natGateways": "none"}, [f"{P}:network.natGateways", '"none"', "perAz"]),
    (
        "kubernetes version format",
        "prod",
        {"cluster.kubernetesVersion": "v1.34.2"},
        [f"{P}:cluster.kubernetesVersion", '"v1.34.2"', '"1.34"'],
    ),
    (
        "kubernetes version as a YAML float",
        "stg",
        {"cluster.kubernetesVersion": 1.3},
        [f"{P}:cluster.kubernetesVersion", "1.3"],
    ),
    ("log retention not accepted by CloudWatch", "prod", {"logRetentionDays": "45"}, [f"{P}:logRetentionDays", "45"]),
    ("log retention never-expire", "stg", {"logRetentionDays": "0"}, [f"{P}:logRetentionDays", "0", "3653"]),
    ("missing owner tag", "prod", {"tags.owner": _DELETE}, [f"{P}:tags.owner", "missing"]),
    ("empty cost centre tag", "stg", {"tags.costCenter": ""}, [f"{P}:tags.costCenter", '""']),
    (
        "extra tag overriding a reserved one",
        "sandbox",
        {"tags.extra": {"Owner": "someone-else"}},
        [f"{P}:tags.extra.Owner", '"someone-else"'],
    ),
    ("unknown top-level key", "prod", {"natGateway": "perAz"}, [f"{P}:natGateway", '"perAz"', "no such key"]),
    (
        "unknown nested key (typo)",
        "prod",
        {"network.natGateway": "perAz"},
        [f"{P}:network.natGateway", "no such key", "natGateways"],
    ),
    (
        "aws:region would be ignored",
        "prod",
        {"aws:region": "us-east-1"},
        ["aws:region", '"us-east-1"', "default aws provider is disabled"],
    ),
    ("prod without protection", "prod", {"protectStatefulResources": "false"}, [f"{P}:protectStatefulResources"]),
    (
        "unknown interface endpoint",
        "stg",
        {"network.interfaceEndpoints": ["logz"]},
        [f"{P}:network.interfaceEndpoints", '"logz"', "secretsmanager"],
    ),
    (
        "network on shared-services",
        "shared-services",
        {"network": {"vpcCidr": "10.0.0.0/16"}},
        [f"{P}:network", "runs no network"],
    ),
    ("unknown environment", "sandbox", {"environment": "dev"}, [f"{P}:environment", '"dev"', "sandbox"]),
    ("missing network", "stg", {"network": _DELETE}, [f"{P}:network", "missing"]),
    (
        "boolean that is not",
        "sandbox",
        {"network.enableIpv6": "yes"},
        [f"{P}:network.enableIpv6", '"yes"', "true or false"],
    ),
    (
        "unsupported kubernetes version",
        "stg",
        {"cluster.kubernetesVersion": "1.29"},
        [f"{P}:cluster.kubernetesVersion", '"1.29"', "1.34"],
    ),
    (
        "public endpoint open to the world in prod",
        "prod",
        {"cluster.endpointPublicAccess": True, "cluster.publicAccessCidrs": ["0.0.0.0/0"]},
        [f"{P}:cluster.publicAccessCidrs", '"0.0.0.0/0"', "never in prod", f"{P}:cluster.endpointPublicAccess"],
    ),
    (
        "world-open endpoint without the explicit opt-in",
        "sandbox",
        {"cluster.publicAccessCidrs": ["0.0.0.0/0"]},
        [f"{P}:cluster.publicAccessCidrs", '"0.0.0.0/0"', "allowWorldPublicEndpoint"],
    ),
    (
        "public endpoint without CIDRs",
        "stg",
        {"cluster.endpointPublicAccess": True, "cluster.publicAccessCidrs": []},
        [f"{P}:cluster.publicAccessCidrs", "[]", "at least one CIDR"],
    ),
    (
        "prod cluster without deletion protection",
        "prod",
        {"cluster.deletionProtection": False},
        [f"{P}:cluster.deletionProtection", "false"],
    ),
    (
        "admin role of another account",
        "prod",
        {"cluster.adminRoleArns": ["arn:aws:iam::999999999999:role/platform-admin"]},
        [f"{P}:cluster.adminRoleArns", "999999999999", "210987654321"],
    ),
    (
        "x86 instance type on an ARM AMI",
        "stg",
        {"cluster.systemNodeGroup.instanceTypes": ["m6i.large"]},
        [f"{P}:cluster.systemNodeGroup.instanceTypes", '"m6i.large"', "arm64"],
    ),
    (
        "system node group smaller than one node per AZ in prod",
        "prod",
        {"cluster.systemNodeGroup.minSize": 1, "cluster.systemNodeGroup.desiredSize": 1},
        [f"{P}:cluster.systemNodeGroup.minSize", "1", ">= 3"],
    ),
    (
        "unknown AMI type",
        "sandbox",
        {"cluster.systemNodeGroup.amiType": "AL2_x86_64"},
        [f"{P}:cluster.systemNodeGroup.amiType", '"AL2_x86_64"', "AL2023_ARM_64_STANDARD"],
    ),
    (
        "add-on pins missing for the version",
        "prod",
        {"addonVersions": {"1.34": {"vpc-cni": "v1.22.4-eksbuild.3"}}},
        [f"{P}:addonVersions.1.34.coredns", "missing"],
    ),
    (
        "malformed add-on pin",
        "stg",
        {"addonVersions": {"1.34": {**dict.fromkeys(EKS_ADDONS, "v1.0.0-eksbuild.1"), "coredns": "latest"}}},
        [f"{P}:addonVersions.1.34.coredns", '"latest"'],
    ),
    ("unknown upgrade policy", "stg", {"cluster.upgradePolicy": "NEVER"}, [f"{P}:cluster.upgradePolicy", '"NEVER"']),
    (
        "@latest AMI in prod",
        "prod",
        {"karpenter.amiAlias": "al2023@latest"},
        [f"{P}:karpenter.amiAlias", "only in sandbox"],
    ),
    (
        "@latest AMI in stg",
        "stg",
        {"karpenter.amiAlias": "al2023@latest"},
        [f"{P}:karpenter.amiAlias", '"al2023@latest"'],
    ),
    (
        "karpenter version without recorded IAM",
        "stg",
        {"karpenter.version": "1.99.0"},
        [f"{P}:karpenter.version", '"1.99.0"', "components/nodepools/karpenter.py"],
    ),
    (
        "nonexistent instance family",
        "stg",
        {"karpenter.nodePools.amd64.families": ["c5", "c99"]},
        [f"{P}:karpenter.nodePools.amd64.families", '"c99"', "botocore"],
    ),
    (
        "size a family does not offer",
        "prod",
        {"karpenter.nodePools.amd64.sizes": ["medium", "large"]},
        [f"{P}:karpenter.nodePools.amd64.sizes", '"c5.medium"', "c5 has: "],
    ),
    (
        "x86 family in the arm64 pool",
        "stg",
        {"karpenter.nodePools.arm64.families": ["m7g", "m6i"]},
        [f"{P}:karpenter.nodePools.arm64.families", '"m6i"', "arm64"],
    ),
    (
        "prod without an On-Demand floor",
        "prod",
        {"karpenter.nodePools.arm64.onDemandBaseCpu": 0},
        [f"{P}:karpenter.nodePools.arm64.onDemandBaseCpu", "0", "On-Demand floor in prod"],
    ),
    (
        "floor above the pool limit",
        "stg",
        {"karpenter.nodePools.amd64.onDemandBaseCpu": 64},
        [f"{P}:karpenter.nodePools.amd64.onDemandBaseCpu", "64", "below cpuLimit"],
    ),
    (
        "budget schedule without duration",
        "prod",
        {"karpenter.budgets": [{"nodes": "0", "schedule": "0 7 * * mon-fri"}]},
        [f"{P}:karpenter.budgets[0]", "schedule and duration"],
    ),
    (
        "budget with an unknown reason",
        "stg",
        {"karpenter.budgets": [{"nodes": "10%", "reasons": ["Boredom"]}]},
        [f"{P}:karpenter.budgets[0].reasons", "Boredom", "Underutilized"],
    ),
    (
        "budget nodes as a number",
        "stg",
        {"karpenter.budgets": [{"nodes": 10}]},
        [f"{P}:karpenter.budgets[0].nodes", "10", "as a string"],
    ),
    ("bad expireAfter", "stg", {"karpenter.expireAfter": "30d"}, [f"{P}:karpenter.expireAfter", '"30d"']),
    (
        "system namespace as an app namespace",
        "stg",
        {
            "workloads.namespaces.kube-system": {
                "quotaRequests": {"cpu": "1", "memory": "1Gi"},
                "quotaLimits": {"cpu": "2", "memory": "2Gi"},
            }
        },
        [f"{P}:workloads.namespaces.kube-system", "system namespace"],
    ),
    (
        "quota request above its limit",
        "prod",
        {"workloads.namespaces.shop.quotaRequests": {"cpu": "64", "memory": "32Gi"}},
        [f"{P}:workloads.namespaces.shop.quotaRequests.cpu", '"64"', "no more than the matching limit"],
    ),
    (
        "malformed memory quantity",
        "sandbox",
        {"workloads.namespaces.shop.quotaLimits": {"cpu": "8", "memory": "16GB"}},
        [f"{P}:workloads.namespaces.shop.quotaLimits.memory", '"16GB"'],
    ),
    ("missing karpenter section", "stg", {"karpenter": _DELETE}, [f"{P}:karpenter", "missing"]),
    (
        "backup retention below 7 days",
        "prod",
        {"database.backupRetentionDays": 1},
        [f"{P}:database.backupRetentionDays", "1", "7-35"],
    ),
    (
        "backup retention above 35 days",
        "sandbox",
        {"database.backupRetentionDays": 90},
        [f"{P}:database.backupRetentionDays", "90", "7-35"],
    ),
    (
        "maintenance window overlapping the backup window",
        "stg",
        {"database.maintenanceWindow": "sun:02:30-sun:03:30"},
        [f"{P}:database.maintenanceWindow", '"sun:02:30-sun:03:30"', "does not overlap backupWindow"],
    ),
    ("single-AZ database in prod", "prod", {"database.multiAz": False}, [f"{P}:database.multiAz", "false"]),
    ("single-AZ database in stg", "stg", {"database.multiAz": False}, [f"{P}:database.multiAz", "needs a standby"]),
    (
        "instance class without Performance Insights",
        "sandbox",
        {"database.instanceClass": "db.t4g.micro"},
        [f"{P}:database.instanceClass", '"db.t4g.micro"', "medium or larger"],
    ),
    (
        "malformed backup window",
        "stg",
        {"database.backupWindow": "2am-3am"},
        [f"{P}:database.backupWindow", '"2am-3am"', "hh:mm-hh:mm"],
    ),
    (
        "backup window shorter than 30 minutes",
        "stg",
        {"database.backupWindow": "02:00-02:15"},
        [f"{P}:database.backupWindow", "at least 30 minutes"],
    ),
    (
        "unprotected prod database",
        "prod",
        {"database.deletionProtection": False},
        [f"{P}:database.deletionProtection", "false"],
    ),
    (
        "app namespace that is not an application namespace",
        "stg",
        {"database.app.namespace": "payments"},
        [f"{P}:database.app.namespace", '"payments"', "shop"],
    ),
    (
        "unsupported engine major",
        "stg",
        {"database.engineVersion": "12"},
        [f"{P}:database.engineVersion", '"12"', "17"],
    ),
    (
        "storage ceiling not above the allocation",
        "prod",
        {"database.maxAllocatedStorageGiB": 100},
        [f"{P}:database.maxAllocatedStorageGiB", "100", "autoscaling"],
    ),
    (
        "SSO role of another permission set",
        "prod",
        {
            "identity.ssoRoleArns.Developer": "arn:aws:iam::210987654321:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
            "AWSReservedSSO_ReadOnly_0123456789abcdef"
        },
        [f"{P}:identity.ssoRoleArns.Developer", "AWSReservedSSO_Developer_"],
    ),
    (
        "SSO role of another account",
        "stg",
        {
            "identity.ssoRoleArns.PlatformAdmin": "arn:aws:iam::999999999999:role/aws-reserved/sso.amazonaws.com/"
            "eu-west-1/AWSReservedSSO_PlatformAdmin_0123456789abcdef"
        },
        [f"{P}:identity.ssoRoleArns.PlatformAdmin", "321098765432"],
    ),
    (
        "developers editing prod",
        "prod",
        {"identity.developerAccess": "edit"},
        [f"{P}:identity.developerAccess", "view"],
    ),
    (
        "CI deployer listed as a cluster admin",
        "stg",
        {"cluster.adminRoleArns": ["arn:aws:iam::321098765432:role/pulumi-deployer"]},
        [f"{P}:cluster.adminRoleArns", "pulumi-deployer", "own access entry"],
    ),
    (
        "image publisher trusted by a whole organisation",
        "shared-services",
        {"ci.imagePublishers": {"shop": ["repo:acme/*:ref:refs/heads/main"]}},
        [f"{P}:ci.imagePublishers.shop[0]", '"repo:acme/*:ref:refs/heads/main"', "one repository"],
    ),
    (
        "image publisher subject of any kind",
        "shared-services",
        {"ci.imagePublishers": {"shop": ["repo:acme/shop:*"]}},
        [f"{P}:ci.imagePublishers.shop[0]", '"repo:acme/shop:*"'],
    ),
    (
        "the same account for two environments",
        "shared-services",
        {"environments.stg.accountId": "210987654321"},
        [f"{P}:environments.stg.accountId", '"210987654321"', "an account of its own"],
    ),
    (
        "member account equal to the management account",
        "shared-services",
        {"environments.prod.accountId": "109876543210"},
        [f"{P}:accountId", '"109876543210"', "management account"],
    ),
    (
        "break-glass assigned nowhere",
        "shared-services",
        {"identityCenter.assignments.BreakGlass": []},
        [f"{P}:identityCenter.assignments.BreakGlass", "every account"],
    ),
    (
        "assignment to an unknown account",
        "shared-services",
        {"identityCenter.assignments.Developer": ["dev"]},
        [f"{P}:identityCenter.assignments.Developer", '"dev"'],
    ),
    ("bad organization root", "shared-services", {"organization.rootId": "root"}, [f"{P}:organization.rootId"]),
    ("network in shared-services", "shared-services", {"network": {}}, [f"{P}:network", "runs no network"]),
    ("organization in an environment", "prod", {"organization": {}}, [f"{P}:organization", "runs no organization"]),
    (
        "reserved master user name",
        "stg",
        {"database.masterUsername": "postgres"},
        [f"{P}:database.masterUsername", '"postgres"', "reserved"],
    ),
    (
        "chart version not pinned",
        "prod",
        {"edge.lbControllerChartVersion": "latest"},
        [f"{P}:edge.lbControllerChartVersion", '"latest"', "1.2.3"],
    ),
    ("domain with a scheme", "stg", {"edge.domain": "https://shop.example.com"}, [f"{P}:edge.domain", "DNS name"]),
    (
        "hosted zone id malformed",
        "prod",
        {"edge.hostedZoneId": "example.com"},
        [f"{P}:edge.hostedZoneId", '"example.com"'],
    ),
    (
        "ssl policy allowing TLS 1.0",
        "prod",
        {"edge.sslPolicy": "ELBSecurityPolicy-2016-08"},
        [f"{P}:edge.sslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06"],
    ),
    (
        "waf rate limit below the minimum",
        "stg",
        {"edge.wafRateLimit": 10},
        [f"{P}:edge.wafRateLimit", "10", "100-2000000000"],
    ),
    (
        "nlb open to the world",
        "prod",
        {"edge.nlb.allowedCidrs": ["0.0.0.0/0"]},
        [f"{P}:edge.nlb.allowedCidrs", '"0.0.0.0/0"', "specific client ranges"],
    ),
    (
        "nlb scheme unknown",
        "prod",
        {"edge.nlb.scheme": "public"},
        [f"{P}:edge.nlb.scheme", '"public"', "internet-facing"],
    ),
    (
        "cloudfront without a zone",
        "sandbox",
        {"edge.cloudFront": {"domain": "www.sandbox.example.com"}},
        [f"{P}:edge.cloudFront", "hostedZoneId"],
    ),
    ("typo in the edge section", "stg", {"edge.wafRatelimit": 100}, [f"{P}:edge.wafRatelimit", "no such key"]),
    (
        "log archive too short",
        "prod",
        {"observability.logArchiveDays": 7},
        [f"{P}:observability.logArchiveDays", "7", "at least 30"],
    ),
    (
        "alert e-mail malformed",
        "stg",
        {"observability.alertEmails": ["oncall"]},
        [f"{P}:observability.alertEmails", '"oncall"', "e-mail"],
    ),
    (
        "argo cd not highly available in prod",
        "prod",
        {"delivery.highAvailability": False},
        [f"{P}:delivery.highAvailability", "false", "prod runs Argo CD highly available"],
    ),
    (
        "canary error rate not a ratio",
        "stg",
        {"delivery.canaryMaxErrorRate": 5},
        [f"{P}:delivery.canaryMaxErrorRate", "5", "between 0 and 1"],
    ),
    (
        "gitops repository not a URL",
        "prod",
        {"delivery.gitops.repoUrl": "platform-gitops"},
        [f"{P}:delivery.gitops.repoUrl", '"platform-gitops"'],
    ),
    (
        "gitops path escaping the repository",
        "prod",
        {"delivery.gitops.path": "../other"},
        [f"{P}:delivery.gitops.path", '"../other"', "relative"],
    ),
    ("edge section missing", "prod", {"edge": _DELETE}, [f"{P}:edge", "missing"]),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_config_is_rejected_with_key_and_value(stack: str, changes: dict[str, Any], expected: list[str]) -> None:
    message = problems_of(stack, changes)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert f"stack {stack!r}" in message


def test_every_problem_is_reported_at_once() -> None:
    message = problems_of(
        "prod",
        {"accountId": "42", "network.natGateways": "single", "logRetentionDays": "45", "bogus": "1"},
    )
    assert "(4 problems)" in message
    for key in ("accountId", "network.natGateways", "logRetentionDays", "bogus"):
        assert f"{P}:{key}" in message


def test_error_lists_each_problem_on_its_own_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_stack("prod", {"logRetentionDays": "45", "accountId": "1"})
    assert len(err.value.problems) == 2
    assert {p.path for p in err.value.problems} == {f"{P}:logRetentionDays", f"{P}:accountId"}
    assert str(err.value).count("\n  - ") == 2


def test_latest_ami_is_allowed_in_sandbox() -> None:
    cfg = parse_stack("sandbox")
    assert cfg.karpenter is not None
    assert cfg.karpenter.ami_alias == "al2023@latest"


def test_sandbox_may_use_a_single_nat_and_two_azs() -> None:
    cfg = parse_stack("sandbox", {"network.availabilityZones": ["eu-west-1a", "eu-west-1b"]})
    assert cfg.network is not None
    assert cfg.network.nat_gateways == "single"
    assert cfg.network.availability_zones == ("eu-west-1a", "eu-west-1b")


def test_address_plan_entry_must_match_the_stack() -> None:
    message = problems_of("sandbox", {"network.vpcCidr": "10.40.0.0/16"})
    assert f"{P}:network.vpcCidr" in message
    assert "10.30.0.0/16" in message


def test_overlapping_address_plan_is_rejected() -> None:
    plan = {"shared-services": "10.0.0.0/16", "prod": "10.10.0.0/16", "stg": "10.10.0.0/16", "sandbox": "10.30.0.0/16"}
    message = problems_of("sandbox", {"addressPlan": plan})
    assert f"{P}:addressPlan.stg" in message
    assert "overlap" in message


def test_unnamespaced_key_is_rejected() -> None:
    raw = raw_config("prod")
    raw["region"] = "eu-west-1"
    with pytest.raises(ConfigError, match="namespaced key"):
        parse(raw, stack="prod")


def test_bad_stack_name_is_rejected() -> None:
    with pytest.raises(ConfigError, match="<stack name>"):
        parse(raw_config("prod"), stack="Prod_1")


def test_pulumi_engine_keys_are_ignored() -> None:
    cfg = parse(raw_config("prod", {"pulumi:tags": '{"a": "b"}'}), stack="prod")
    assert cfg.environment == "prod"


def test_kubernetes_version_defaults_to_the_tracked_version() -> None:
    cfg = parse_stack("sandbox", {"cluster.kubernetesVersion": _DELETE})
    assert cfg.cluster is not None
    assert cfg.cluster.kubernetes_version == "1.34"
