"""Platform guardrails judged on real SDK resources: network, database, kubernetes, registry, logs and tagging
(policy/guardrails/{network,database,kubernetes,registry,logs,tagging}.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s
import pytest

from tests.policy_support import cant_run, judge, reported, unknown

KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
TAGS = {
    "Project": "platform",
    "Environment": "test",
    "Owner": "team-platform",
    "CostCenter": "cc-1234",
    "ManagedBy": "pulumi",
}

Body = Callable[[pulumi.ResourceOptions], Any]

# ---------------------------------------------------------------------------------------------------------------------
# Network: security-group ingress from the internet, inline and standalone rules

INGRESS = "security-group-no-public-ingress"
SHAPES = ["SecurityGroup.ingress", "SecurityGroupRule", "vpc.SecurityGroupIngressRule"]


def ingress(shape: str, protocol: str, port: int | None, cidr: str) -> Body:
    """One ingress rule in the given shape; `port` None for all ports (protocol -1)."""
    v6 = ":" in cidr
    low, high = (0, 0) if port is None else (port, port)

    def body(opts: pulumi.ResourceOptions) -> None:
        if shape == "SecurityGroup.ingress":
            rule: aws.ec2.SecurityGroupIngressArgsDict = {"protocol": protocol, "from_port": low, "to_port": high}
            rule["ipv6_cidr_blocks" if v6 else "cidr_blocks"] = [cidr]
            aws.ec2.SecurityGroup("web", vpc_id="vpc-0123", ingress=[rule], opts=opts)
        elif shape == "SecurityGroupRule":
            aws.ec2.SecurityGroupRule(
                "web",
                type="ingress",
                security_group_id="sg-0123",
                protocol=protocol,
                from_port=low,
                to_port=high,
                cidr_blocks=None if v6 else [cidr],
                ipv6_cidr_blocks=[cidr] if v6 else None,
                opts=opts,
            )
        else:
            aws.vpc.SecurityGroupIngressRule(
                "web",
                security_group_id="sg-0123",
                ip_protocol=protocol,
                from_port=port,
                to_port=port,
                cidr_ipv4=None if v6 else cidr,
                cidr_ipv6=cidr if v6 else None,
                opts=opts,
            )

    return body


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("protocol", "port", "cidr"),
    [
        pytest.param("tcp", 443, "0.0.0.0/0", id="443-from-anywhere"),
        pytest.param("tcp", 443, "::/0", id="443-from-anywhere-v6"),
        pytest.param("tcp", 22, "10.0.0.0/8", id="22-from-private-range"),
        pytest.param("-1", None, "10.0.0.0/8", id="all-from-private-range"),
    ],
)
def test_allowed_ingress_passes(shape: str, protocol: str, port: int | None, cidr: str) -> None:
    assert judge(ingress(shape, protocol, port, cidr)).of(INGRESS) == []


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("protocol", "port", "cidr", "offending"),
    [
        pytest.param("tcp", 22, "0.0.0.0/0", '"fromPort": 22, "protocol": "tcp", "sources": ["0.0.0.0/0"]', id="22-v4"),
        pytest.param("tcp", 22, "::/0", '"sources": ["::/0"]', id="22-v6"),
        pytest.param("-1", None, "::/0", '"protocol": "-1", "sources": ["::/0"]', id="all-traffic-v6"),
        pytest.param("udp", 443, "0.0.0.0/0", '"protocol": "udp"', id="udp-443"),
    ],
)
def test_ingress_from_the_internet_is_rejected(
    shape: str, protocol: str, port: int | None, cidr: str, offending: str
) -> None:
    message = reported(judge(ingress(shape, protocol, port, cidr)), INGRESS)
    assert "'web'" in message
    assert "ingress from the whole internet on a port other than 80/443" in message
    assert offending in message


def test_egress_rules_are_not_ingress() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ec2.SecurityGroupRule(
            "out",
            type="egress",
            security_group_id="sg-0123",
            protocol="-1",
            from_port=0,
            to_port=0,
            cidr_blocks=["0.0.0.0/0"],
            opts=opts,
        )

    assert judge(body).of(INGRESS) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_public_ports_come_from_config(shape: str) -> None:
    config = {"all": "mandatory", INGRESS: {"publicPorts": [443, 8443]}}
    assert judge(ingress(shape, "tcp", 8443, "0.0.0.0/0"), config=config).of(INGRESS) == []
    message = reported(judge(ingress(shape, "tcp", 80, "0.0.0.0/0"), config=config), INGRESS)
    assert '"fromPort": 80' in message


def test_unknown_source_makes_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.vpc.SecurityGroupIngressRule(
            "web",
            security_group_id="sg-0123",
            ip_protocol="tcp",
            from_port=22,
            to_port=22,
            cidr_ipv4=unknown(),
            opts=opts,
        )

    assert ".cidrIpv4 can't be known during preview" in cant_run(judge(body, preview=True), INGRESS)


# ---------------------------------------------------------------------------------------------------------------------
# Database

DATABASE = [
    "rds-not-public",
    "rds-multi-az",
    "rds-backup-retention",
    "rds-deletion-protection",
    "rds-iam-auth",
    "rds-performance-insights",
]


def rds_instance(**overrides: Any) -> Body:
    """A Postgres instance that meets every database guardrail, with `overrides` applied."""
    settings: dict[str, Any] = {
        "instance_class": "db.t4g.micro",
        "engine": "postgres",
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "publicly_accessible": False,
        "multi_az": True,
        "backup_retention_period": 14,
        "deletion_protection": True,
        "iam_database_authentication_enabled": True,
        "performance_insights_enabled": True,
        "performance_insights_kms_key_id": KEY,
        **overrides,
    }
    return lambda opts: aws.rds.Instance("db", opts=opts, **settings)


def rds_cluster(**overrides: Any) -> Body:
    settings: dict[str, Any] = {
        "engine": "aurora-postgresql",
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "backup_retention_period": 14,
        "deletion_protection": True,
        "iam_database_authentication_enabled": True,
        **overrides,
    }
    return lambda opts: aws.rds.Cluster("db", opts=opts, **settings)


@pytest.mark.parametrize("policy", DATABASE)
@pytest.mark.parametrize("body", [rds_instance(), rds_cluster()], ids=["instance", "cluster"])
def test_compliant_database_passes(body: Body, policy: str) -> None:
    assert judge(body).of(policy) == []


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [
        pytest.param(
            "rds-not-public",
            rds_instance(publicly_accessible=True),
            "instance is publicly accessible; got true",
            id="public",
        ),
        pytest.param("rds-multi-az", rds_instance(multi_az=False), "instance is single-AZ; got false", id="single-az"),
        pytest.param(
            "rds-multi-az", rds_instance(multi_az=None), "instance is single-AZ; got null", id="multi-az-unset"
        ),
        pytest.param(
            "rds-backup-retention",
            rds_instance(backup_retention_period=1),
            "backup retention is outside 7-35 days; got 1",
            id="backup-short",
        ),
        pytest.param(
            "rds-backup-retention",
            rds_cluster(backup_retention_period=None),
            "Cluster 'db' (aws:rds/cluster:Cluster): backup retention is outside 7-35 days; got null",
            id="cluster-backup-unset",
        ),
        pytest.param(
            "rds-deletion-protection",
            rds_instance(deletion_protection=False),
            "deletion protection is off; got false",
            id="deletion",
        ),
        pytest.param(
            "rds-deletion-protection",
            rds_cluster(deletion_protection=None),
            "Cluster 'db' (aws:rds/cluster:Cluster): deletion protection is off; got null",
            id="cluster-deletion",
        ),
        pytest.param(
            "rds-iam-auth",
            rds_instance(iam_database_authentication_enabled=False),
            "IAM database authentication is off; got false",
            id="iam",
        ),
        pytest.param(
            "rds-iam-auth",
            rds_cluster(iam_database_authentication_enabled=None),
            "Cluster 'db' (aws:rds/cluster:Cluster): IAM database authentication is off",
            id="cluster-iam",
        ),
        pytest.param(
            "rds-performance-insights",
            rds_instance(performance_insights_enabled=False, performance_insights_kms_key_id=None),
            "Performance Insights is off",
            id="pi-off",
        ),
        pytest.param(
            "rds-performance-insights",
            rds_instance(performance_insights_kms_key_id=None),
            "Performance Insights data uses the AWS-managed key",
            id="pi-aws-key",
        ),
    ],
)
def test_database_violations_are_rejected(policy: str, body: Body, expected: str) -> None:
    message = reported(judge(body), policy)
    assert "'db'" in message
    assert expected in message


@pytest.mark.parametrize("policy", ["rds-multi-az", "rds-backup-retention", "rds-deletion-protection", "rds-iam-auth"])
def test_read_replicas_are_exempt_from_source_only_settings(policy: str) -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.rds.Instance("replica", instance_class="db.t4g.micro", replicate_source_db="db", opts=opts)

    assert judge(body).of(policy) == []


@pytest.mark.parametrize(
    ("bounds", "days", "passes"),
    [
        pytest.param({"minDays": 14}, 7, False, id="7-below-min-14"),
        pytest.param({"minDays": 14}, 14, True, id="14-at-min-14"),
        pytest.param({"maxDays": 10}, 14, False, id="14-above-max-10"),
        pytest.param({"minDays": 1, "maxDays": 10}, 1, True, id="1-within-1-10"),
    ],
)
def test_backup_retention_bounds_come_from_config(bounds: dict[str, int], days: int, passes: bool) -> None:
    config = {"all": "mandatory", "rds-backup-retention": bounds}
    judged = judge(rds_instance(backup_retention_period=days), config=config)
    if passes:
        assert judged.of("rds-backup-retention") == []
    else:
        assert f"got {days}" in reported(judged, "rds-backup-retention")


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"all": "mandatory", "rds-multi-az": "advisory"}, id="level-string"),
        pytest.param({"all": "mandatory", "rds-multi-az": {"enforcementLevel": "advisory"}}, id="level-in-entry"),
    ],
)
def test_config_can_make_a_policy_advisory(config: dict[str, Any]) -> None:
    judged = judge(rds_instance(multi_az=False, deletion_protection=False), config=config)
    assert "single-AZ" in reported(judged, "rds-multi-az", level="advisory")
    assert "deletion protection is off" in reported(judged, "rds-deletion-protection", level="mandatory")


def test_unknown_multi_az_makes_the_check_advisory_during_preview() -> None:
    judged = judge(lambda opts: rds_instance(multi_az=unknown())(opts), preview=True)
    assert ".multiAz can't be known during preview" in cant_run(judged, "rds-multi-az")


# ---------------------------------------------------------------------------------------------------------------------
# Kubernetes: EKS endpoint, control-plane logs, IMDSv2 (launch templates, instances, Karpenter EC2NodeClass)

ENDPOINT = "eks-endpoint-not-public"
LOGGING = "eks-control-plane-logging"
IMDS = "imdsv2-required"
ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
OFFICE = ["203.0.113.0/24"]


def aws_eks(vpc_config: aws.eks.ClusterVpcConfigArgsDict, **extra: Any) -> Body:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.eks.Cluster("eks", role_arn="arn:aws:iam::123456789012:role/eks", vpc_config=vpc_config, opts=opts, **extra)

    return body


SUBNETS = ["subnet-1", "subnet-2"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            aws_eks({"subnet_ids": SUBNETS}),
            "Cluster 'eks' (aws:eks/cluster:Cluster): the public API endpoint is open to the whole internet "
            "(no CIDRs means 0.0.0.0/0); got null",
            id="aws-default",
        ),
        pytest.param(
            aws_eks({"subnet_ids": SUBNETS, "endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]}),
            'got ["0.0.0.0/0"]',
            id="aws-world-cidr",
        ),
        pytest.param(
            lambda opts: eks.Cluster("platform", opts=opts),
            "Cluster 'platform' (eks:index:Cluster): the public API endpoint is open to the whole internet",
            id="pulumi-eks-default",
        ),
        pytest.param(
            lambda opts: eks.Cluster("platform", public_access_cidrs=["10.0.0.0/8", "::/0"], opts=opts),
            "Cluster 'platform' (eks:index:Cluster): the public API endpoint is open to the whole internet "
            '(no CIDRs means 0.0.0.0/0); got ["10.0.0.0/8", "::/0"]',
            id="pulumi-eks-world-v6",
        ),
    ],
)
def test_world_open_eks_endpoint_is_rejected(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), ENDPOINT)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(aws_eks({"subnet_ids": SUBNETS, "endpoint_public_access": False}), id="aws-private"),
        pytest.param(aws_eks({"subnet_ids": SUBNETS, "public_access_cidrs": OFFICE}), id="aws-office-cidrs"),
        pytest.param(lambda opts: eks.Cluster("platform", endpoint_public_access=False, opts=opts), id="eks-private"),
        pytest.param(lambda opts: eks.Cluster("platform", public_access_cidrs=OFFICE, opts=opts), id="eks-office"),
    ],
)
def test_private_or_cidr_restricted_eks_endpoint_passes(body: Body) -> None:
    assert judge(body).of(ENDPOINT) == []


def test_private_only_config_rejects_a_restricted_public_endpoint() -> None:
    config = {"all": "mandatory", ENDPOINT: {"allowPublicEndpoint": False}}
    for body in (
        aws_eks({"subnet_ids": SUBNETS, "public_access_cidrs": OFFICE}),
        lambda opts: eks.Cluster("platform", public_access_cidrs=OFFICE, opts=opts),
    ):
        message = reported(judge(body, config=config), ENDPOINT)
        assert 'the API endpoint is public; got ["203.0.113.0/24"]' in message
    private = aws_eks({"subnet_ids": SUBNETS, "endpoint_public_access": False})
    assert judge(private, config=config).of(ENDPOINT) == []


@pytest.mark.parametrize(
    ("body", "name"),
    [
        pytest.param(aws_eks({"subnet_ids": SUBNETS}, enabled_cluster_log_types=["api", "audit"]), "eks", id="aws"),
        pytest.param(
            lambda opts: eks.Cluster("platform", enabled_cluster_log_types=["api", "audit"], opts=opts),
            "platform",
            id="pulumi-eks",
        ),
    ],
)
def test_missing_control_plane_log_types_are_rejected(body: Body, name: str) -> None:
    message = reported(judge(body), LOGGING)
    assert f"'{name}'" in message
    assert (
        'control-plane log types are off: authenticator, controllerManager, scheduler; got ["api", "audit"]' in message
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(aws_eks({"subnet_ids": SUBNETS}, enabled_cluster_log_types=ALL_LOG_TYPES), id="aws"),
        pytest.param(
            lambda opts: eks.Cluster("platform", enabled_cluster_log_types=ALL_LOG_TYPES, opts=opts), id="pulumi-eks"
        ),
    ],
)
def test_all_control_plane_log_types_pass(body: Body) -> None:
    assert judge(body).of(LOGGING) == []


def test_required_log_types_come_from_config() -> None:
    config = {"all": "mandatory", LOGGING: {"requiredLogTypes": ["audit"]}}
    assert judge(aws_eks({"subnet_ids": SUBNETS}, enabled_cluster_log_types=["audit"]), config=config).of(LOGGING) == []
    assert "log types are off: audit" in reported(judge(aws_eks({"subnet_ids": SUBNETS}), config=config), LOGGING)


def metadata_holder(kind: str, tokens: str | None, hops: int | None) -> Body:
    """A launch template, an instance or a Karpenter EC2NodeClass named "nodes" with these metadata options."""

    def body(opts: pulumi.ResourceOptions) -> None:
        if kind == "LaunchTemplate":
            aws.ec2.LaunchTemplate(
                "nodes", metadata_options={"http_tokens": tokens, "http_put_response_hop_limit": hops}, opts=opts
            )
        elif kind == "Instance":
            aws.ec2.Instance(
                "nodes",
                ami="ami-0123456789abcdef0",
                instance_type="t3.micro",
                metadata_options={"http_tokens": tokens, "http_put_response_hop_limit": hops},
                opts=opts,
            )
        else:
            kubernetes = k8s.Provider("k8s", kubeconfig="{}")
            options = {k: v for k, v in (("httpTokens", tokens), ("httpPutResponseHopLimit", hops)) if v is not None}
            k8s.apiextensions.CustomResource(
                "nodes",
                api_version="karpenter.k8s.aws/v1",
                kind="EC2NodeClass",
                spec={
                    "amiSelectorTerms": [{"alias": "al2023@latest"}],
                    "role": "karpenter-node",
                    "metadataOptions": options,
                },
                opts=pulumi.ResourceOptions(provider=kubernetes),
            )

    return body


KINDS = ["LaunchTemplate", "Instance", "EC2NodeClass"]


@pytest.mark.parametrize("kind", KINDS)
def test_imdsv2_with_hop_limit_one_passes(kind: str) -> None:
    assert judge(metadata_holder(kind, "required", 1)).of(IMDS) == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("tokens", "hops", "expected"),
    [
        pytest.param("optional", 1, 'IMDSv2 is not required (httpTokens); got "optional"', id="tokens-optional"),
        pytest.param(None, 1, "IMDSv2 is not required (httpTokens); got null", id="tokens-unset"),
        pytest.param("required", 2, "IMDS hop limit is not pinned at or below 1; got 2", id="hop-limit-2"),
        pytest.param("required", None, "IMDS hop limit is not pinned at or below 1; got null", id="hop-limit-unset"),
    ],
)
def test_imdsv1_or_loose_hop_limit_is_rejected(kind: str, tokens: str | None, hops: int | None, expected: str) -> None:
    message = reported(judge(metadata_holder(kind, tokens, hops)), IMDS)
    assert f"{kind} 'nodes' (" in message
    assert expected in message


@pytest.mark.parametrize("kind", KINDS)
def test_max_hop_limit_comes_from_config(kind: str) -> None:
    config = {"all": "mandatory", IMDS: {"maxHopLimit": 2}}
    assert judge(metadata_holder(kind, "required", 2), config=config).of(IMDS) == []
    message = reported(judge(metadata_holder(kind, "required", 3), config=config), IMDS)
    assert "IMDS hop limit is not pinned at or below" in message
    assert "got 3" in message


def test_unknown_http_tokens_make_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ec2.LaunchTemplate(
            "nodes", metadata_options={"http_tokens": unknown(), "http_put_response_hop_limit": 1}, opts=opts
        )

    assert ".metadataOptions.httpTokens can't be known during preview" in cant_run(judge(body, preview=True), IMDS)


# ---------------------------------------------------------------------------------------------------------------------
# Registry (stack policy: sees outputs)

ECR = "ecr-immutable-and-scanned"


def test_mutable_unscanned_repository_is_rejected() -> None:
    judged = judge(lambda opts: aws.ecr.Repository("app", opts=opts))
    message = reported(judged, ECR)
    assert "Repository 'app' (aws:ecr/repository:Repository): image tags are mutable; got \"MUTABLE\"" in message
    assert "Repository 'app' (aws:ecr/repository:Repository): images are not scanned on push; got null" in message
    assert len(judged.of(ECR)) == 2


def test_scan_on_push_off_is_rejected() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ecr.Repository(
            "app", image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": False}, opts=opts
        )

    assert 'images are not scanned on push; got {"scanOnPush": false}' in reported(judge(body), ECR)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda opts: aws.ecr.Repository(
                "app", image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True}, opts=opts
            ),
            id="immutable-scan-on-push",
        ),
        pytest.param(
            lambda opts: aws.ecr.Repository(
                "app",
                image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
                image_tag_mutability_exclusion_filters=[{"filter": "latest", "filter_type": "WILDCARD"}],
                image_scanning_configuration={"scan_on_push": True},
                opts=opts,
            ),
            id="immutable-with-exclusion",
        ),
        pytest.param(
            lambda opts: [
                aws.ecr.Repository("app", image_tag_mutability="IMMUTABLE", opts=opts),
                aws.ecr.RegistryScanningConfiguration("scanning", scan_type="ENHANCED", opts=opts),
            ],
            id="registry-enhanced-scanning",
        ),
    ],
)
def test_immutable_scanned_repository_passes(body: Body) -> None:
    assert judge(body).of(ECR) == []


def test_basic_registry_scanning_does_not_replace_scan_on_push() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ecr.Repository("app", image_tag_mutability="IMMUTABLE", opts=opts)
        aws.ecr.RegistryScanningConfiguration("scanning", scan_type="BASIC", opts=opts)

    assert "'app'" in reported(judge(body), ECR)


def test_unknown_tag_mutability_makes_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ecr.Repository(
            "app", image_tag_mutability=unknown(), image_scanning_configuration={"scan_on_push": True}, opts=opts
        )

    assert ".imageTagMutability can't be known during preview" in cant_run(judge(body, preview=True), ECR)


# ---------------------------------------------------------------------------------------------------------------------
# Logs

RETENTION = "log-group-retention"


@pytest.mark.parametrize(
    ("days", "got"),
    [pytest.param(None, "got null", id="unset"), pytest.param(0, "got 0", id="zero-never-expires")],
)
def test_log_group_without_retention_is_rejected(days: int | None, got: str) -> None:
    message = reported(judge(lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=days, opts=opts)), RETENTION)
    assert "LogGroup 'app' (aws:cloudwatch/logGroup:LogGroup): log group never expires" in message
    assert got in message


def test_log_group_with_retention_passes() -> None:
    assert judge(lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=30, opts=opts)).of(RETENTION) == []


def test_minimum_retention_comes_from_config() -> None:
    config = {"all": "mandatory", RETENTION: {"minDays": 90}}
    judged = judge(lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=30, opts=opts), config=config)
    message = reported(judged, RETENTION)
    assert "retention is shorter than" in message
    assert "got 30" in message
    passing = judge(lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=90, opts=opts), config=config)
    assert passing.of(RETENTION) == []


@pytest.mark.parametrize(
    ("policy", "config", "body", "expected"),
    [
        pytest.param(
            IMDS,
            {"maxHopLimit": 2},
            metadata_holder("LaunchTemplate", "required", 3),
            "httpPutResponseHopLimit=2 ",
            id="imds",
        ),
        pytest.param(
            RETENTION,
            {"minDays": 90},
            lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=30, opts=opts),
            "retention is shorter than 90 days",
            id="logs",
        ),
        pytest.param(
            INGRESS,
            {"publicPorts": [443, 8443]},
            ingress("vpc.SecurityGroupIngressRule", "tcp", 22, "0.0.0.0/0"),
            "on a port other than 443/8443;",
            id="network",
        ),
    ],
)
def test_configured_numbers_read_as_integers_in_messages(
    policy: str, config: dict[str, Any], body: Body, expected: str
) -> None:
    assert expected in reported(judge(body, config={"all": "mandatory", policy: config}), policy)


def test_unknown_retention_makes_the_check_advisory_during_preview() -> None:
    judged = judge(lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=unknown(), opts=opts), preview=True)
    assert ".retentionInDays can't be known during preview" in cant_run(judged, RETENTION)


# ---------------------------------------------------------------------------------------------------------------------
# Tagging

REQUIRED_TAGS = "required-tags"


@pytest.mark.parametrize(
    ("tags", "missing"),
    [
        pytest.param(None, "Project, Environment, Owner, CostCenter, ManagedBy; got []", id="untagged"),
        pytest.param({**TAGS, "Owner": ""}, "required tags are missing: Owner; got [", id="empty-value"),
        pytest.param(
            {"Project": "platform"}, 'Environment, Owner, CostCenter, ManagedBy; got ["Project"]', id="partial"
        ),
    ],
)
def test_missing_required_tags_are_rejected(tags: dict[str, str] | None, missing: str) -> None:
    message = reported(
        judge(lambda opts: aws.ec2.Vpc("main", cidr_block="10.0.0.0/16", tags=tags, opts=opts)), REQUIRED_TAGS
    )
    assert "Vpc 'main' (aws:ec2/vpc:Vpc): required tags are missing: " in message
    assert missing in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda opts: aws.ec2.Vpc("main", cidr_block="10.0.0.0/16", tags=TAGS, opts=opts), id="vpc"),
        pytest.param(lambda opts: eks.Cluster("platform", tags=TAGS, opts=opts), id="pulumi-eks"),
        pytest.param(
            lambda opts: aws.s3.BucketPublicAccessBlock("pab", bucket="data", block_public_acls=True, opts=opts),
            id="not-taggable",
        ),
    ],
)
def test_tagged_or_untaggable_resources_pass(body: Body) -> None:
    assert judge(body).of(REQUIRED_TAGS) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            lambda opts: eks.Cluster("platform", tags={"Project": "platform"}, opts=opts),
            "Cluster 'platform' (eks:index:Cluster): required tags are missing: Environment",
            id="pulumi-eks",
        ),
    ],
)
def test_other_tag_shapes_are_checked(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), REQUIRED_TAGS)


def autoscaling_group(tags: dict[str, str]) -> Body:
    """An autoscaling group: its tags are a list of {key, value, propagateAtLaunch}, not a map."""

    def body(opts: pulumi.ResourceOptions) -> None:
        aws.autoscaling.Group(
            "workers",
            min_size=1,
            max_size=1,
            availability_zones=["eu-west-1a"],
            tags=[{"key": k, "value": v, "propagate_at_launch": True} for k, v in tags.items()],
            opts=opts,
        )

    return body


def test_untagged_autoscaling_group_is_rejected() -> None:
    message = reported(judge(autoscaling_group({})), REQUIRED_TAGS)
    assert "Group 'workers' (aws:autoscaling/group:Group): required tags are missing: Project, Environment" in message


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param(TAGS, None, id="fully-tagged-passes"),
        pytest.param(
            {"Project": "platform"}, 'missing: Environment, Owner, CostCenter, ManagedBy; got ["Project"]', id="partial"
        ),
    ],
)
def test_autoscaling_group_tag_list_is_read(tags: dict[str, str], expected: str | None) -> None:
    judged = judge(autoscaling_group(tags))
    if expected is None:
        assert judged.of(REQUIRED_TAGS) == []
    else:
        assert expected in reported(judged, REQUIRED_TAGS)


def test_required_tags_come_from_config() -> None:
    config = {"all": "mandatory", REQUIRED_TAGS: {"requiredTags": ["Owner", "DataClass"]}}
    tagged = judge(lambda opts: aws.ec2.Vpc("main", cidr_block="10.0.0.0/16", tags=TAGS, opts=opts), config=config)
    assert 'required tags are missing: DataClass; got ["CostCenter"' in reported(tagged, REQUIRED_TAGS)
    owner_only = {"Owner": "team-platform", "DataClass": "internal"}
    judged = judge(
        lambda opts: aws.ec2.Vpc("main", cidr_block="10.0.0.0/16", tags=owner_only, opts=opts), config=config
    )
    assert judged.of(REQUIRED_TAGS) == []


def test_unknown_tag_value_makes_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ec2.Vpc("main", cidr_block="10.0.0.0/16", tags={**TAGS, "Owner": unknown()}, opts=opts)

    assert "can't be known during preview" in cant_run(judge(body, preview=True), REQUIRED_TAGS)
