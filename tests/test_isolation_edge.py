"""Issue 14, the edge and the service principals: a team reaches the shared ALB only from its own labelled namespace
and only for its own hosts; the NLB admits its own VPC; AWS services write to the platform's queues, keys and topics
only on this account's behalf; the load balancer controller changes only its own security groups; logs keep their
old versions as long as the logs; metrics survive a scraper's loss."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from components.edge import spec
from components.edge.component import nlb_clients
from components.edge.config import EdgeConfig, NlbConfig
from components.observability import component as obs
from core import kubernetes
from core.buckets import secure_bucket
from core.loading import Problems, validate
from core.schema import Model, ValidationContext
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NAMESPACE = "kubernetes:core/v1:Namespace"
NAMESPACE_PATCH = "kubernetes:core/v1:NamespacePatch"
POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
RELEASE = "kubernetes:helm.sh/v3:Release"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
P = "aws-platform"


def labels_of(plan: Plan) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for r in [*plan.by_type(NAMESPACE), *plan.by_type(NAMESPACE_PATCH)]:
        found.setdefault(r.inputs["metadata"]["name"], {}).update(r.inputs["metadata"].get("labels", {}))
    return found


# --- the shared ALB ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_only_labelled_namespaces_may_use_the_shared_alb_class(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    key, value = kubernetes.ALB_INGRESS_LABEL
    selector = plan.one(PARAMS).inputs["spec"]["namespaceSelector"]
    assert selector == {"matchLabels": {key: value}}
    allowed = {name for name, labels in labels_of(plan).items() if labels.get(key) == value}
    anchor = plan.one(INGRESS, "edge-group-anchor").inputs["metadata"]["namespace"]
    assert allowed == {*stack_config(stack).workloads.namespaces, anchor}
    # kube-system is not the platform's to create: it is labelled by a patch.
    assert [
        r.inputs["metadata"]["name"] for r in plan.by_type(NAMESPACE_PATCH) if key in r.inputs["metadata"]["labels"]
    ] == [anchor]
    # Only the class (and its selector) puts an Ingress in the group: the legacy annotations are off.
    values = plan.one(RELEASE, "edge-lb-controller").inputs["values"]
    assert values["disableIngressClassAnnotation"] is True
    assert values["disableIngressGroupNameAnnotation"] is True


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_each_namespace_may_serve_only_the_hosts_granted_to_it(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack).edge
    assert cfg.ingress_hosts, f"{stack} grants its application namespaces their hosts"
    (policy,) = [r for r in plan.by_type(POLICY) if r.inputs["metadata"]["name"] == spec.INGRESS_ADMISSION_POLICY]
    (binding,) = [r for r in plan.by_type(BINDING) if r.inputs["spec"]["policyName"] == spec.INGRESS_ADMISSION_POLICY]
    body = policy.inputs["spec"]
    assert body["failurePolicy"] == "Fail"
    assert binding.inputs["spec"]["validationActions"] == ["Deny"]
    (condition,) = body["matchConditions"]
    assert 'object.spec.ingressClassName == "alb"' in condition["expression"]
    # The hosts: exactly the configured grants, namespace by namespace.
    granted = {f"{ns}/{host}" for ns, hosts in cfg.ingress_hosts.items() for host in hosts}
    rules = body["validations"][0]["expression"]
    assert json.dumps(sorted(granted)) in rules
    assert "has(r.host)" in rules
    assert any("defaultBackend" in v["expression"] for v in body["validations"])
    reserved = [v["expression"] for v in body["validations"] if "group.name" in v["expression"]]
    assert reserved
    assert all(a in reserved[0] for a in spec.GROUP_WIDE_ANNOTATIONS)
    assert {"alb.ingress.kubernetes.io/security-groups", "alb.ingress.kubernetes.io/certificate-arn"} <= set(
        spec.GROUP_WIDE_ANNOTATIONS
    )
    assert any("host-header" in v["expression"] for v in body["validations"])
    # Bound to the application namespaces only: the platform's anchor (security groups, listeners) stays outside.
    app_label = dict([kubernetes.APPLICATION_NAMESPACE_LABEL])
    assert binding.inputs["spec"]["matchResources"]["namespaceSelector"] == {"matchLabels": app_label}
    anchor = plan.one(INGRESS, "edge-group-anchor").inputs["metadata"]["namespace"]
    assert kubernetes.APPLICATION_NAMESPACE_LABEL[0] not in labels_of(plan).get(anchor, {})


def _edge(data: dict[str, Any]) -> tuple[EdgeConfig | None, str]:
    class _Stack(Model):
        edge: EdgeConfig

    problems = Problems()
    context = ValidationContext(
        environment="prod",
        address_plan={
            "prod": ipaddress.IPv4Network("10.10.0.0/16"),
            "stg": ipaddress.IPv4Network("10.20.0.0/16"),
        },
    )
    result = validate(_Stack, {"edge": data}, context=context, project=P, problems=problems)
    return (result.edge if result is not None else None), "\n".join(str(p) for p in problems.items)


BASE = {"lbControllerChartVersion": "1.17.1", "domain": "shop.example.com"}


def test_host_grants_stay_on_the_certificate_and_belong_to_one_namespace() -> None:
    ok, message = _edge({**BASE, "ingressHosts": {"shop": ["shop.example.com", "api.shop.example.com"]}})
    assert ok is not None, message
    for hosts, fragment in [
        (
            {"shop": ["evil.example.com"]},
            'edge.ingressHosts.shop[0]: got "evil.example.com"; allowed: shop.example.com',
        ),
        ({"shop": ["a.b.shop.example.com"]}, "one label under it"),
        ({"shop": ["api.shop.example.com"], "team2": ["api.shop.example.com"]}, "a host no other namespace has"),
    ]:
        config, message = _edge({**BASE, "ingressHosts": hosts})
        assert config is None
        assert fragment in message


# --- the NLB ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_nlb_admits_its_own_vpc_not_the_other_environments(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    if stack_config(stack).edge.nlb is None:
        return
    vpc = ipaddress.ip_network(stack_config(stack).network.vpc_cidr)
    (sg,) = [s for s in plan.by_type("aws:ec2/securityGroup:SecurityGroup") if s.name == "edge-nlb"]
    sources = [
        r.inputs["cidrIpv4"] for r in plan.by_type(INGRESS_RULE) if r.inputs["securityGroupId"] == sg.outputs["id"]
    ]
    assert sources == [str(vpc)]
    for other in WORKLOAD_STACKS:
        if other != stack:
            theirs = ipaddress.ip_network(stack_config(other).network.vpc_cidr)
            assert not any(ipaddress.ip_network(s).overlaps(theirs) for s in sources), other


def test_nlb_ranges_outside_the_vpc_need_a_named_peer_entry() -> None:
    config, message = _edge({**BASE, "nlb": {"scheme": "internal", "allowedCidrs": ["10.0.0.0/8"]}})
    assert config is None
    assert 'edge.nlb.allowedCidrs[0]: got "10.0.0.0/8"; allowed: a block inside this environment\'s VPC' in message
    config, message = _edge({**BASE, "nlb": {"scheme": "internal", "allowedCidrs": ["10.10.4.0/24"]}})
    assert config is not None, message
    config, message = _edge({**BASE, "nlb": {"scheme": "internal", "peerRanges": {"corporate-vpn": "172.20.0.0/16"}}})
    assert config is not None, message
    assert config.nlb is not None
    assert nlb_clients(config.nlb, vpc_cidr="10.10.0.0/16") == {
        "vpc": ("10.10.0.0/16", "this VPC (10.10.0.0/16)"),
        "peer-corporate-vpn": ("172.20.0.0/16", "peer range corporate-vpn (172.20.0.0/16)"),
    }
    config, message = _edge({**BASE, "nlb": {"scheme": "internal", "peerRanges": {"stg": "10.20.0.0/16"}}})
    assert config is None
    assert "does not overlap environment stg's VPC" in message
    assert NlbConfig(scheme="internal").allowed_cidrs is None


# --- service principals -----------------------------------------------------------------------------------------------


def _service_statements(document: str) -> list[dict[str, Any]]:
    return [
        st
        for st in json.loads(document)["Statement"]
        if st["Effect"] == "Allow" and "Service" in st.get("Principal", {})
    ]


def _condition_keys(statement: dict[str, Any]) -> set[str]:
    return {key.lower() for operator in statement.get("Condition", {}).values() for key in operator}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_service_principals_act_only_for_this_account(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    account = stack_config(stack).account_id
    documents = {
        "interruption queue": plan.one("aws:sqs/queuePolicy:QueuePolicy", "nodepools-interruption").inputs["policy"],
        "interruption key": plan.one("aws:kms/key:Key", "nodepools-interruption").inputs["policy"],
        "telemetry key": plan.one("aws:kms/key:Key", "observability-telemetry").inputs["policy"],
        "alert topic": plan.one("aws:sns/topicPolicy:TopicPolicy", "observability-alerts").inputs["policy"],
    }
    for what, document in documents.items():
        statements = _service_statements(document)
        assert statements, what
        for st in statements:
            assert {"aws:sourceaccount", "aws:sourcearn"} <= _condition_keys(st), f"{stack} {what}: {st['Sid']}"
            assert json.dumps(st["Condition"]).count(account) >= 2, f"{what}: both name this account"
    queue = _service_statements(documents["interruption queue"])
    assert [st["Principal"]["Service"] for st in queue] == ["events.amazonaws.com"], "no bare sqs principal"
    (encrypt,) = _service_statements(documents["interruption key"])
    assert "kms:EncryptionContext:aws:sqs:arn" in encrypt["Condition"]["StringEquals"]


# --- the load balancer controller's IAM -------------------------------------------------------------------------------


def test_the_controller_changes_rules_only_on_its_own_security_groups() -> None:
    for st in json.loads(spec.lb_controller_policy("aws"))["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if {"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"} & set(actions):
            assert st["Condition"]["Null"]["aws:ResourceTag/elbv2.k8s.aws/cluster"] == "false", st["Sid"]
    values = spec.lb_controller_values(cluster_name="c", region="eu-west-1", vpc_id="vpc-1", ssl_policy="p", tags={})
    assert values["enableBackendSecurityGroup"] is False


# --- log buckets ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_log_buckets_keep_old_versions_as_long_as_the_logs(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    checked = 0
    for lifecycle in plan.by_type(LIFECYCLE):
        rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
        if "expire" not in rules:
            continue
        kept = rules["noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"]
        assert kept >= rules["expire"]["expiration"]["days"], lifecycle.name
        checked += 1
    names = {r.name for r in plan.by_type(LIFECYCLE)}
    assert "edge-alb-access-logs" in names
    assert checked >= 1


def test_a_bucket_cannot_drop_old_versions_before_its_retention() -> None:
    with pytest.raises(ValueError, match="noncurrent versions"):
        secure_bucket(None, "x", ctx=None, bucket_name="b", kms_key_arn="k", expire_days=90, noncurrent_days=7)  # type: ignore[arg-type]


# --- the metrics source -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_metrics_survive_one_scraper(plans: dict[str, Plan], stack: str) -> None:
    values = plans[stack].one(RELEASE, f"observability-{obs.SCRAPER}").inputs["values"]
    assert values["replicaCount"] == 2
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert values["affinity"]["podAntiAffinity"]
    assert values["topologySpreadConstraints"]
    labels = values["config"]["exporters"]["prometheusremotewrite"]["external_labels"]
    # Amazon Managed Prometheus deduplicates on `cluster` + `__replica__`: one copy of each series is kept.
    assert labels["cluster"]
    assert labels["__replica__"] == "${env:MY_POD_NAME}"
    env = {e["name"]: e for e in values["extraEnvs"]}
    assert env["MY_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
