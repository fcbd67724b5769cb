"""The Edge component in every workload stack: controller, ingress class, WAF, TLS, access logs, NLB and CloudFront."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.edge import spec
from components.edge.config import SSL_POLICIES, EdgeConfig
from core.kubernetes import SYSTEM_TOLERATION_POD
from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.iam_data import action_exists, actions_of, statements
from tests.support import stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
MANAGED_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesSQLiRuleSet",
}


def edge_config(stack: str) -> EdgeConfig:
    cfg = stack_config(stack).edge
    assert cfg is not None
    return cfg


def controller(plan: Plan) -> Recorded:
    return plan.one(RELEASE, "edge-lb-controller")


def params_spec(plan: Plan) -> dict[str, Any]:
    return plan.one(PARAMS).inputs["spec"]


def attributes(plan: Plan) -> dict[str, str]:
    return {a["key"]: a["value"] for a in params_spec(plan)["loadBalancerAttributes"]}


def in_us_east_1(plan: Plan, resource: Recorded) -> bool:
    providers = {p.urn: p for p in plan.by_type("pulumi:providers:aws")}
    urn = resource.provider_urn
    return urn is not None and providers[urn].inputs["region"] == "us-east-1"


# ---------------------------------------------------------------------------------------------------------------------
# AWS Load Balancer Controller


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_controller_chart_is_pinned_and_told_its_region_and_vpc(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    release = controller(plan)
    assert release.inputs["chart"] == "aws-load-balancer-controller"
    assert release.inputs["version"] == edge_config(stack).lb_controller_chart_version
    assert release.inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert release.inputs["namespace"] == "kube-system"
    values = release.inputs["values"]
    # IMDS hop limit 1 on nodes: the controller cannot discover these itself.
    assert values["region"] == plan.exports["region"]
    assert values["vpcId"] == plan.exports["network"]["vpcId"]
    assert values["clusterName"] == plan.exports["cluster"]["name"]


def test_controller_runs_two_replicas_on_system_nodes_with_waf_v2_only(plans: dict[str, Plan]) -> None:
    values = controller(plans["prod"]).inputs["values"]
    assert values["replicaCount"] == 2
    assert values["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert values["nodeSelector"] == {"node-role/system": "true"}
    assert values["tolerations"] == [SYSTEM_TOLERATION_POD]
    assert values["enableWafv2"] is True
    assert values["enableWaf"] is False
    assert values["enableShield"] is False
    assert values["createIngressClassResource"] is False
    assert values["resources"]["requests"]
    assert values["resources"]["limits"]
    assert values["defaultTags"]["Environment"] == "prod"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_controller_identity_is_pod_identity_for_its_service_account(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "edge-lb-controller")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "aws-load-balancer-controller",
    )
    role = plan.one("aws:iam/role:Role", "edge-lb-controller")
    assert association.inputs["roleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert (
        trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"]
        == "aws-load-balancer-controller"
    )
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-name"] == plan.exports["cluster"]["name"]


def test_controller_policy_includes_waf_and_shield_and_scopes_mutations_by_cluster_tag(plans: dict[str, Plan]) -> None:
    policy = plans["prod"].one("aws:iam/rolePolicy:RolePolicy", "edge-lb-controller")
    doc = json.loads(policy.inputs["policy"])
    allowed = {a for st in statements(doc) for a in actions_of(st)}
    for action in ("wafv2:AssociateWebACL", "wafv2:GetWebACLForResource", "shield:CreateProtection",
                   "elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListenerAttributes",
                   "ec2:GetSecurityGroupsForVpc"):  # fmt: skip
        assert action in allowed, action
    assert all(action_exists(a) for a in allowed)
    # Deleting or reconfiguring load balancers and security groups only works on ones the controller tagged.
    for st in statements(doc):
        destructive = [a for a in actions_of(st) if a.split(":")[1].startswith(("Delete", "Modify", "Set"))]
        destructive = [a for a in destructive if a not in LISTENER_LEVEL and not a.startswith("shield:")]
        destructive = [a for a in destructive if not a.startswith(("wafv2:", "waf-regional:"))]
        if destructive:
            assert st["Condition"]["Null"]["aws:ResourceTag/elbv2.k8s.aws/cluster"] == "false", destructive


LISTENER_LEVEL = {
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteRule",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:SetRulePriorities",
    "elasticloadbalancing:SetWebAcl",
}


# ---------------------------------------------------------------------------------------------------------------------
# Ingress class


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_ingress_class_params_fix_scheme_subnets_tls_waf_and_group(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    params = params_spec(plan)
    assert params["scheme"] == "internet-facing"
    assert params["group"] == {"name": plan.exports["edge"]["ingressGroup"]}
    assert set(params["subnets"]["ids"]) == set(plan.exports["network"]["publicSubnetIds"].values())
    assert len(params["subnets"]["ids"]) == len(plan.exports["network"]["publicSubnetIds"])
    assert params["sslPolicy"] in SSL_POLICIES
    assert "TLS13" in params["sslPolicy"]
    assert params["sslPolicy"] == edge_config(stack).ssl_policy
    assert params["sslRedirectPort"] == "443"
    assert params["certificateArn"] == [plan.exports["edge"]["certificateArn"]]
    (acl,) = [a for a in plan.by_type(WEB_ACL) if a.inputs["scope"] == "REGIONAL"]
    assert params["wafv2AclArn"] == acl.outputs["arn"]
    assert params["targetType"] == "ip"
    assert len(params["loadBalancerName"]) <= 32


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_alb_attributes_log_access_drop_bad_headers_and_protect_prod(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    attrs = attributes(plan)
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["access_logs.s3.bucket"] == plan.exports["edge"]["accessLogBucket"]
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["waf.fail_open.enabled"] == "false"
    protect = stack_config(stack).protect_stateful
    assert attrs["deletion_protection.enabled"] == ("true" if protect else "false")
    if stack == "prod":
        assert attrs["deletion_protection.enabled"] == "true"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_ingress_class_points_at_its_params_and_the_group_anchor_sets_the_alb_sg(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    klass = plan.one("kubernetes:networking.k8s.io/v1:IngressClass")
    assert klass.inputs["metadata"]["name"] == "alb"
    assert klass.inputs["spec"]["controller"] == "ingress.k8s.aws/alb"
    assert klass.inputs["spec"]["parameters"] == {
        "apiGroup": "elbv2.k8s.aws",
        "kind": "IngressClassParams",
        "name": plan.one(PARAMS).inputs["metadata"]["name"],
    }
    anchor = plan.one("kubernetes:networking.k8s.io/v1:Ingress", "edge-group-anchor")
    notes = anchor.inputs["metadata"]["annotations"]
    assert notes["alb.ingress.kubernetes.io/security-groups"] == plan.exports["network"]["albSecurityGroupId"]
    assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert anchor.inputs["spec"]["ingressClassName"] == "alb"
    assert json.loads(notes["alb.ingress.kubernetes.io/actions.default-404"])["type"] == "fixed-response"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_alb_reaches_pods_through_the_node_security_group(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    nodes = plan.exports["cluster"]["nodeSecurityGroupId"]
    alb = plan.exports["network"]["albSecurityGroupId"]
    pods = plan.exports["database"]["appSecurityGroupId"]
    rules = [r for r in plan.by_type(INGRESS_RULE) if r.inputs.get("referencedSecurityGroupId") == alb]
    # The nodes' group (pods without a pod security group) and the database app's pod group (Security Groups for
    # Pods), nothing else.
    assert sorted((r.inputs["securityGroupId"], r.inputs["ipProtocol"]) for r in rules) == sorted(
        [(nodes, "tcp"), (pods, "tcp")]
    )


# ---------------------------------------------------------------------------------------------------------------------
# WAF


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_regional_web_acl_has_the_managed_groups_and_the_configured_rate_limit(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    acl = plan.one(WEB_ACL, "edge-alb")
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    rules = acl.inputs["rules"]
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in rules
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert managed == MANAGED_GROUPS
    for rule in rules:
        if "managedRuleGroupStatement" in rule["statement"]:
            assert rule["statement"]["managedRuleGroupStatement"]["vendorName"] == "AWS"
            assert rule["overrideAction"] == {"none": {}}  # the groups' own block verdicts apply (not count)
    (rate,) = [r for r in rules if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == edge_config(stack).waf_rate_limit
    assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    assert rate["action"] == {"block": {}}
    priorities = [r["priority"] for r in rules]
    assert len(set(priorities)) == len(priorities)
    assert all(r["visibilityConfig"]["sampledRequestsEnabled"] for r in rules)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_waf_logs_to_an_encrypted_retained_aws_waf_logs_group(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    logging = plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "edge-alb")
    assert logging.inputs["resourceArn"] == plan.one(WEB_ACL, "edge-alb").outputs["arn"]
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", "edge-waf-alb")
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["retentionInDays"] == stack_config(stack).log_retention_days
    key = plan.one("aws:kms/key:Key", "edge-edge-logs")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    redacted = {f["singleHeader"]["name"] for f in logging.inputs["redactedFields"]}
    assert redacted == {"authorization", "cookie"}
    policy = json.loads(plan.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy").inputs["policyDocument"])
    (grant,) = policy["Statement"]
    assert grant["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert ":log-group:aws-waf-logs-" in grant["Resource"]
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == plan.exports["accountId"]


# ---------------------------------------------------------------------------------------------------------------------
# TLS


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_certificate_covers_the_domain_and_is_dns_validated_in_the_zone(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = edge_config(stack)
    cert = plan.one("aws:acm/certificate:Certificate", "edge-alb")
    assert cert.inputs["domainName"] == cfg.domain
    assert cert.inputs["subjectAlternativeNames"] == [f"*.{cfg.domain}"]
    assert cert.inputs["validationMethod"] == "DNS"
    records = [r for r in plan.by_type("aws:route53/record:Record") if r.name == "edge-alb-certificate-validation"]
    validations = [
        v
        for v in plan.by_type("aws:acm/certificateValidation:CertificateValidation")
        if v.name == "edge-alb-certificate"
    ]
    if cfg.hosted_zone_id is None:
        assert records == []
        assert validations == []
        assert plan.exports["edge"]["certificateArn"] == cert.outputs["arn"]
        assert plan.exports["edge"]["certificateValidationRecords"]  # exported so someone can create the record
    else:
        (record,) = records
        assert record.inputs["zoneId"] == cfg.hosted_zone_id
        assert record.inputs["type"] == "CNAME"
        (validation,) = validations
        assert validation.inputs["certificateArn"] == cert.outputs["arn"]
        assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
        assert plan.exports["edge"]["certificateArn"] == validation.outputs["certificateArn"]


# ---------------------------------------------------------------------------------------------------------------------
# Access logs


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_access_log_bucket_is_private_tls_only_expiring_and_writable_by_elb(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    name = plan.exports["edge"]["accessLogBucket"]
    bucket = plan.one("aws:s3/bucket:Bucket", "edge-alb-access-logs")
    assert bucket.inputs["bucket"] == name
    assert bucket.inputs["tags"]["EncryptionException"]  # SSE-S3 is all ALB log delivery supports
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "edge-alb-access-logs")
    assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                  "restrictPublicBuckets"))  # fmt: skip
    sse = plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "edge-alb-access-logs"
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    lifecycle = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "edge-alb-access-logs")
    expiry = [r for r in lifecycle.inputs["rules"] if "expiration" in r]
    assert expiry[0]["expiration"]["days"] == edge_config(stack).access_log_days
    doc = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "edge-alb-access-logs").inputs["policy"])
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    writer = by_sid["ElbLogDelivery"]
    assert writer["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert writer["Action"] == "s3:PutObject"
    account = plan.exports["accountId"]
    assert writer["Resource"] == f"arn:aws:s3:::{name}/alb/AWSLogs/{account}/*"
    legacy = by_sid["ElbLogDeliveryLegacyRegion"]  # eu-west-1 predates the service principal
    assert legacy["Principal"] == {"AWS": f"arn:aws:iam::{spec.ELB_LOG_ACCOUNTS['eu-west-1']}:root"}
    assert attributes(plan)["access_logs.s3.prefix"] == "alb"


# ---------------------------------------------------------------------------------------------------------------------
# NLB path


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_nlb_security_group_admits_only_tls_from_configured_clients(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = edge_config(stack)
    sgs = [s for s in plan.by_type("aws:ec2/securityGroup:SecurityGroup") if s.name == "edge-nlb"]
    if cfg.nlb is None:
        assert sgs == []
        assert plan.exports["edge"]["nlbSecurityGroupId"] is None
        return
    (sg,) = sgs
    rules = [r for r in plan.by_type(INGRESS_RULE) if r.inputs["securityGroupId"] == sg.outputs["id"]]
    vpc = stack_config(stack).network.vpc_cidr
    wanted = [*(cfg.nlb.allowed_cidrs or [vpc]), *cfg.nlb.peer_ranges.values()]
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == sorted(wanted)
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {(443, 443)}
    to_nodes = [r for r in plan.by_type(INGRESS_RULE) if r.inputs.get("referencedSecurityGroupId") == sg.outputs["id"]]
    assert [r.inputs["securityGroupId"] for r in to_nodes] == [plan.exports["cluster"]["nodeSecurityGroupId"]]


# ---------------------------------------------------------------------------------------------------------------------
# CloudFront


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_cloudfront_only_where_configured(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    distributions = plan.by_type("aws:cloudfront/distribution:Distribution")
    assert len(distributions) == (1 if edge_config(stack).cloudfront else 0)
    us_east_1 = [p for p in plan.by_type("pulumi:providers:aws") if p.inputs["region"] == "us-east-1"]
    assert len(us_east_1) == (1 if edge_config(stack).cloudfront else 0)


def test_cloudfront_serves_the_spa_over_modern_tls_behind_a_global_waf(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    cf = edge_config("prod").cloudfront
    assert cf is not None
    dist = plan.one("aws:cloudfront/distribution:Distribution")
    viewer = dist.inputs["viewerCertificate"]
    assert viewer["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert viewer["sslSupportMethod"] == "sni-only"
    assert dist.inputs["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    assert dist.inputs["aliases"] == [cf.domain]
    global_acl = plan.one(WEB_ACL, "edge-cdn")
    assert global_acl.inputs["scope"] == "CLOUDFRONT"
    assert in_us_east_1(plan, global_acl)
    assert dist.inputs["webAclId"] == global_acl.outputs["arn"]
    cert = plan.one("aws:acm/certificate:Certificate", "edge-cdn")
    assert in_us_east_1(plan, cert)
    assert in_us_east_1(plan, plan.one("aws:acm/certificateValidation:CertificateValidation", "edge-cdn-certificate"))
    assert {r["errorCode"] for r in dist.inputs["customErrorResponses"]} == {403, 404}


def test_spa_origin_is_private_encrypted_and_read_only_through_origin_access_control(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    dist = plan.one("aws:cloudfront/distribution:Distribution")
    oac = plan.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert (oac.inputs["signingBehavior"], oac.inputs["signingProtocol"]) == ("always", "sigv4")
    (origin,) = dist.inputs["origins"]
    assert origin["originAccessControlId"] == oac.outputs["id"]
    assert "s3OriginConfig" not in origin  # no legacy origin access identity
    sse = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "edge-spa")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    doc = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "edge-spa").inputs["policy"])
    (read,) = [st for st in doc["Statement"] if st["Sid"] == "CloudFrontReadsObjects"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert (
        read["Condition"]["ArnLike"]["aws:SourceArn"]
        == f"arn:aws:cloudfront::{plan.exports['accountId']}:distribution/*"
    )
    key = json.loads(plan.one("aws:kms/key:Key", "edge-cdn").inputs["policy"])
    assert any(st.get("Principal") == {"Service": "cloudfront.amazonaws.com"} for st in key["Statement"])


def test_cloudfront_access_and_waf_logs_reach_the_encrypted_log_bucket(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    bucket = plan.one("aws:s3/bucket:Bucket", "edge-cdn-logs")
    assert bucket.inputs["bucket"].startswith("aws-waf-logs-")
    waf_logging = plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "edge-cdn")
    assert waf_logging.inputs["logDestinationConfigs"] == [bucket.outputs["arn"]]
    source = plan.one("aws:cloudwatch/logDeliverySource:LogDeliverySource")
    assert source.inputs["logType"] == "ACCESS_LOGS"
    assert source.inputs["resourceArn"] == plan.one("aws:cloudfront/distribution:Distribution").outputs["arn"]
    destination = plan.one("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    assert destination.inputs["deliveryDestinationConfiguration"]["destinationResourceArn"] == bucket.outputs["arn"]
    delivery = plan.one("aws:cloudwatch/logDelivery:LogDelivery")
    assert delivery.inputs["deliverySourceName"] == source.outputs["name"]
    for resource in (source, destination, delivery, waf_logging):
        assert in_us_east_1(plan, resource), resource.urn
    doc = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "edge-cdn-logs").inputs["policy"])
    (write,) = [st for st in doc["Statement"] if st["Sid"] == "LogDeliveryWrite"]
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == plan.exports["accountId"]


# ---------------------------------------------------------------------------------------------------------------------
# Pure data


def test_waf_rule_priorities_put_reputation_first_and_rate_before_content_inspection() -> None:
    rules = spec.waf_rules("m", 500)
    names = [r["name"] for r in rules]
    assert names[0] == "AWSManagedRulesAmazonIpReputationList"
    assert names[1] == "rate-limit-per-ip"
    metrics = {json.dumps(r["visibility_config"], sort_keys=True, default=str) for r in rules}
    assert len(metrics) == len(rules)


def test_every_allowed_region_has_an_elb_log_principal() -> None:
    for region in stack_config("prod").allowed_regions:
        statements_ = spec.alb_log_statements(partition="aws", region=region, account_id="1" * 12,
                                              bucket_arn="arn:aws:s3:::b", prefix="alb")  # fmt: skip
        assert any(st["Sid"] == "ElbLogDeliveryLegacyRegion" for st in statements_), region
