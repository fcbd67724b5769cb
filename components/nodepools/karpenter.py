"""What a Karpenter version needs from AWS, kept beside its version so the controller's IAM cannot drift from it.

For every supported Karpenter minor, this module records the controller IAM policies of Karpenter's official
getting-started CloudFormation template for that version (`website/content/en/v1.14/getting-started/
getting-started-with-karpenter/cloudformation.yaml` for 1.14: six policies, scoped by cluster tags) and the list of
actions they grant. Config validation refuses a Karpenter version that has no entry here, so upgrading the chart
without reviewing its IAM is a config error. The interruption-handling event patterns come from the same template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.iam import Statement, document, statement

CONTROLLER_CHART = "oci://public.ecr.aws/karpenter/karpenter"
CRD_CHART = "oci://public.ecr.aws/karpenter/karpenter-crd"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"

# The reference list: every action the official template grants, per Karpenter minor. Tests check the generated
# policies grant exactly these and that each is a real IAM action.
CONTROLLER_ACTIONS: dict[str, tuple[str, ...]] = {
    "1.14": (
        "arc-zonal-shift:GetManagedResource",
        "ec2:CreateFleet",
        "ec2:CreateLaunchTemplate",
        "ec2:CreateTags",
        "ec2:DeleteLaunchTemplate",
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
        "ec2:RunInstances",
        "ec2:TerminateInstances",
        "eks:DescribeCluster",
        "iam:AddRoleToInstanceProfile",
        "iam:CreateInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:GetInstanceProfile",
        "iam:ListInstanceProfiles",
        "iam:PassRole",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:TagInstanceProfile",
        "pricing:GetProducts",
        "sqs:DeleteMessage",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "ssm:GetParameter",
    ),
}


@dataclass(frozen=True, kw_only=True)
class Scope:
    """The values the template substitutes (`${AWS::Partition}`, `${ClusterName}`, ...)."""

    partition: str
    region: str
    account_id: str
    cluster_name: str
    node_role_arn: str
    queue_arn: str
    dns_suffix: str = "amazonaws.com"


def supported_versions() -> tuple[str, ...]:
    return tuple(CONTROLLER_ACTIONS)


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def controller_policies(version: str, scope: Scope) -> dict[str, str]:
    """The controller's IAM policies for a Karpenter version, as {policy name: JSON document}."""
    builder = _BUILDERS.get(minor(version))
    if builder is None:
        raise ValueError(f"no controller IAM recorded for Karpenter {version}; known: {', '.join(_BUILDERS)}")
    return {name: document(statements) for name, statements in builder(scope).items()}


def granted_actions(policies: dict[str, str]) -> set[str]:
    import json

    actions: set[str] = set()
    for doc in policies.values():
        for st in json.loads(doc)["Statement"]:
            value = st["Action"]
            actions.update([value] if isinstance(value, str) else value)
    return actions


def _v1_14(s: Scope) -> dict[str, list[Statement]]:
    ec2 = f"arn:{s.partition}:ec2:{s.region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{s.cluster_name}": "owned"}
    request_owned = {
        f"aws:RequestTag/kubernetes.io/cluster/{s.cluster_name}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": s.cluster_name,
    }
    launched = [
        f"{ec2}:*:fleet/*",
        f"{ec2}:*:instance/*",
        f"{ec2}:*:volume/*",
        f"{ec2}:*:network-interface/*",
        f"{ec2}:*:launch-template/*",
        f"{ec2}:*:spot-instances-request/*",
    ]
    profiles = f"arn:{s.partition}:iam::{s.account_id}:instance-profile/*"
    cluster_arn = f"arn:{s.partition}:eks:{s.region}:{s.account_id}:cluster/{s.cluster_name}"
    return {
        "NodeLifecycle": [
            statement(
                "AllowScopedEC2InstanceAccessActions",
                ["ec2:RunInstances", "ec2:CreateFleet"],
                [
                    f"arn:{s.partition}:ec2:{s.region}::image/*",
                    f"arn:{s.partition}:ec2:{s.region}::snapshot/*",
                    f"{ec2}:*:security-group/*",
                    f"{ec2}:*:subnet/*",
                    f"{ec2}:*:capacity-reservation/*",
                    f"{ec2}:*:placement-group/*",
                ],
            ),
            statement(
                "AllowScopedEC2LaunchTemplateAccessActions",
                ["ec2:RunInstances", "ec2:CreateFleet"],
                f"{ec2}:*:launch-template/*",
                condition={"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
            ),
            statement(
                "AllowScopedEC2InstanceActionsWithTags",
                ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                launched,
                condition={
                    "StringEquals": request_owned,
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            ),
            statement(
                "AllowScopedResourceCreationTagging",
                "ec2:CreateTags",
                launched,
                condition={
                    "StringEquals": {
                        **request_owned,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            ),
            statement(
                "AllowScopedResourceTagging",
                "ec2:CreateTags",
                f"{ec2}:*:instance/*",
                condition={
                    "StringEquals": owned,
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                    "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": s.cluster_name},
                    "ForAllValues:StringEquals": {
                        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                    },
                },
            ),
            statement(
                "AllowScopedDeletion",
                ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
                condition={"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
            ),
        ],
        "IAMIntegration": [
            statement(
                "AllowPassingInstanceRole",
                "iam:PassRole",
                s.node_role_arn,
                condition={"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
            ),
            statement(
                "AllowScopedInstanceProfileCreationActions",
                "iam:CreateInstanceProfile",
                profiles,
                condition={
                    "StringEquals": {**request_owned, "aws:RequestTag/topology.kubernetes.io/region": s.region},
                    "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                },
            ),
            statement(
                "AllowScopedInstanceProfileTagActions",
                "iam:TagInstanceProfile",
                profiles,
                condition={
                    "StringEquals": {
                        **owned,
                        "aws:ResourceTag/topology.kubernetes.io/region": s.region,
                        **request_owned,
                        "aws:RequestTag/topology.kubernetes.io/region": s.region,
                    },
                    "StringLike": {
                        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    },
                },
            ),
            statement(
                "AllowScopedInstanceProfileActions",
                ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
                profiles,
                condition={
                    "StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": s.region},
                    "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                },
            ),
        ],
        "EKSIntegration": [statement("AllowAPIServerEndpointDiscovery", "eks:DescribeCluster", cluster_arn)],
        "Interruption": [
            statement(
                "AllowInterruptionQueueActions",
                ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
                s.queue_arn,
            )
        ],
        "ZonalShift": [
            statement(
                "AllowZonalShiftStatusReadOnly",
                "arc-zonal-shift:GetManagedResource",
                "*",
                condition={"StringEquals": {"arc-zonal-shift:ResourceIdentifier": cluster_arn}},
            )
        ],
        "ResourceDiscovery": [
            statement(
                "AllowRegionalReadActions",
                [
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribePlacementGroups",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets",
                ],
                "*",
                condition={"StringEquals": {"aws:RequestedRegion": s.region}},
            ),
            statement(
                "AllowSSMReadActions",
                "ssm:GetParameter",
                f"arn:{s.partition}:ssm:{s.region}::parameter/aws/service/*",
            ),
            statement("AllowPricingReadActions", "pricing:GetProducts", "*"),
            statement("AllowUnscopedInstanceProfileListAction", "iam:ListInstanceProfiles", "*"),
            statement("AllowInstanceProfileReadActions", "iam:GetInstanceProfile", profiles),
        ],
    }


_BUILDERS = {"1.14": _v1_14}

# EventBridge rules of the interruption queue: (rule key, source, detail-type), as in the official template.
INTERRUPTION_EVENTS: tuple[tuple[str, str, str], ...] = (
    ("scheduled-change", "aws.health", "AWS Health Event"),
    ("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("instance-state-change", "aws.ec2", "EC2 Instance State-change Notification"),
    ("capacity-reservation-interruption", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


def event_pattern(source: str, detail_type: str) -> dict[str, Any]:
    return {"source": [source], "detail-type": [detail_type]}


def interruption_rule_arns(partition: str, region: str, account_id: str) -> str:
    """The ARN pattern of this account's EventBridge rules in the region: the interruption rules are auto-named, so
    the pattern (with `aws:SourceAccount`) is what the queue and its key can name before the rules exist."""
    return f"arn:{partition}:events:{region}:{account_id}:rule/*"


def queue_policy(
    queue_arn: str, *, partition: str, region: str, account_id: str, dns_suffix: str = "amazonaws.com"
) -> str:
    """EventBridge rules of this account may send; nobody may use the queue without TLS.

    EventBridge sends the rule's ARN as `aws:SourceArn` (EventBridge user guide, "Using resource-based policies for
    Amazon EventBridge", Amazon SQS permissions), so the grant names this account's rules in this region, and
    `aws:SourceAccount` this account: another account's rule cannot fill the queue (confused deputy).

    Deliberate deviation from Karpenter's template, which also grants `sqs.amazonaws.com`: no AWS feature delivers
    to this queue as that principal (its only writers are the rules below), so the grant is left out."""
    return document(
        [
            statement(
                "EventBridgeSends",
                "sqs:SendMessage",
                queue_arn,
                principal={"Service": f"events.{dns_suffix}"},
                condition={
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": interruption_rule_arns(partition, region, account_id)},
                },
            ),
            statement(
                "DenyHTTP",
                "sqs:*",
                queue_arn,
                effect="Deny",
                principal={"AWS": "*"},
                condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
        ]
    )


def eventbridge_key_statement(
    queue_arn: str, *, partition: str, region: str, account_id: str, dns_suffix: str = "amazonaws.com"
) -> Statement:
    """Let EventBridge encrypt what its rules send to the interruption queue: SQS asks the key on the `events`
    principal's behalf, with the queue in the encryption context (`aws:sqs:arn`) and the rule as `aws:SourceArn`."""
    return statement(
        "EventBridgeEncrypts",
        ["kms:Decrypt", "kms:GenerateDataKey*"],
        principal={"Service": f"events.{dns_suffix}"},
        condition={
            "StringEquals": {"aws:SourceAccount": account_id, "kms:EncryptionContext:aws:sqs:arn": queue_arn},
            "ArnLike": {"aws:SourceArn": interruption_rule_arns(partition, region, account_id)},
        },
    )
