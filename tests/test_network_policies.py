"""Issue 14, the pod network and the namespaces: every namespace the platform creates is isolated by default, carries
Pod Security labels and is protected where stateful resources are; each component gets only the paths it needs.

The NetworkPolicies are read from the rendered plan and judged by a small evaluator of NetworkPolicy semantics
(`allowed`): a connection passes when the source may send it (egress) and the destination may receive it (ingress),
each direction open unless some policy selecting the pod isolates it, then open only to what a selecting policy's rule
allows. The VPC CNI's agent always admits the pod's own node (kubelet probes), which these checks never rely on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.network.cidr import plan_subnets
from components.workloads import component as workloads
from core import kubernetes
from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

NAMESPACE = "kubernetes:core/v1:Namespace"
NAMESPACE_PATCH = "kubernetes:core/v1:NamespacePatch"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
RELEASE = "kubernetes:helm.sh/v3:Release"
PSS_MODES = ("enforce", "audit", "warn")


# --- a NetworkPolicy evaluator ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str = "10.255.255.1"


@dataclass(frozen=True)
class Address:
    """An endpoint that is no pod (the ALB's interface, RDS, the API server's interface, the internet)."""

    ip: str


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"the evaluator reads matchLabels only: {selector}"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_matches(
    peer: Mapping[str, Any], other: Pod | Address, policy_ns: str, ns_labels: Mapping[str, Mapping[str, str]]
) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        inside = ipaddress.ip_address(other.ip) in ipaddress.ip_network(block["cidr"])
        return inside and not any(
            ipaddress.ip_address(other.ip) in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], ns_labels.get(other.namespace, {})):
            return False
    elif other.namespace != policy_ns:
        return False
    return _matches(peer.get("podSelector", {}), other.labels)


def _port_matches(rule: Mapping[str, Any], port: int, protocol: str) -> bool:
    entries = rule.get("ports")
    return not entries or any(e.get("protocol", "TCP") == protocol and e.get("port") == port for e in entries)


def _direction_allows(
    policies: list[dict[str, Any]],
    pod: Pod,
    other: Pod | Address,
    port: int,
    protocol: str,
    kind: str,
    ns_labels: Mapping[str, Mapping[str, str]],
) -> bool:
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and kind in p["spec"]["policyTypes"]
        and _matches(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    for p in selecting:
        for rule in p["spec"].get(key, []):
            peers = rule.get(peers_key)
            peer_ok = peers is None or any(
                _peer_matches(peer, other, p["metadata"]["namespace"], ns_labels) for peer in peers
            )
            if peer_ok and _port_matches(rule, port, protocol):
                return True
    return False


def allowed(plan: Plan, source: Pod | Address, destination: Pod | Address, port: int, protocol: str = "TCP") -> bool:
    """Whether the plan's NetworkPolicies let `source` open `port` on `destination`."""
    policies = network_policies(plan)
    ns_labels = namespace_labels(plan)
    egress = not isinstance(source, Pod) or _direction_allows(
        policies, source, destination, port, protocol, "Egress", ns_labels
    )
    ingress = not isinstance(destination, Pod) or _direction_allows(
        policies, destination, source, port, protocol, "Ingress", ns_labels
    )
    return egress and ingress


# --- plan readers -----------------------------------------------------------------------------------------------------


def network_policies(plan: Plan) -> list[dict[str, Any]]:
    return [{"metadata": r.inputs["metadata"], "spec": r.inputs["spec"]} for r in plan.by_type(NETWORK_POLICY)]


OWNERS = ("Workloads", "Observability", "NodePools", "Edge")
"""The components whose namespaces these tests judge (argocd and argo-rollouts are the delivery component's)."""


def created_namespaces(plan: Plan) -> dict[str, Any]:
    """The namespaces the workloads, observability, node-pool and edge components create."""
    owners = {r.urn for r in plan.resources if r.type in {f"aws-platform:platform:{o}" for o in OWNERS}}
    return {r.inputs["metadata"]["name"]: r for r in plan.by_type(NAMESPACE) if r.parent in owners}


def namespace_labels(plan: Plan) -> dict[str, dict[str, str]]:
    """Every namespace's labels as the plan leaves them (created ones, patched ones), plus the automatic name label."""
    labels: dict[str, dict[str, str]] = {}
    for r in [*plan.by_type(NAMESPACE), *plan.by_type(NAMESPACE_PATCH)]:
        name = r.inputs["metadata"]["name"]
        labels.setdefault(name, {kubernetes.NAMESPACE_NAME_LABEL: name}).update(r.inputs["metadata"].get("labels", {}))
    for name in ("kube-system", "default", "argocd", "argo-rollouts"):
        labels.setdefault(name, {kubernetes.NAMESPACE_NAME_LABEL: name})
    return labels


def subnets(stack: str) -> Any:
    net = stack_config(stack).network
    return plan_subnets(net.vpc_cidr, net.availability_zones)


def app(stack: str) -> tuple[str, str]:
    cfg = stack_config(stack).database.app
    return cfg.namespace, cfg.service_account


SCRAPER = Pod("observability", {kubernetes.INSTANCE_LABEL: kubernetes.METRICS_SCRAPER})
GATEWAY = Pod("observability", {kubernetes.INSTANCE_LABEL: kubernetes.OTLP_GATEWAY})
COREDNS = Pod("kube-system", kubernetes.KUBE_DNS_POD_LABELS)
LB_CONTROLLER = Pod(
    "kube-system",
    {
        "app.kubernetes.io/name": "aws-load-balancer-controller",
        "app.kubernetes.io/instance": "aws-load-balancer-controller",
    },
)
KARPENTER = Pod("kube-system", {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"})
INTERNET = Address("203.0.113.10")


# --- every namespace --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_namespace_the_platform_creates_denies_ingress_by_default(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    namespaces = created_namespaces(plan)
    assert {*stack_config(stack).workloads.namespaces, "observability", "logging", "vpa"} <= set(namespaces)
    policies = network_policies(plan)
    for name in [*namespaces, "default"]:
        deny = [
            p
            for p in policies
            if p["metadata"]["namespace"] == name
            and p["spec"]["podSelector"] == {}
            and "Ingress" in p["spec"]["policyTypes"]
            and not p["spec"].get("ingress")
        ]
        assert deny, f"{stack}: namespace {name} has no default-deny ingress NetworkPolicy"
        # Nothing outside the platform's own paths reaches any pod of it: not the internet, not a stray pod.
        stray = Pod("stray-namespace", {"app": "anything"})
        assert not allowed(plan, INTERNET, Pod(name, {"app": "x"}), 8080), name
        assert not allowed(plan, stray, Pod(name, {"app": "x"}), 8080), name


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_namespace_the_platform_creates_or_patches_has_pod_security_labels(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    labelled = {name: r.inputs["metadata"].get("labels", {}) for name, r in created_namespaces(plan).items()}
    default = [r for r in plan.by_type(NAMESPACE_PATCH) if r.inputs["metadata"]["name"] == "default"]
    assert len(default) == 1, "`default` gets its labels from a patch, never a replaced Namespace"
    labelled["default"] = default[0].inputs["metadata"]["labels"]
    assert {"vpa", "default"} <= set(labelled)
    for name, labels in labelled.items():
        for mode in PSS_MODES:
            level = labels.get(f"pod-security.kubernetes.io/{mode}")
            assert level in kubernetes.POD_SECURITY_LEVELS, f"{stack}: {name} has no Pod Security {mode} label"
    # Only Fluent Bit's namespace (host paths) is below restricted here; argocd is the delivery component's.
    relaxed = {n for n, labels in labelled.items() if labels["pod-security.kubernetes.io/enforce"] != "restricted"} - {
        "argocd",
        "argo-rollouts",
    }
    assert relaxed == {"logging"}
    assert labelled["default"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # The vpa namespace is the platform's own now, not one Helm creates unlabelled.
    vpa = plan.one(RELEASE, "workloads-vpa")
    assert not vpa.inputs.get("createNamespace")


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_namespaces_are_protected_where_stateful_resources_are(plans: dict[str, Plan], stack: str) -> None:
    protect = stack_config(stack).protect_stateful
    namespaces = created_namespaces(plans[stack])
    assert namespaces
    assert {name: r.protect for name, r in namespaces.items()} == dict.fromkeys(namespaces, protect)
    assert any(stack_config(s).protect_stateful for s in WORKLOAD_STACKS), "some stack must exercise protect"


# --- application namespaces -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_alb_reaches_only_the_target_ports_from_the_public_subnets(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    plan_ = subnets(stack)
    for name, ns in stack_config(stack).workloads.namespaces.items():
        pod = Pod(name, {"app.kubernetes.io/name": "hello"})
        for az, block in plan_.public.items():
            alb = Address(str(next(block.hosts())))
            for port in ns.alb_target_ports:
                assert allowed(plan, alb, pod, port), f"{stack}: ALB in {az} to {name}:{port}"
            assert not allowed(plan, alb, pod, 9999)
        private = Address(str(next(next(iter(plan_.private.values())).hosts())))
        assert not allowed(plan, private, pod, ns.alb_target_ports[0]), "only the public subnets are the ALB's"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_only_the_scraper_scrapes_application_pods(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    for name, ns in stack_config(stack).workloads.namespaces.items():
        pod = Pod(name, {"app.kubernetes.io/name": "hello"})
        for port in ns.metrics_ports:
            assert allowed(plan, SCRAPER, pod, port)
            assert not allowed(plan, GATEWAY, pod, port)
            assert not allowed(plan, Pod("argocd", {"app.kubernetes.io/name": "argocd-server"}), pod, port)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_application_egress_is_dns_credentials_telemetry_and_https(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    for name in stack_config(stack).workloads.namespaces:
        pod = Pod(name, {"app.kubernetes.io/name": "hello"})
        assert allowed(plan, pod, COREDNS, 53, "UDP")
        assert allowed(plan, pod, COREDNS, 53, "TCP")
        assert allowed(plan, pod, Address("169.254.170.23"), 80), "the Pod Identity agent (credentials)"
        assert allowed(plan, pod, GATEWAY, kubernetes.OTLP_GRPC_PORT)
        assert allowed(plan, pod, GATEWAY, kubernetes.OTLP_HTTP_PORT)
        assert allowed(plan, pod, INTERNET, 443)
        assert not allowed(plan, pod, INTERNET, 80), "default deny for egress"
        assert not allowed(plan, pod, INTERNET, 22)
        assert allowed(plan, pod, Pod(name, {"app": "other"}), 8080), "the namespace is the team's boundary"
        # Not another component's pods: the controllers and the scraper take nothing from applications.
        assert not allowed(plan, pod, LB_CONTROLLER, 9443)
        assert not allowed(plan, pod, KARPENTER, 8080)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_only_the_apps_database_clients_reach_the_database_subnets(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    namespace, _ = app(stack)
    client_label = dict([kubernetes.DATABASE_CLIENT_LABEL])
    for az, block in subnets(stack).database.items():
        rds = Address(str(next(block.hosts())))
        assert allowed(plan, Pod(namespace, {"app.kubernetes.io/name": "api", **client_label}), rds, 5432), az
        assert not allowed(plan, Pod(namespace, {"app.kubernetes.io/name": "api"}), rds, 5432), "unlabelled pod"
        for other in [*stack_config(stack).workloads.namespaces, "observability", "vpa"]:
            if other != namespace:
                assert not allowed(plan, Pod(other, client_label), rds, 5432), other
    # The label itself is bound to the application's identity by an admission policy.
    (policy,) = [r for r in plan.by_type(POLICY) if r.inputs["metadata"]["name"] == workloads.DATABASE_CLIENT_POLICY]
    (validation,) = policy.inputs["spec"]["validations"]
    _, service_account = app(stack)
    assert kubernetes.DATABASE_CLIENT_LABEL[0] in validation["expression"]
    assert f'"{service_account}"' in validation["expression"]
    assert f'"{namespace}"' in validation["expression"]
    assert policy.inputs["spec"]["failurePolicy"] == "Fail"


# --- platform namespaces ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_otlp_gateway_takes_telemetry_from_application_namespaces_only(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    apps = set(stack_config(stack).workloads.namespaces)
    labelled = {
        n for n, labels in namespace_labels(plan).items() if labels.get(kubernetes.APPLICATION_NAMESPACE_LABEL[0])
    }
    assert labelled == apps, "the application label is on exactly the application namespaces"
    for port in (kubernetes.OTLP_GRPC_PORT, kubernetes.OTLP_HTTP_PORT):
        for name in apps:
            assert allowed(plan, Pod(name, {"app": "x"}), GATEWAY, port)
        for other in ("argocd", "kube-system", "vpa", "logging", "default"):
            assert not allowed(plan, Pod(other, {"app": "x"}), GATEWAY, port), other
    assert allowed(plan, SCRAPER, GATEWAY, 8888), "the gateway's own metrics"
    assert allowed(plan, SCRAPER, Pod("observability", {"app.kubernetes.io/name": "kube-state-metrics"}), 8080)
    assert not allowed(
        plan, Pod(next(iter(apps)), {}), Pod("observability", {"app.kubernetes.io/name": "kube-state-metrics"}), 8080
    )


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_kube_system_policies_select_only_the_platforms_controllers(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    in_kube_system = [p for p in network_policies(plan) if p["metadata"]["namespace"] == "kube-system"]
    assert {p["metadata"]["name"] for p in in_kube_system} == {"aws-load-balancer-controller", "karpenter"}
    for p in in_kube_system:
        assert p["spec"]["podSelector"].get("matchLabels"), "a kube-system policy must never select EKS's own pods"
    # EKS's pods are untouched: CoreDNS still answers every pod, the API server's interfaces reach every pod.
    assert allowed(plan, Pod("argocd", {}), COREDNS, 53, "UDP")
    vpc = stack_config(stack).network.vpc_cidr
    control_plane = Address(str(next(next(iter(subnets(stack).private.values())).hosts())))
    assert ipaddress.ip_address(control_plane.ip) in ipaddress.ip_network(vpc)
    assert allowed(plan, control_plane, LB_CONTROLLER, 9443), "the API server calls the controller's webhooks"
    assert not allowed(plan, control_plane, LB_CONTROLLER, 8080)
    assert not allowed(plan, INTERNET, LB_CONTROLLER, 9443)
    assert allowed(plan, SCRAPER, LB_CONTROLLER, 8080)
    assert allowed(plan, SCRAPER, KARPENTER, 8080)
    assert not allowed(plan, Pod("shop", {}), KARPENTER, 8080)
    assert not allowed(plan, control_plane, KARPENTER, 8443), "Karpenter 1.x serves no webhook"


def test_the_evaluator_sees_an_open_namespace_and_a_closed_one() -> None:
    class _Plan:
        def __init__(self, policies: list[dict[str, Any]]) -> None:
            self.policies = policies

        def by_type(self, typ: str) -> list[Any]:
            if typ != NETWORK_POLICY:
                return []
            return [type("R", (), {"inputs": p}) for p in self.policies]

    open_plan: Any = _Plan([])
    closed: Any = _Plan([kubernetes.default_deny("a", egress=True)])
    a, b = Pod("a", {"x": "1"}), Pod("b", {"x": "1"})
    assert allowed(open_plan, a, b, 80)
    assert allowed(open_plan, b, a, 80)
    assert not allowed(closed, a, b, 80)
    assert not allowed(closed, b, a, 80)
    dns_only: Any = _Plan(
        [
            kubernetes.default_deny("a", egress=True),
            kubernetes.network_policy("dns", "a", egress=[kubernetes.dns_egress()]),
        ]
    )
    assert allowed(dns_only, a, COREDNS, 53, "UDP")
    assert not allowed(dns_only, a, COREDNS, 54, "UDP")


def test_namespace_ports_are_port_numbers_and_distinct() -> None:
    from components.workloads.config import NamespaceConfig

    base = {"quotaRequests": {"cpu": "1", "memory": "1Gi"}, "quotaLimits": {"cpu": "2", "memory": "2Gi"}}
    assert NamespaceConfig.model_validate(base).alb_target_ports == (8080,)
    assert NamespaceConfig.model_validate({**base, "albTargetPorts": []}).alb_target_ports == ()
    for bad in ([0], [8080, 8080], [70000]):
        with pytest.raises(ValueError, match="port"):
            NamespaceConfig.model_validate({**base, "metricsPorts": bad})
