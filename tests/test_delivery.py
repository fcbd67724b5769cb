"""Delivery in every workload stack: Argo CD, the root application, Argo Rollouts and its canary analysis."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import promql_parser
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.delivery import component as delivery
from components.delivery.config import DeliveryConfig, GitOpsSource
from core.kubernetes import SYSTEM_TOLERATION_POD
from offline.mocks import Recorded
from offline.plan import Plan
from offline.stackfiles import ROOT
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APP_PROJECT_PATCH = "kubernetes:argoproj.io/v1alpha1:AppProjectPatch"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ANALYSIS = "kubernetes:argoproj.io/v1alpha1:ClusterAnalysisTemplate"
SYSTEM_EXPRESSION = {"key": "node-role/system", "operator": "In", "values": ["true"]}


def config(stack: str) -> DeliveryConfig:
    cfg = stack_config(stack).delivery
    assert cfg is not None
    return cfg


def argocd(plan: Plan) -> dict[str, Any]:
    return plan.one(RELEASE, "delivery-argocd").inputs


def rollouts(plan: Plan) -> dict[str, Any]:
    return plan.one(RELEASE, "delivery-argo-rollouts").inputs


def dig(values: Mapping[str, Any], path: str) -> Any:
    """A value by dotted path where each segment is a key: `redis-ha.haproxy.resources`."""
    node: Any = values
    for key in path.split("."):
        node = node[key]
    return node


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, value) of a values tree, lists included."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, item
            yield from walk(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi)$")


def cpu(quantity: str) -> float:
    match = _CPU.match(quantity)
    assert match, quantity
    return float(match[1]) / (1000 if match[2] else 1)


def memory(quantity: str) -> int:
    match = _MEMORY.match(quantity)
    assert match, quantity
    return int(match[1]) * {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[match[2]]


def assert_sized(resources: Mapping[str, Any], where: str) -> None:
    requests, limits = resources["requests"], resources["limits"]
    assert set(requests) == set(limits) == {"cpu", "memory"}, where
    assert 0 < cpu(requests["cpu"]) <= cpu(limits["cpu"]), where
    assert 0 < memory(requests["memory"]) <= memory(limits["memory"]), where


def in_component(plan: Plan, typ: str) -> list[Recorded]:
    (component,) = [r for r in plan.resources if r.type == delivery.TYPE]
    return [r for r in plan.by_type(typ) if r.parent == component.urn]


# ---------------------------------------------------------------------------------------------------------------------
# Charts


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_charts_are_pinned_to_the_configured_versions(plans: dict[str, Plan], stack: str) -> None:
    plan, cfg = plans[stack], config(stack)
    cd, ro = argocd(plan), rollouts(plan)
    assert (cd["chart"], cd["version"], cd["namespace"]) == ("argo-cd", cfg.argocd_chart_version, "argocd")
    assert (ro["chart"], ro["version"], ro["namespace"]) == ("argo-rollouts", cfg.rollouts_chart_version,
                                                             "argo-rollouts")  # fmt: skip
    for release in (cd, ro):
        assert release["repositoryOpts"] == {"repo": "https://argoproj.github.io/argo-helm"}
        assert release["atomic"] is True
        assert release["cleanupOnFail"] is True
        assert release["maxHistory"] == 10
    assert plan.exports["delivery"]["argocdNamespace"] == "argocd"


def test_the_stack_files_pin_the_versions_this_was_written_for() -> None:
    for stack in WORKLOAD_STACKS:
        cfg = config(stack)
        assert (cfg.argocd_chart_version, cfg.rollouts_chart_version) == ("9.5.4", "2.41.0"), stack


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_high_availability_follows_config(plans: dict[str, Plan], stack: str) -> None:
    values = argocd(plans[stack])["values"]
    if config(stack).high_availability:
        assert values["redis-ha"]["enabled"] is True
        assert values["redis-ha"]["hardAntiAffinity"] is True
        assert values["redis-ha"]["haproxy"]["replicas"] >= 2
        assert values["redis-ha"]["podDisruptionBudget"] == {"maxUnavailable": 1}
        assert values["redis-ha"]["haproxy"]["podDisruptionBudget"] == {"maxUnavailable": 1}
        for component in ("server", "repoServer", "applicationSet"):
            assert values[component]["replicas"] >= 2, component
            assert values[component]["pdb"] == {"enabled": True, "maxUnavailable": 1}, component
        assert values["global"]["affinity"]["podAntiAffinity"] == "hard"
    else:
        assert values["redis-ha"] == {"enabled": False}
        for component in ("server", "repoServer", "applicationSet"):
            assert values[component]["replicas"] == 1, component
            assert values[component]["pdb"] == {"enabled": False}, component
    # The application controller shards clusters across replicas; the chart's HA guidance keeps one.
    assert values["controller"]["replicas"] == 1


def test_prod_is_highly_available_and_sandbox_is_not(plans: dict[str, Plan]) -> None:
    prod, sandbox = argocd(plans["prod"])["values"], argocd(plans["sandbox"])["values"]
    assert prod["redis-ha"]["enabled"] is True
    assert min(prod[c]["replicas"] for c in ("server", "repoServer", "applicationSet")) >= 2
    assert sandbox["redis-ha"]["enabled"] is False
    assert max(sandbox[c]["replicas"] for c in ("server", "repoServer", "applicationSet")) == 1


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_no_admin_password_or_other_credential_in_the_values(plans: dict[str, Plan], stack: str) -> None:
    values = argocd(plans[stack])["values"]
    suspicious = [p for p, _ in walk(values) if re.search(r"password|secretkey|token|privatekey", p, re.I)]
    assert suspicious == []
    assert "argocdServerAdminPassword" not in values["configs"]["secret"]
    assert not [p for p, v in walk(values) if isinstance(v, str) and v.startswith("$2")]  # no bcrypt hash
    assert values["configs"]["secret"]["createSecret"] is True  # the chart, not Pulumi, fills argocd-secret
    assert in_component(plans[stack], "kubernetes:core/v1:Secret") == []


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_argocd_server_stays_internal(plans: dict[str, Plan], stack: str) -> None:
    values = argocd(plans[stack])["values"]
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert values["server"]["ingress"]["enabled"] is False
    assert values["configs"]["params"]["server.insecure"] is False
    assert values["dex"]["enabled"] is False


# ---------------------------------------------------------------------------------------------------------------------
# Placement and sizing


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_argocd_component_runs_on_the_system_nodes(plans: dict[str, Plan], stack: str) -> None:
    values = argocd(plans[stack])["values"]
    glob = values["global"]
    assert SYSTEM_TOLERATION_POD in glob["tolerations"]
    assert glob["nodeSelector"]["node-role/system"] == "true"
    assert glob["affinity"]["nodeAffinity"] == {"type": "hard", "matchExpressions": [SYSTEM_EXPRESSION]}
    # No component replaces the global presets with placement of its own.
    for component in ("controller", "server", "repoServer", "applicationSet", "notifications", "redis",
                      "redisSecretInit", "dex", "commitServer"):  # fmt: skip
        for key in ("tolerations", "nodeSelector", "affinity"):
            assert key not in values.get(component, {}), f"{component}.{key} overrides the system-node preset"
    if config(stack).high_availability:
        ha = values["redis-ha"]  # the subchart does not read `global`
        assert SYSTEM_TOLERATION_POD in ha["tolerations"]
        assert "tolerations" not in ha["haproxy"]  # redis-ha's HAProxy reads the top-level tolerations only
        assert ha["nodeSelector"]["node-role/system"] == "true"
        for affinities in (ha["additionalAffinities"], ha["haproxy"]["additionalAffinities"]):
            terms = affinities["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            assert terms == [{"matchExpressions": [SYSTEM_EXPRESSION]}]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_argocd_container_has_requests_and_limits(plans: dict[str, Plan], stack: str) -> None:
    values = argocd(plans[stack])["values"]
    # Everything the chart runs with these values: the default components, minus Dex (off) and the commit server
    # (off by default), plus the repo server's copyutil init container.
    assert values["dex"]["enabled"] is False
    assert values.get("commitServer", {}).get("enabled", False) is False
    assert values.get("server", {}).get("extensions", {}).get("enabled", False) is False
    containers = ["controller", "server", "repoServer", "repoServer.copyutil", "applicationSet", "notifications",
                  "redisSecretInit", "redis"]  # fmt: skip
    if config(stack).high_availability:
        containers += ["redis-ha.redis", "redis-ha.sentinel", "redis-ha.init", "redis-ha.splitBrainDetection",
                       "redis-ha.haproxy", "redis-ha.haproxy.init"]  # fmt: skip
        assert values["redis-ha"].get("exporter", {}).get("enabled", False) is False
    for path in containers:
        assert_sized(dig(values, f"{path}.resources"), path)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_rollouts_controller_is_redundant_on_system_nodes(plans: dict[str, Plan], stack: str) -> None:
    values = rollouts(plans[stack])["values"]
    controller = values["controller"]
    assert controller["replicas"] == 2
    assert controller["pdb"] == {"enabled": True, "maxUnavailable": 1}
    assert SYSTEM_TOLERATION_POD in controller["tolerations"]
    assert controller["nodeSelector"]["node-role/system"] == "true"
    terms = controller["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [{"matchExpressions": [SYSTEM_EXPRESSION]}]
    assert controller["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert_sized(controller["resources"], "rollouts controller")
    assert values["dashboard"]["enabled"] is False
    security = values["containerSecurityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


# ---------------------------------------------------------------------------------------------------------------------
# GitOps bootstrap


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_root_application_follows_the_configured_source(plans: dict[str, Plan], stack: str) -> None:
    plan, cfg = plans[stack], config(stack)
    root = plan.one(APPLICATION, "delivery-argocd-root").inputs
    assert root["metadata"]["namespace"] == "argocd"
    assert root["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    spec = root["spec"]
    assert spec["source"] == {
        "repoURL": cfg.gitops.repo_url,
        "path": cfg.gitops.path,
        "targetRevision": cfg.gitops.target_revision,
    }
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
    # Self-heal everywhere; automatic prune only where the config allows it (never in production).
    assert spec["syncPolicy"]["automated"] == {"prune": cfg.root_auto_prune, "selfHeal": True}
    backoff = spec["syncPolicy"]["retry"]["backoff"]
    assert spec["syncPolicy"]["retry"]["limit"] > 0
    assert backoff["factor"] >= 2
    platform = plan.one(APP_PROJECT, "delivery-argocd-project-platform")
    assert spec["project"] == platform.inputs["metadata"]["name"] == "platform"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_platform_project_only_lets_the_root_create_argo_objects(plans: dict[str, Plan], stack: str) -> None:
    plan, cfg = plans[stack], config(stack)
    spec = plan.one(APP_PROJECT, "delivery-argocd-project-platform").inputs["spec"]
    assert spec["sourceRepos"] == [cfg.gitops.repo_url]
    assert spec["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "argocd"}]
    assert spec["clusterResourceWhitelist"] == []
    # Applications only: projects are the platform's (never AppProject), ApplicationSets are admin-only upstream.
    assert {(r["group"], r["kind"]) for r in spec["namespaceResourceWhitelist"]} == {("argoproj.io", "Application")}


def test_argo_objects_wait_for_their_controllers(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    cd, ro = plan.one(RELEASE, "delivery-argocd"), plan.one(RELEASE, "delivery-argo-rollouts")
    projects, root = [*plan.by_type(APP_PROJECT), *plan.by_type(APP_PROJECT_PATCH)], plan.one(APPLICATION)
    assert len(projects) >= 3  # default, platform, one per application namespace
    assert all(cd.urn in project.dependencies for project in projects)
    # The root's children name the projects: every project Pulumi creates exists before the root.
    assert {cd.urn, *(p.urn for p in plan.by_type(APP_PROJECT))} <= set(root.dependencies)
    assert ro.urn in plan.one(ANALYSIS).dependencies
    # A dependency on a component is a dependency on its children (the node group among them).
    assert any("aws-platform:platform:Cluster$aws:eks/nodeGroup:NodeGroup" in d for d in cd.dependencies)
    assert plan.one("aws:iam/rolePolicy:RolePolicy", "delivery-argo-rollouts-amp-query").urn in ro.dependencies


def test_delivery_resources_are_children_of_the_component(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    (component,) = [r for r in plan.resources if r.type == delivery.TYPE]
    children = {(r.type, r.name) for r in plan.children(component)}
    assert children == {
        (RELEASE, "delivery-argocd"),
        (RELEASE, "delivery-argo-rollouts"),
        (APP_PROJECT_PATCH, "delivery-argocd-project-default"),
        (APP_PROJECT, "delivery-argocd-project-platform"),
        *((APP_PROJECT, f"delivery-argocd-project-{ns}") for ns in stack_config("prod").workloads.namespaces),
        (APPLICATION, "delivery-argocd-root"),
        (ANALYSIS, "delivery-analysis-error-rate"),
        ("aws:iam/role:Role", "delivery-argo-rollouts"),
        ("aws:iam/rolePolicy:RolePolicy", "delivery-argo-rollouts-amp-query"),
        ("kubernetes:core/v1:Namespace", "delivery-argocd"),
        ("kubernetes:core/v1:Namespace", "delivery-argo-rollouts"),
        (NETWORK_POLICY, "delivery-netpol-argocd-default-deny"),
        (NETWORK_POLICY, "delivery-netpol-argo-rollouts-default-deny"),
        (NETWORK_POLICY, "delivery-netpol-argo-rollouts-argo-rollouts-metrics"),
    }


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_namespaces_carry_pod_security_labels_and_precede_the_charts(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    namespaces = {r.inputs["metadata"]["name"]: r for r in in_component(plan, "kubernetes:core/v1:Namespace")}
    assert set(namespaces) == {"argocd", "argo-rollouts"}
    enforced = {"argocd": "baseline", "argo-rollouts": "restricted"}
    for name, namespace in namespaces.items():
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == enforced[name]
        assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"
    for release in (plan.one(RELEASE, "delivery-argocd"), plan.one(RELEASE, "delivery-argo-rollouts")):
        assert release.inputs.get("createNamespace") is not True
        assert namespaces[release.inputs["namespace"]].urn in release.dependencies


# ---------------------------------------------------------------------------------------------------------------------
# Rollouts identity (IRSA)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_rollouts_role_trusts_exactly_its_service_account(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    role = plan.one("aws:iam/role:Role", "delivery-argo-rollouts")
    issuer = plan.exports["cluster"]["oidcIssuer"]
    assert issuer
    assert not issuer.startswith("https://")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": plan.exports["cluster"]["oidcProviderArn"]}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": "system:serviceaccount:argo-rollouts:argo-rollouts",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }
    # The chart creates exactly that service account, annotated with this role.
    release = rollouts(plan)
    account = release["values"]["serviceAccount"]
    assert (release["namespace"], account["name"], account["create"]) == ("argo-rollouts", "argo-rollouts", True)
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": role.outputs["arn"]}
    assert role.outputs["arn"] == plan.exports["delivery"]["rolloutsRoleArn"]
    assert role.inputs["tags"]["Environment"] == stack


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_rollouts_role_may_only_query_the_workspace(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    role = plan.one("aws:iam/role:Role", "delivery-argo-rollouts")
    policies = [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]
    attached = [a for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.inputs["role"] in (role.outputs["id"], role.outputs["name"])]  # fmt: skip
    assert attached == []
    (policy,) = policies
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    workspace = plan.exports["observability"]["prometheusWorkspaceArn"]
    assert re.fullmatch(rf"arn:aws:aps:{stack_config(stack).region}:\d{{12}}:workspace/ws-[\w-]+", workspace)
    assert statement["Resource"] == workspace
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["aps:GetLabels", "aps:GetMetricMetadata", "aps:GetSeries",
                                           "aps:QueryMetrics"]  # fmt: skip


def test_irsa_trust_policy_accepts_an_issuer_url_with_scheme() -> None:
    doc = json.loads(
        delivery.irsa_trust_policy(
            provider_arn="arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            issuer="https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            namespace="ns",
            service_account="sa",
        )
    )
    condition = doc["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:ns:sa",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }


# ---------------------------------------------------------------------------------------------------------------------
# Canary analysis


def template(plan: Plan) -> dict[str, Any]:
    return plan.one(ANALYSIS, "delivery-analysis-error-rate").inputs


def metric(plan: Plan) -> dict[str, Any]:
    (only,) = template(plan)["spec"]["metrics"]
    return only


def evaluate(condition: str, result: list[float]) -> bool:
    """Evaluate a condition the way Argo Rollouts' expr does, for the clause forms it may use, joined by `&&`
    (short-circuit, as in expr: `result[0]` is only read after `len(result) == 1` held). An unknown clause fails the
    test rather than being guessed at."""
    for clause in (c.strip() for c in condition.split("&&")):
        if clause == "len(result) == 1":
            holds = len(result) == 1
        elif clause == "!isNaN(result[0])":
            holds = not math.isnan(result[0])
        elif match := re.fullmatch(r"result\[0\] (<=|>) ([0-9.e-]+)", clause):
            holds = result[0] <= float(match[2]) if match[1] == "<=" else result[0] > float(match[2])
        else:
            raise AssertionError(f"unexpected clause {clause!r}")
        if not holds:
            return False
    return True


def phase(m: Mapping[str, Any], result: list[float]) -> str:
    """The phase Argo Rollouts gives one measurement (utils/evaluate EvaluateResult, v1.9): Failed when the failure
    condition holds, Successful when only the success condition does, Inconclusive when neither does."""
    success, failure = evaluate(m["successCondition"], result), evaluate(m["failureCondition"], result)
    return "Failed" if failure else "Successful" if success else "Inconclusive"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_error_rate_template_is_cluster_wide_and_named_as_documented(plans: dict[str, Plan], stack: str) -> None:
    tpl = template(plans[stack])
    assert tpl["kind"] == "ClusterAnalysisTemplate"
    assert "namespace" not in tpl["metadata"]
    assert tpl["metadata"]["name"] == delivery.ERROR_RATE_TEMPLATE == "error-rate"
    args = {a["name"]: a for a in tpl["spec"]["args"]}
    assert set(args) == {"service-name", "namespace", "canary-hash", "excluded-paths"}
    assert {delivery.ARG_SERVICE_NAME, delivery.ARG_NAMESPACE, delivery.ARG_CANARY_HASH} <= set(args)
    assert "value" not in args["service-name"]  # required: a Rollout must say which service it is
    assert "value" not in args["canary-hash"]  # required: and which pods are the canary's
    assert args["namespace"]["value"] == ".+"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_error_rate_queries_the_workspace_with_sigv4(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    prometheus = metric(plan)["provider"]["prometheus"]
    assert prometheus["authentication"] == {"sigv4": {"region": stack_config(stack).region}}
    endpoint = plan.exports["observability"]["prometheusEndpoint"]
    assert endpoint.endswith("/")
    assert prometheus["address"] == endpoint.rstrip("/")
    assert re.fullmatch(
        r"https://aps-workspaces\.[a-z0-9-]+\.amazonaws\.com/workspaces/ws-[\w-]+", prometheus["address"]
    )


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_error_rate_threshold_is_the_configured_one(plans: dict[str, Plan], stack: str) -> None:
    m = metric(plans[stack])
    limit = config(stack).canary_max_error_rate
    assert phase(m, [limit]) == "Successful"
    assert phase(m, [limit * 0.5]) == "Successful"
    assert phase(m, [0.0]) == "Successful"
    assert phase(m, [limit * 1.01]) == "Failed"
    assert phase(m, [1.0]) == "Failed"
    # No data is never a success: no requests in the window (NaN) or no canary series at all (empty) is inconclusive.
    assert phase(m, [float("nan")]) == "Inconclusive"
    assert phase(m, []) == "Inconclusive"
    assert m["interval"] == "1m"
    # Long enough to cover the golden path's whole canary (12 minutes of steps after its analysis starts).
    assert m["count"] >= 12
    assert 1 <= m["failureLimit"] < m["count"]
    assert m["consecutiveErrorLimit"] >= 1


def test_thresholds_differ_per_environment(plans: dict[str, Plan]) -> None:
    limits = {stack: config(stack).canary_max_error_rate for stack in WORKLOAD_STACKS}
    assert limits == {"prod": 0.01, "stg": 0.02, "sandbox": 0.05}
    for stack, limit in limits.items():
        assert metric(plans[stack])["successCondition"].endswith(f"<= {limit}")
        assert metric(plans[stack])["failureCondition"].endswith(f"> {limit}")


def selectors(query: str) -> list[dict[str, tuple[str, str]]]:
    """The label matchers of every vector selector in a PromQL query, as {label: (op, value)}."""
    found: list[dict[str, tuple[str, str]]] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = {m.name: (str(m.op), m.value) for m in node.matchers.matchers}
            matchers["__name__"] = ("=", node.name or "")
            found.append(matchers)

    promql_parser.walk(promql_parser.parse(query), visit)
    return found


def test_error_rate_query_is_valid_promql_over_5xx_per_service(plans: dict[str, Plan]) -> None:
    query = metric(plans["prod"])["provider"]["prometheus"]["query"]
    for arg in ("service-name", "namespace", "canary-hash", "excluded-paths"):
        assert f"{{{{args.{arg}}}}}" in query
    resolved = (
        query.replace("{{args.service-name}}", "hello")
        .replace("{{args.namespace}}", ".+")
        .replace("{{args.canary-hash}}", "6d8f7c9b5d")
        .replace("{{args.excluded-paths}}", delivery.DEFAULT_EXCLUDED_PATHS)
    )
    found = selectors(resolved)
    assert len(found) == 3  # the 5xx numerator, the canary's own total (numerator when it has no 5xx), the total
    assert all(s["__name__"] == ("=", "http_requests_total") for s in found)
    assert all(s["app"][1] == "hello" and s["namespace"][1] == ".+" for s in found)
    # Every selector reads the canary's pods only.
    assert all(s["pod"] == ("MatchOp.Re", ".+-6d8f7c9b5d-[a-z0-9]+") for s in found)
    assert all(s["path"] == ("MatchOp.NotRe", delivery.DEFAULT_EXCLUDED_PATHS) for s in found)
    errors = [s for s in found if "code" in s]
    assert len(errors) == 1
    assert errors[0]["code"][1] == "5.."
    assert "[2m]" in resolved
    assert "vector(" not in resolved  # no constant that turns missing data into a passing 0


@given(st.floats(min_value=0.0001, max_value=0.9999))
def test_success_condition_separates_at_the_threshold(limit: float) -> None:
    m = {"successCondition": delivery.success_condition(limit), "failureCondition": delivery.failure_condition(limit)}
    assert phase(m, [limit]) == "Successful"
    assert phase(m, [min(1.0, limit * 1.001 + 1e-9)]) == "Failed"
    assert phase(m, []) == phase(m, [float("nan")]) == "Inconclusive"


def test_prometheus_address_has_no_trailing_slash() -> None:
    base = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/"
    assert delivery.prometheus_address(base) == base[:-1]
    assert delivery.prometheus_address(base[:-1]) == base[:-1]


def test_values_builders_are_pure_and_follow_the_flag() -> None:
    base = DeliveryConfig(
        argoCdChartVersion="9.5.4",  # the field's alias: the type checker knows the model's constructor by it
        rollouts_chart_version="2.41.0",
        high_availability=False,
        gitops=GitOpsSource(repo_url="https://github.com/acme/gitops.git", path="clusters/x", target_revision="v1"),
        canary_max_error_rate=0.03,
    )
    ha = DeliveryConfig(**{**base.__dict__, "high_availability": True})
    assert delivery.argocd_values(base)["redis-ha"] == {"enabled": False}
    assert delivery.argocd_values(ha)["redis-ha"]["enabled"] is True
    assert delivery.root_application(base)["spec"]["source"]["targetRevision"] == "v1"


# ---------------------------------------------------------------------------------------------------------------------
# The golden-path application uses the template as documented


def golden_path_rollouts() -> list[dict[str, Any]]:
    documents = yaml.safe_load_all((ROOT / "apps" / "hello" / "deploy" / "rollout.yaml").read_text())
    return [d for d in documents if d and d.get("kind") == "Rollout"]


def test_golden_path_rollout_references_the_cluster_template_with_its_arguments(plans: dict[str, Plan]) -> None:
    tpl = template(plans["prod"])
    declared = {a["name"]: a for a in tpl["spec"]["args"]}
    required = {name for name, arg in declared.items() if "value" not in arg}
    m = metric(plans["prod"])
    (rollout,) = golden_path_rollouts()
    canary = rollout["spec"]["strategy"]["canary"]
    analysis = canary["analysis"]
    assert {"templateName": delivery.ERROR_RATE_TEMPLATE, "clusterScope": True} in analysis["templates"]
    passed = {a["name"]: a.get("value") for a in analysis["args"]}
    assert required <= set(passed) <= set(declared)
    # The query selects on `app`, which the observability scrape config copies from `app.kubernetes.io/name`.
    pod_labels = rollout["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app.kubernetes.io/name"] == passed[delivery.ARG_SERVICE_NAME]
    # Background analysis from `startingStep` on: the template measures long enough to cover the remaining pauses.
    minutes = {"s": 1 / 60, "m": 1, "h": 60}
    pauses = [
        float(step["pause"]["duration"][:-1]) * minutes[step["pause"]["duration"][-1]]
        for step in canary["steps"][analysis.get("startingStep", 0) :]
        if "pause" in step
    ]
    assert m["interval"] == "1m"
    assert sum(pauses) <= m["count"]
