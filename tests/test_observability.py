"""Observability in every workload stack: log shipping, the Prometheus workspace and its alerts, the collectors."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import kubernetes_validate
import promql_parser
import pytest
import yaml

from components.nodepools import karpenter
from components.observability import alert_rules
from components.observability import component as obs
from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
BUCKET = "aws:s3/bucket:Bucket"
NAMESPACE = "kubernetes:core/v1:Namespace"
COMPONENT = "observability"
"""The component's name in `__main__.py`: its children are named `<component>-<key>`."""


def logical(key: str) -> str:
    """The logical name of the component's child `key`."""
    return f"{COMPONENT}-{key}"


def component(plan: Plan) -> Recorded:
    (parent,) = plan.by_type(obs.TYPE)
    return parent


def children(plan: Plan, typ: str) -> list[Recorded]:
    parent = component(plan)
    return [r for r in plan.by_type(typ) if r.parent == parent.urn]


def child(plan: Plan, typ: str, key: str) -> Recorded:
    (found,) = [r for r in children(plan, typ) if r.name == logical(key)]
    return found


def values(plan: Plan, release: str) -> dict[str, Any]:
    return child(plan, RELEASE, release).inputs["values"]


def key_policy(plan: Plan, name: str) -> list[dict[str, Any]]:
    return json.loads(child(plan, KEY, name).inputs["policy"])["Statement"]


def key_arn(plan: Plan, name: str) -> str:
    return child(plan, KEY, name).outputs["arn"]


def statements(document: str) -> list[dict[str, Any]]:
    return json.loads(document)["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def observability_config(stack: str) -> Any:
    cfg = stack_config(stack).observability
    assert cfg is not None
    return cfg


# ---------------------------------------------------------------------------------------------------------------------
# Fluent Bit


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_fluent_bit_runs_on_every_node_pinned_to_the_configured_chart(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    release = child(plan, RELEASE, obs.FLUENT_BIT)
    inputs = release.inputs
    assert inputs["chart"] == "aws-for-fluent-bit"
    assert inputs["version"] == observability_config(stack).fluent_bit_chart_version
    assert inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert (inputs["atomic"], inputs["cleanupOnFail"], inputs["maxHistory"]) == (True, True, 10)
    v = inputs["values"]
    # Tolerating every taint means exactly one toleration with operator Exists and no key or effect.
    assert v["tolerations"] == [{"operator": "Exists"}]
    assert v["priorityClassName"] == "system-node-critical"
    assert set(v["resources"]) == {"requests", "limits"}
    assert v["resources"]["limits"]["memory"]
    assert "nodeSelector" not in v
    assert "affinity" not in v


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_container_logs_go_to_a_precreated_encrypted_group_with_retention(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    cw = values(plan, obs.FLUENT_BIT)["cloudWatchLogs"]
    assert cw["enabled"] is True
    assert cw["autoCreateGroup"] is False, "the agent must not create (unencrypted, never-expiring) groups"
    assert cw["region"] == cfg.region
    (group,) = [g for g in children(plan, LOG_GROUP) if g.inputs["name"] == cw["logGroupName"]]
    assert group.inputs["retentionInDays"] == cfg.log_retention_days
    assert group.inputs["kmsKeyId"] == key_arn(plan, "logs")
    assert group.protect == cfg.protect_stateful
    assert plan.exports["observability"]["applicationLogGroup"] == cw["logGroupName"]
    # The key admits CloudWatch Logs for exactly the groups it encrypts.
    (logs_statement,) = [s for s in key_policy(plan, "logs") if s["Sid"] == "CloudWatchLogsUsesKey"]
    pattern = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    for g in children(plan, LOG_GROUP):
        assert fnmatch.fnmatch(f"arn:aws:logs:{cfg.region}:{cfg.account_id}:log-group:{g.inputs['name']}", pattern)
        assert g.inputs["kmsKeyId"] == key_arn(plan, "logs")
        assert g.inputs["retentionInDays"] == cfg.log_retention_days


def test_the_stacks_exercise_both_archive_settings() -> None:
    assert observability_config("sandbox").logs_to_s3 is False
    assert observability_config("prod").logs_to_s3 is True


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_s3_archive_exists_only_when_configured(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = observability_config(stack)
    s3 = values(plan, obs.FLUENT_BIT)["s3"]
    buckets = children(plan, BUCKET)
    policy = statements(child(plan, ROLE_POLICY, "fluent-bit").inputs["policy"])
    if not cfg.logs_to_s3:
        assert s3 == {"enabled": False}
        assert buckets == []
        assert not [a for st in policy for a in as_list(st["Action"]) if a.startswith(("s3:", "kms:"))]
        return
    (bucket,) = buckets
    name = bucket.inputs["bucket"]
    assert s3["enabled"] is True
    assert s3["bucket"] == name
    assert s3["compression"] == "gzip"
    assert s3["s3KeyFormat"].startswith(f"/{obs.ARCHIVE_PREFIX}/")
    (sse,) = [
        r
        for r in plan.by_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if r.parent == component(plan).urn
    ]
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key_arn(plan, "logs"),
    }
    (lifecycle,) = [
        r
        for r in plan.by_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if r.parent == component(plan).urn
    ]
    (expire,) = [r for r in lifecycle.inputs["rules"] if "expiration" in r]
    assert expire["expiration"]["days"] == cfg.log_archive_days
    (put,) = [st for st in policy if st["Action"] == "s3:PutObject"]
    assert put["Resource"] == f"arn:aws:s3:::{name}/{obs.ARCHIVE_PREFIX}/*"
    (kms,) = [st for st in policy if st["Sid"] == "EncryptArchive"]
    assert kms["Resource"] == key_arn(plan, "logs")
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


# ---------------------------------------------------------------------------------------------------------------------
# Identities


ROLES = {"fluent-bit": ("logging", obs.FLUENT_BIT), "otel-gateway": ("observability", obs.GATEWAY),
         "otel-scraper": ("observability", obs.SCRAPER)}  # fmt: skip
RELEASE_OF_ROLE = {"fluent-bit": obs.FLUENT_BIT, "otel-gateway": obs.GATEWAY, "otel-scraper": obs.SCRAPER}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_each_agent_has_a_pod_identity_for_its_own_service_account(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    for role_name, (namespace, service_account) in ROLES.items():
        role = child(plan, ROLE, role_name)
        (trust,) = statements(role.inputs["assumeRolePolicy"])
        assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == namespace
        assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == service_account
        association = child(plan, ASSOCIATION, role_name)
        assert association.inputs["namespace"] == namespace
        assert association.inputs["serviceAccount"] == service_account
        assert association.inputs["clusterName"] == cfg.cluster_name
        release = child(plan, RELEASE, RELEASE_OF_ROLE[role_name])
        assert release.inputs["namespace"] == namespace
        assert release.inputs["values"]["serviceAccount"] == {"create": True, "name": service_account}
        # The pods must not start before their credentials exist.
        assert association.urn in release.dependencies


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_role_policies_name_their_resources(plans: dict[str, Plan], stack: str) -> None:
    """Least privilege: every action these agents need can be scoped to a resource, so none may be `*`."""
    plan = plans[stack]
    policies = children(plan, ROLE_POLICY)
    assert {p.name for p in policies} == {logical(role) for role in ROLES}
    for policy in policies:
        for st in statements(policy.inputs["policy"]):
            assert st["Effect"] == "Allow"
            for resource in as_list(st["Resource"]):
                assert "*" not in resource.split(":")[:6], f"{policy.name}/{st['Sid']}: {resource}"
                assert resource != "*"
            for action in as_list(st["Action"]):
                assert not action.endswith("*"), f"{policy.name}: {action}"
    workspace = plan.exports["observability"]["prometheusWorkspaceArn"]
    for name in ("otel-gateway", "otel-scraper"):
        (write,) = [
            st for st in statements(child(plan, ROLE_POLICY, name).inputs["policy"]) if st["Sid"] == "RemoteWrite"
        ]
        assert (write["Action"], write["Resource"]) == ("aps:RemoteWrite", workspace)
    # No agent may create log groups: only streams in the pre-created, encrypted group.
    actions = {a for p in policies for st in statements(p.inputs["policy"]) for a in as_list(st["Action"])}
    assert "logs:CreateLogGroup" not in actions
    attachments = children(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a.inputs["policyArn"] for a in attachments] == ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"]
    assert attachments[0].name.startswith(logical("otel-gateway"))


# ---------------------------------------------------------------------------------------------------------------------
# Prometheus workspace, rules and alerts


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_workspace_is_encrypted_with_a_key_prometheus_may_use(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    workspace = child(plan, "aws:amp/workspace:Workspace", "prometheus")
    assert workspace.inputs["kmsKeyArn"] == key_arn(plan, "telemetry")
    assert workspace.protect == cfg.protect_stateful
    key = child(plan, KEY, "telemetry")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    (via,) = [s for s in key_policy(plan, "telemetry") if s["Sid"] == "UseThroughAwsServices"]
    assert f"aps.{cfg.region}.amazonaws.com" in via["Condition"]["StringEquals"]["kms:ViaService"]
    assert via["Condition"]["StringEquals"]["kms:CallerAccount"] == cfg.account_id
    (group,) = [g for g in children(plan, LOG_GROUP) if g.name == logical("prometheus")]
    assert workspace.inputs["loggingConfiguration"]["logGroupArn"] == f"{group.outputs['arn']}:*"


def test_rule_file_is_deployed_to_the_workspace(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    rules = child(plan, "aws:amp/ruleGroupNamespace:RuleGroupNamespace", "platform-rules")
    assert rules.inputs["data"] == alert_rules.rule_file()


RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def test_rule_file_has_the_prometheus_rule_file_shape() -> None:
    doc = yaml.safe_load(alert_rules.rule_file())
    assert set(doc) == {"groups"}
    group_names = [g["name"] for g in doc["groups"]]
    assert len(group_names) == len(set(group_names))
    names: list[str] = []
    for group in doc["groups"]:
        assert set(group) <= {"name", "interval", "limit", "rules", "query_offset"}
        assert "interval" not in group or DURATION.match(group["interval"])
        assert group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS, rule
            assert ("record" in rule) != ("alert" in rule), rule
            assert isinstance(rule["expr"], str)
            assert rule["expr"]
            if "record" in rule:
                assert METRIC_NAME.match(rule["record"]), rule["record"]
                assert not {"for", "annotations"} & set(rule), "recording rules take no for/annotations"
                names.append(rule["record"])
            else:
                assert DURATION.match(rule["for"])
                names.append(rule["alert"])
    assert len(names) == len(set(names)), "rule names must be unique"


@pytest.mark.parametrize(
    "rule", alert_rules.RECORDING_RULES + alert_rules.ALERTS, ids=lambda r: r.get("alert") or r["record"]
)
def test_every_rule_expression_parses(rule: dict[str, Any]) -> None:
    promql_parser.parse(rule["expr"])


def test_the_parser_rejects_a_broken_expression() -> None:
    with pytest.raises(ValueError, match="parenthesis"):
        promql_parser.parse("sum(rate(x[5m])")


@pytest.mark.parametrize("alert", alert_rules.ALERTS, ids=lambda a: a["alert"])
def test_every_alert_has_a_duration_severity_and_summary(alert: dict[str, Any]) -> None:
    assert DURATION.match(alert["for"])
    assert alert["labels"]["severity"] in {"critical", "warning", "info"}
    assert alert["annotations"]["summary"].strip()


def test_recorded_series_used_by_alerts_are_defined() -> None:
    recorded = {r["record"] for r in alert_rules.RECORDING_RULES}
    used = {name for a in alert_rules.ALERTS for name in re.findall(r"[a-z_]+:[a-z_:0-9]+", a["expr"])}
    assert used <= recorded


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_alert_manager_routes_every_alert_to_the_encrypted_topic(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    topic = child(plan, "aws:sns/topic:Topic", "alerts")
    topic_arn = topic.outputs["arn"]
    assert plan.exports["observability"]["alertTopicArn"] == topic_arn
    definition = child(plan, "aws:amp/alertManagerDefinition:AlertManagerDefinition", "alerts").inputs["definition"]
    config = yaml.safe_load(yaml.safe_load(definition)["alertmanager_config"])
    receivers = {r["name"]: r for r in config["receivers"]}
    (sns,) = receivers[config["route"]["receiver"]]["sns_configs"]
    assert sns["topic_arn"] == topic_arn
    assert sns["sigv4"] == {"region": cfg.region}
    assert "routes" not in config["route"], "no sub-route may send alerts elsewhere"
    # The topic is encrypted with a key the alert manager may use, and only this workspace may publish.
    assert topic.inputs["kmsMasterKeyId"] == key_arn(plan, "telemetry")
    (aps_key,) = [s for s in key_policy(plan, "telemetry") if s.get("Principal") == {"Service": "aps.amazonaws.com"}]
    assert sorted(aps_key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    policy = statements(child(plan, "aws:sns/topicPolicy:TopicPolicy", "alerts").inputs["policy"])
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "aps.amazonaws.com"}
    assert sorted(allow["Action"]) == ["sns:GetTopicAttributes", "sns:Publish"]
    assert allow["Resource"] == topic_arn
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == plan.exports["observability"]["prometheusWorkspaceArn"]
    assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == cfg.account_id
    subscriptions = children(plan, "aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(observability_config(stack).alert_emails)
    assert {s.inputs["protocol"] for s in subscriptions} <= {"email"}


# ---------------------------------------------------------------------------------------------------------------------
# Collection


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
@pytest.mark.parametrize("release", [obs.GATEWAY, obs.SCRAPER])
def test_collectors_remote_write_to_the_workspace_with_sigv4(plans: dict[str, Plan], stack: str, release: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    r = child(plan, RELEASE, release)
    assert r.inputs["chart"] == "opentelemetry-collector"
    assert r.inputs["version"] == observability_config(stack).otel_collector_chart_version
    assert r.inputs["repositoryOpts"] == {"repo": "https://open-telemetry.github.io/opentelemetry-helm-charts"}
    v = r.inputs["values"]
    assert v["image"]["repository"] == "otel/opentelemetry-collector-contrib"
    assert v["command"]["name"] == "otelcol-contrib"
    config = v["config"]
    endpoint = plan.exports["observability"]["prometheusEndpoint"]
    assert endpoint.endswith("/")
    rw = config["exporters"]["prometheusremotewrite"]
    assert rw["endpoint"] == f"{endpoint}api/v1/remote_write"
    assert rw["auth"] == {"authenticator": "sigv4auth"}
    assert config["extensions"]["sigv4auth"] == {"region": cfg.region, "service": "aps"}
    assert "sigv4auth" in config["service"]["extensions"]
    assert "health_check" in config["service"]["extensions"], "the chart's probes need the health_check extension"
    assert config["service"]["pipelines"]["metrics"]["exporters"] == ["prometheusremotewrite"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_gateway_takes_otlp_and_sends_traces_to_xray(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = stack_config(stack)
    v = values(plan, obs.GATEWAY)
    config = v["config"]
    protocols = config["receivers"]["otlp"]["protocols"]
    assert set(protocols) == {"grpc", "http"}
    assert config["exporters"]["awsxray"] == {"region": cfg.region}
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["awsxray"]
    assert all(p["receivers"] == ["otlp"] for p in pipelines.values())
    logs = config["exporters"]["awscloudwatchlogs"]
    assert logs["log_group_name"] == plan.exports["observability"]["applicationLogGroup"]
    enabled = {name for name, port in v["ports"].items() if port.get("enabled")}
    assert enabled == {"otlp", "otlp-http"}
    assert all(v["ports"][p]["hostPort"] == 0 for p in enabled), "a Deployment must not claim host ports"
    assert v["replicaCount"] == 2
    assert v["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    # Every X-Ray write is allowed by the managed policy attached to the gateway's role only.
    xray = child(plan, "aws:xray/encryptionConfig:EncryptionConfig", "xray")
    assert (xray.inputs["type"], xray.inputs["keyId"]) == ("KMS", key_arn(plan, "telemetry"))
    (via,) = [s for s in key_policy(plan, "telemetry") if s["Sid"] == "UseThroughAwsServices"]
    assert f"xray.{cfg.region}.amazonaws.com" in via["Condition"]["StringEquals"]["kms:ViaService"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_scraper_scrapes_the_platform_targets(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    v = values(plan, obs.SCRAPER)
    # Two scrapers (one may fail); each writes as its own `__replica__`, so the workspace keeps one copy per series.
    assert v["replicaCount"] == 2
    labels = v["config"]["exporters"]["prometheusremotewrite"]["external_labels"]
    assert labels["__replica__"] == "${env:MY_POD_NAME}"
    assert "cluster" in labels
    prom = v["config"]["receivers"]["prometheus"]["config"]
    jobs = {job["job_name"]: job for job in prom["scrape_configs"]}
    assert {"kube-state-metrics", "karpenter", "kubernetes-pods"} <= set(jobs)
    ksm_release = child(plan, RELEASE, obs.KUBE_STATE_METRICS)
    (target,) = jobs["kube-state-metrics"]["static_configs"][0]["targets"]
    port = ksm_release.inputs["values"]["service"]["port"]
    assert target == f"{obs.KUBE_STATE_METRICS}.{ksm_release.inputs['namespace']}.svc.cluster.local:{port}"
    (sd,) = jobs["karpenter"]["kubernetes_sd_configs"]
    assert sd["namespaces"]["names"] == [karpenter.NAMESPACE]
    keep = jobs["karpenter"]["relabel_configs"][0]
    assert keep["action"] == "keep"
    assert keep["regex"] == "karpenter;http-metrics"
    pods = jobs["kubernetes-pods"]["relabel_configs"]
    assert pods[0] == {
        "action": "keep",
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "regex": "true",
    }
    # The collector expands ${...}: a Prometheus `$1` must be written `$$1`, and only env references use `${`.
    text = json.dumps(prom)
    assert not re.search(r"(?<!\$)\$(\d)", text)
    assert set(re.findall(r"\$\{([^}]*)\}", text)) <= {"env:MY_POD_IP"}
    # The chart's default OTLP pipelines are removed: the scraper only scrapes.
    assert v["config"]["service"]["pipelines"]["traces"] is None
    assert {name for name, p in v["ports"].items() if p.get("enabled")} == {"metrics"}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_only_the_scraper_reads_the_cluster_and_only_read_only(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    rbac = values(plan, obs.SCRAPER)["clusterRole"]
    assert rbac["create"] is True
    granted = {(group, res) for rule in rbac["rules"] for group in rule["apiGroups"] for res in rule["resources"]}
    assert granted == {("", "pods"), ("", "services"), ("discovery.k8s.io", "endpointslices")}
    assert {verb for rule in rbac["rules"] for verb in rule["verbs"]} == {"get", "list", "watch"}
    assert "clusterRole" not in values(plan, obs.GATEWAY)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_collection_runs_on_system_nodes_with_requests_and_limits(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    releases = children(plan, RELEASE)
    assert {r.name for r in releases} == {
        logical(key) for key in (obs.FLUENT_BIT, obs.KUBE_STATE_METRICS, obs.GATEWAY, obs.SCRAPER)
    }
    cfg = observability_config(stack)
    ksm = child(plan, RELEASE, obs.KUBE_STATE_METRICS)
    assert ksm.inputs["version"] == cfg.kube_state_metrics_chart_version
    assert ksm.inputs["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
    assert ksm.inputs["values"]["replicas"] == 1
    for r in releases:
        v = r.inputs["values"]
        assert (r.inputs["atomic"], r.inputs["cleanupOnFail"], r.inputs["maxHistory"]) == (True, True, 10), r.name
        assert set(v["resources"]["requests"]) == {"cpu", "memory"}, r.name
        assert set(v["resources"]["limits"]) == {"cpu", "memory"}, r.name
        if r.name == logical(obs.FLUENT_BIT):
            continue
        assert v["nodeSelector"] == {"node-role/system": "true"}, r.name
        assert {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"} in v["tolerations"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_namespaces_are_valid_with_explicit_pod_security(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    found = {}
    for ns in children(plan, NAMESPACE):
        obj = {k: ns.inputs[k] for k in ("apiVersion", "kind", "metadata")}
        kubernetes_validate.validate(obj, "1.34", strict=True)
        found[obj["metadata"]["name"]] = obj["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    # Fluent Bit mounts host paths (privileged); everything else meets the restricted profile.
    assert found == {"logging": "privileged", "observability": "restricted"}
    restricted = values(plan, obs.GATEWAY)
    assert restricted["podSecurityContext"]["runAsNonRoot"] is True
    assert restricted["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert restricted["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert restricted["securityContext"]["allowPrivilegeEscalation"] is False


def test_namespace_validation_rejects_a_broken_object() -> None:
    bad = obs.namespace_manifest("Not_A_Name", "restricted", environment="prod")
    bad["metadata"]["labelz"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.34", strict=True)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_key_rotates_and_stateful_resources_are_protected(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    protect = stack_config(stack).protect_stateful
    keys = children(plan, KEY)
    assert {k.name for k in keys} == {logical("logs"), logical("telemetry")}
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
        assert key.protect == protect
    for bucket in children(plan, BUCKET):
        assert bucket.protect == protect
