"""Edge data (pure): the AWS Load Balancer Controller's IAM policy, the WAF rule set, log-delivery grants, and the
Kubernetes objects the edge component applies. No Pulumi runtime here, so all of it is unit-tested directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import iam, kubernetes

if TYPE_CHECKING:  # typed shapes only: the pulumi-aws input dicts, so the type checker checks every key
    from pulumi_aws.wafv2 import (
        WebAclLoggingConfigurationRedactedFieldArgsDict,
        WebAclRuleArgsDict,
        WebAclVisibilityConfigArgsDict,
    )

LB_CONTROLLER_REPOSITORY = "https://aws.github.io/eks-charts"
LB_CONTROLLER_CHART = "aws-load-balancer-controller"
LB_CONTROLLER_NAMESPACE = "kube-system"
LB_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller"
INGRESS_CONTROLLER = "ingress.k8s.aws/alb"
"""`spec.controller` of an IngressClass served by the AWS Load Balancer Controller."""

# ELB's own account per region, for regions opened before August 2022: their ALBs write access logs as this account.
# Newer regions use the `logdelivery.elasticloadbalancing` service principal, which the bucket policy also grants.
# Source: Elastic Load Balancing user guide, "Enable access logs for your Application Load Balancer" (bucket policy).
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "ca-central-1": "985666609251", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-west-3": "009996457667", "eu-central-1": "054676820928",
    "eu-north-1": "897822967062", "eu-south-1": "635631232127", "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266", "ap-south-1": "718504428378", "sa-east-1": "507241528517",
}  # fmt: skip

# CloudFront managed policies (stable, AWS-published ids): CachingOptimized and SecurityHeadersPolicy.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03"


# ---------------------------------------------------------------------------------------------------------------------
# AWS Load Balancer Controller IAM


@dataclass(frozen=True)
class PolicyDeviation:
    """A deliberate difference from the controller's published IAM policy: grants (effect, action, resource,
    condition) upstream has and we leave out, or that we add, and why. The contract test compares the policy with
    upstream's minus `removed` plus `added`, so any other drift still fails."""

    removed: tuple[tuple[str, str, str, Mapping[str, Any]], ...]
    added: tuple[tuple[str, str, str, Mapping[str, Any]], ...]
    reason: str


LB_CONTROLLER_POLICY_DEVIATIONS: tuple[PolicyDeviation, ...] = (
    PolicyDeviation(
        removed=(
            ("Allow", "ec2:AuthorizeSecurityGroupIngress", "*", {}),
            ("Allow", "ec2:RevokeSecurityGroupIngress", "*", {}),
        ),
        added=(),
        reason=(
            "Upstream lets the controller add and remove rules on ANY security group of the account, for backend "
            "rule management (rules on the nodes' groups). Backend management is off here: the controller's shared "
            "backend group is disabled (`enableBackendSecurityGroup: false`), the ALB's frontend group comes from "
            "the network component (`security-groups`, `manage-backend-security-group-rules: false`), and the "
            "ALB/NLB-to-node rules are made by this component. Its remaining rule changes are on groups it created, "
            "which carry the `elbv2.k8s.aws/cluster` tag and stay granted by upstream's tag-conditioned statement."
        ),
    ),
)


def lb_controller_policy(partition: str) -> str:
    """The controller's IAM policy as published in its repository (`docs/install/iam_policy.json`, the v2.14+ edition
    that the 2.17 line still uses): discovery, security-group and load-balancer management scoped by the
    `elbv2.k8s.aws/cluster` tag, and the WAFv2/Shield calls it makes when an IngressClassParams names a WebACL;
    without the deviations of `LB_CONTROLLER_POLICY_DEVIATIONS` (security-group rules only on the cluster's groups)."""
    elb = f"arn:{partition}:elasticloadbalancing:*:*"
    sg = f"arn:{partition}:ec2:*:*:security-group/*"
    lbs = [f"{elb}:targetgroup/*/*", f"{elb}:loadbalancer/net/*/*", f"{elb}:loadbalancer/app/*/*"]
    cluster_tag_req = "aws:RequestTag/elbv2.k8s.aws/cluster"
    cluster_tag_res = "aws:ResourceTag/elbv2.k8s.aws/cluster"
    return iam.document(
        [
            iam.statement(
                "CreateElbServiceLinkedRole",
                "iam:CreateServiceLinkedRole",
                condition={"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
            ),
            iam.statement("Discovery", LB_CONTROLLER_DESCRIBE_ACTIONS),
            iam.statement("CertificatesWafShield", LB_CONTROLLER_INTEGRATION_ACTIONS),
            iam.statement("CreateSecurityGroup", "ec2:CreateSecurityGroup"),
            iam.statement(
                "TagSecurityGroupOnCreate",
                "ec2:CreateTags",
                sg,
                condition={
                    "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
                    "Null": {cluster_tag_req: "false"},
                },
            ),
            iam.statement(
                "TagOwnSecurityGroups",
                ["ec2:CreateTags", "ec2:DeleteTags"],
                sg,
                condition={"Null": {cluster_tag_req: "true", cluster_tag_res: "false"}},
            ),
            iam.statement(
                "ManageOwnSecurityGroups",
                ["ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress"],
                condition={"Null": {cluster_tag_res: "false"}},
            ),
            iam.statement(
                "CreateTaggedLoadBalancers",
                ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
                condition={"Null": {cluster_tag_req: "false"}},
            ),
            iam.statement(
                "ListenersAndRules",
                [
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:DeleteRule",
                ],
            ),
            iam.statement(
                "TagOwnLoadBalancers",
                ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
                lbs,
                condition={"Null": {cluster_tag_req: "true", cluster_tag_res: "false"}},
            ),
            iam.statement(
                "TagListenersAndRules",
                ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
                [
                    f"{elb}:listener/net/*/*/*",
                    f"{elb}:listener/app/*/*/*",
                    f"{elb}:listener-rule/net/*/*/*",
                    f"{elb}:listener-rule/app/*/*/*",
                ],
            ),
            iam.statement(
                "ManageOwnLoadBalancers",
                [
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyCapacityReservation",
                    "elasticloadbalancing:ModifyIpPools",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                ],
                condition={"Null": {cluster_tag_res: "false"}},
            ),
            iam.statement(
                "TagLoadBalancersOnCreate",
                "elasticloadbalancing:AddTags",
                lbs,
                condition={
                    "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
                    "Null": {cluster_tag_req: "false"},
                },
            ),
            iam.statement(
                "RegisterTargets",
                ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
                f"{elb}:targetgroup/*/*",
            ),
            iam.statement(
                "ModifyListenersAndRules",
                [
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:SetRulePriorities",
                    "elasticloadbalancing:SetWebAcl",
                ],
            ),
        ]
    )


LB_CONTROLLER_DESCRIBE_ACTIONS = (
    "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeCoipPools",
    "ec2:DescribeInstances", "ec2:DescribeInternetGateways", "ec2:DescribeIpamPools", "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeTags",
    "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs", "ec2:GetCoipPoolUsage", "ec2:GetSecurityGroupsForVpc",
    "elasticloadbalancing:DescribeCapacityReservation", "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTrustStores",
)  # fmt: skip
LB_CONTROLLER_INTEGRATION_ACTIONS = (
    "acm:DescribeCertificate", "acm:ListCertificates", "cognito-idp:DescribeUserPoolClient", "iam:GetServerCertificate",
    "iam:ListServerCertificates", "shield:CreateProtection", "shield:DeleteProtection", "shield:DescribeProtection",
    "shield:GetSubscriptionState", "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
    "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
    "wafv2:GetWebACL", "wafv2:GetWebACLForResource",
)  # fmt: skip


def lb_controller_values(
    *,
    cluster_name: str,
    region: str,
    vpc_id: Any,
    ssl_policy: str,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """Helm values of the controller chart.

    `region` and `vpcId` become `--aws-region` and `--aws-vpc-id`: with the IMDS hop limit of 1 that nodes enforce,
    a pod cannot read them from instance metadata. The IngressClass is ours (see `ingress_class`), so the chart's is
    off; WAFv2 is on (WebACL from IngressClassParams), WAF Classic and Shield Advanced are off.
    """
    selector = {"app.kubernetes.io/name": LB_CONTROLLER_CHART, "app.kubernetes.io/instance": LB_CONTROLLER_CHART}
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "serviceAccount": {"create": True, "name": LB_CONTROLLER_SERVICE_ACCOUNT},
        "createIngressClassResource": False,
        # Only the IngressClass (and its params' namespace selector) puts an Ingress in the shared group: the legacy
        # class annotation and the group-name annotation would bypass both.
        "disableIngressClassAnnotation": True,
        "disableIngressGroupNameAnnotation": True,
        # No backend rule management: the ALB-to-node rule is the edge component's (see the IAM deviations).
        "enableBackendSecurityGroup": False,
        "enableServiceMutatorWebhook": False,
        "defaultSSLPolicy": ssl_policy,
        "defaultTargetType": "ip",
        "enableWafv2": True,
        "enableWaf": False,
        "enableShield": False,
        "defaultTags": dict(tags),
        "priorityClassName": kubernetes.SYSTEM_CLUSTER_CRITICAL,
        **kubernetes.on_system_nodes(),
        "topologySpreadConstraints": kubernetes.zone_spread(selector),
        "podDisruptionBudget": {"maxUnavailable": 1},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    }


# ---------------------------------------------------------------------------------------------------------------------
# WAF


@dataclass(frozen=True)
class ManagedRuleGroup:
    name: str
    priority: int


MANAGED_RULE_GROUPS = (
    ManagedRuleGroup("AWSManagedRulesAmazonIpReputationList", 10),
    ManagedRuleGroup("AWSManagedRulesCommonRuleSet", 30),
    ManagedRuleGroup("AWSManagedRulesKnownBadInputsRuleSet", 40),
    ManagedRuleGroup("AWSManagedRulesSQLiRuleSet", 50),
)
RATE_RULE_PRIORITY = 20
"""After the IP reputation list (cheap, blocks known bad sources first), before the content inspection groups."""


def _visibility(metric: str) -> WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def waf_rules(metric_prefix: str, rate_limit: int) -> list[WebAclRuleArgsDict]:
    """The WebACL's rules (pulumi `WebAclRuleArgsDict` shape): the AWS managed groups, counted as their own verdicts,
    and a per-IP rate limit over 5 minutes that blocks."""
    rules: list[WebAclRuleArgsDict] = [
        {
            "name": group.name,
            "priority": group.priority,
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"name": group.name, "vendor_name": "AWS"}},
            "visibility_config": _visibility(f"{metric_prefix}-{group.name}"),
        }
        for group in MANAGED_RULE_GROUPS
    ]
    rules.append(
        {
            "name": "rate-limit-per-ip",
            "priority": RATE_RULE_PRIORITY,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP", "evaluation_window_sec": 300}
            },
            "visibility_config": _visibility(f"{metric_prefix}-rate-limit-per-ip"),
        }
    )
    return sorted(rules, key=lambda r: int(str(r["priority"])))


def waf_visibility(metric: str) -> WebAclVisibilityConfigArgsDict:
    return _visibility(metric)


REDACTED_HEADERS = ("authorization", "cookie")
"""Request headers kept out of WAF logs (credentials and sessions)."""


def waf_redacted_fields() -> list[WebAclLoggingConfigurationRedactedFieldArgsDict]:
    return [{"single_header": {"name": name}} for name in REDACTED_HEADERS]


def waf_log_group_name(base: str, what: str) -> str:
    """WAF only logs to log groups (and buckets) whose name starts with `aws-waf-logs-`."""
    return f"aws-waf-logs-{base}-{what}"


# ---------------------------------------------------------------------------------------------------------------------
# Log delivery grants


def alb_log_statements(*, partition: str, region: str, account_id: str, bucket_arn: str, prefix: str) -> list[Any]:
    """Bucket statements letting ALBs (and NLBs) of this account write access logs under `<prefix>/AWSLogs/<acct>/`."""
    objects = f"{bucket_arn}/{prefix}/AWSLogs/{account_id}/*"
    statements = [
        iam.statement(
            "ElbLogDelivery",
            "s3:PutObject",
            objects,
            principal={"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        ),
    ]
    legacy = ELB_LOG_ACCOUNTS.get(region)
    if legacy is not None:
        statements.append(
            iam.statement(
                "ElbLogDeliveryLegacyRegion",
                "s3:PutObject",
                objects,
                principal={"AWS": f"arn:{partition}:iam::{legacy}:root"},
            )
        )
    statements += vended_log_statements(
        account_id=account_id, bucket_arn=bucket_arn, prefix=prefix, partition=partition
    )
    return statements


def vended_log_statements(*, partition: str, account_id: str, bucket_arn: str, prefix: str | None = None) -> list[Any]:
    """The `delivery.logs.amazonaws.com` grants (NLB TLS logs, WAF and CloudFront v2 logs), scoped to this account's
    log deliveries."""
    path = f"{prefix}/AWSLogs/{account_id}/*" if prefix else f"AWSLogs/{account_id}/*"
    conditions = {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:*:{account_id}:*"},
    }
    return [
        iam.statement(
            "LogDeliveryWrite",
            "s3:PutObject",
            f"{bucket_arn}/{path}",
            principal={"Service": "delivery.logs.amazonaws.com"},
            condition={
                "StringEquals": {"aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"},
                "ArnLike": conditions["ArnLike"],
            },
        ),
        iam.statement(
            "LogDeliveryAclCheck",
            ["s3:GetBucketAcl", "s3:ListBucket"],
            bucket_arn,
            principal={"Service": "delivery.logs.amazonaws.com"},
            condition=conditions,
        ),
    ]


def log_delivery_key_statement(account_id: str, partition: str) -> Any:
    """Let the log-delivery service encrypt objects with a customer key (SSE-KMS buckets receiving vended logs)."""
    return iam.statement(
        "LogDeliveryUsesKey",
        ["kms:Decrypt", "kms:GenerateDataKey*"],
        principal={"Service": "delivery.logs.amazonaws.com"},
        condition={
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:*:{account_id}:*"},
        },
    )


def waf_log_resource_policy(*, partition: str, region: str, account_id: str, group_prefix: str) -> str:
    """CloudWatch Logs resource policy for WAF's log delivery into `aws-waf-logs-…` groups. Created once by us so WAF
    does not add its own per group (there are at most 10 resource policies per region)."""
    return iam.document(
        [
            iam.statement(
                "WafLogDelivery",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                f"arn:{partition}:logs:{region}:{account_id}:log-group:{group_prefix}*:log-stream:*",
                principal={"Service": "delivery.logs.amazonaws.com"},
                condition={
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account_id}:*"},
                },
            )
        ]
    )


def cloudfront_origin_statements(*, partition: str, account_id: str, bucket_arn: str) -> list[Any]:
    """Origin access control: CloudFront distributions of this account read objects (and nothing else)."""
    return [
        iam.statement(
            "CloudFrontReadsObjects",
            "s3:GetObject",
            f"{bucket_arn}/*",
            principal={"Service": "cloudfront.amazonaws.com"},
            condition={"ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudfront::{account_id}:distribution/*"}},
        )
    ]


def cloudfront_key_statement(*, partition: str, account_id: str) -> Any:
    return iam.statement(
        "CloudFrontDecryptsOrigin",
        ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
        principal={"Service": "cloudfront.amazonaws.com"},
        condition={"ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudfront::{account_id}:distribution/*"}},
    )


# ---------------------------------------------------------------------------------------------------------------------
# Kubernetes objects


def load_balancer_attributes(*, bucket: str, prefix: str, deletion_protection: bool) -> list[dict[str, str]]:
    """ALB attributes for every Ingress of the class."""
    attributes = {
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": bucket,
        "access_logs.s3.prefix": prefix,
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "defensive",
        "deletion_protection.enabled": "true" if deletion_protection else "false",
        "waf.fail_open.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
    }
    return [{"key": k, "value": v} for k, v in attributes.items()]


def ingress_class_params(
    *,
    name: str,
    namespace_labels: Mapping[str, str],
    group: str,
    load_balancer_name: str,
    subnet_ids: Sequence[Any],
    ssl_policy: str,
    certificate_arn: Any,
    web_acl_arn: Any,
    attributes: list[dict[str, str]],
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """The IngressClassParams (elbv2.k8s.aws/v1beta1): settings no application Ingress can override, and the
    namespaces (`namespace_labels`) whose Ingresses may use the class at all."""
    return {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "IngressClassParams",
        "metadata": {"name": name},
        "spec": {
            "namespaceSelector": {"matchLabels": dict(namespace_labels)},
            "scheme": "internet-facing",
            "ipAddressType": "ipv4",
            "group": {"name": group},
            "loadBalancerName": load_balancer_name,
            "subnets": {"ids": list(subnet_ids)},
            "targetType": "ip",
            "sslPolicy": ssl_policy,
            "sslRedirectPort": "443",
            "certificateArn": [certificate_arn],
            "wafv2AclArn": web_acl_arn,
            "loadBalancerAttributes": attributes,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        },
    }


def ingress_class(name: str, params: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": name},
        "spec": {
            "controller": INGRESS_CONTROLLER,
            "parameters": {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": params},
        },
    }


def group_anchor_ingress(
    *, name: str, namespace: str, ingress_class_name: str, alb_security_group_id: Any
) -> dict[str, Any]:
    """The platform's Ingress in the shared group. It carries what IngressClassParams cannot: the ALB security group
    from the network component (`security-groups`), both listeners (80 and 443; the class redirects 80 to 443), and
    the listener default action (a fixed 404, so unknown hosts never reach an application). Applications add rules
    to the same ALB with their own Ingresses of the same class."""
    prefix = "alb.ingress.kubernetes.io"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                f"{prefix}/security-groups": alb_security_group_id,
                f"{prefix}/manage-backend-security-group-rules": "false",
                f"{prefix}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
                f"{prefix}/group.order": "1000",
                f"{prefix}/actions.default-404": json.dumps(
                    {
                        "type": "fixed-response",
                        "fixedResponseConfig": {
                            "contentType": "text/plain",
                            "statusCode": "404",
                            "messageBody": "not found",
                        },
                    }
                ),
            },
        },
        "spec": {
            "ingressClassName": ingress_class_name,
            "defaultBackend": {"service": {"name": "default-404", "port": {"name": "use-annotation"}}},
        },
    }


GROUP_WIDE_ANNOTATIONS = tuple(
    f"alb.ingress.kubernetes.io/{name}"
    for name in (
        "group.name", "scheme", "subnets", "security-groups", "manage-backend-security-group-rules",
        "load-balancer-name", "load-balancer-attributes", "certificate-arn", "ssl-policy", "wafv2-acl-arn",
        "wafv2-acl-name", "waf-acl-id", "shield-advanced-protection", "inbound-cidrs", "security-group-prefix-lists",
        "ip-address-type", "customer-owned-ipv4-pool", "ipam-ipv4-pool-id", "tags", "mutual-authentication",
        "minimum-load-balancer-capacity", "frontend-nlb-scheme", "enable-frontend-nlb",
    )
)  # fmt: skip
"""Annotations that set what the whole ALB shares (its scheme, subnets, groups, TLS, WAF, attributes, tags): the
class fixes them, and one Ingress disagreeing with another stalls the reconciliation of the whole group, so an
application Ingress may not set them."""
INGRESS_ADMISSION_POLICY = "platform-alb-ingress"


def _cel(value: Any) -> str:
    """A CEL literal of a string or a list of strings (JSON's syntax is CEL's for these)."""
    return json.dumps(value)


def ingress_admission(
    *, ingress_class: str, hosts: Mapping[str, Sequence[str]], namespace_labels: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A ValidatingAdmissionPolicy and its binding for the Ingresses of `ingress_class` in the namespaces carrying
    `namespace_labels` (the application namespaces; the platform's own group anchor lives elsewhere):

    - every rule names a host, and only a host granted to its namespace (`hosts`: namespace -> hosts, from
      `edge.ingressHosts`); TLS entries likewise;
    - no default backend (it would become the shared listener's default action: every unmatched host);
    - none of the group-wide annotations (`GROUP_WIDE_ANNOTATIONS`), and no `conditions.*` annotation matching on
      `host-header` (a condition that could route another team's host)."""
    granted = sorted(f"{namespace}/{host}" for namespace, names in hosts.items() for host in names)
    ns = "namespaceObject.metadata.name"
    annotations = "object.metadata.annotations"
    validations = [
        (
            f"!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && ({ns} + '/' + r.host) in "
            f"{_cel(granted)})",
            "every rule of an Ingress of class alb names a host granted to its namespace (edge.ingressHosts)",
        ),
        (
            f"!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, ({ns} + '/' + h) in "
            f"{_cel(granted)}))",
            "the TLS hosts of an Ingress of class alb are hosts granted to its namespace (edge.ingressHosts)",
        ),
        (
            "!has(object.spec.defaultBackend)",
            "an Ingress of class alb has no default backend: it would take every host of the shared ALB",
        ),
        (
            f"!has({annotations}) || !{annotations}.exists(k, k in {_cel(list(GROUP_WIDE_ANNOTATIONS))})",
            "an Ingress of class alb sets none of the shared ALB's settings (the IngressClassParams fix them)",
        ),
        (
            f"!has({annotations}) || !{annotations}.exists(k, k.startsWith('alb.ingress.kubernetes.io/conditions.') "
            f"&& {annotations}[k].contains('host-header'))",
            "an Ingress of class alb routes on its rules' hosts, not on host-header conditions",
        ),
    ]
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": INGRESS_ADMISSION_POLICY},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["networking.k8s.io"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["ingresses"],
                    }
                ]
            },
            "matchConditions": [
                {
                    "name": "of-the-shared-alb-class",
                    "expression": "has(object.spec.ingressClassName) && object.spec.ingressClassName == "
                    f"{_cel(ingress_class)}",
                }
            ],
            "validations": [
                {"expression": expression, "message": message, "reason": "Forbidden"}
                for expression, message in validations
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": INGRESS_ADMISSION_POLICY},
        "spec": {
            "policyName": INGRESS_ADMISSION_POLICY,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": dict(namespace_labels)}},
        },
    }
    return [policy, binding]


LB_CONTROLLER_WEBHOOK_PORT = 9443
LB_CONTROLLER_METRICS_PORT = 8080


def lb_controller_network_policy(*, vpc_cidr: str, database_cidrs: Sequence[str]) -> dict[str, Any]:
    """A NetworkPolicy selecting only the controller's pods in kube-system (EKS's own pods there stay unselected):
    the API server reaches its admission webhooks (Ingress/TargetGroupBinding validation, pod readiness gates) from
    the cluster's network interfaces in the VPC (`core.kubernetes.webhook_ingress`), the scraper its metrics; nothing
    else reaches it. It reaches anything but the database subnets."""
    return kubernetes.network_policy(
        LB_CONTROLLER_CHART,
        LB_CONTROLLER_NAMESPACE,
        pod_selector={"app.kubernetes.io/name": LB_CONTROLLER_CHART, "app.kubernetes.io/instance": LB_CONTROLLER_CHART},
        ingress=[
            kubernetes.webhook_ingress(vpc_cidr, LB_CONTROLLER_WEBHOOK_PORT),
            kubernetes.scraper_ingress(LB_CONTROLLER_METRICS_PORT),
        ],
        egress=[kubernetes.egress_except(database_cidrs)],
        labels={"app.kubernetes.io/managed-by": "pulumi"},
    )
