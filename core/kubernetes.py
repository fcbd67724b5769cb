"""Kubernetes conventions every capability uses, as pure values and functions (no Pulumi, no capability).

The platform runs its controllers on the system managed node group: its nodes carry the taint
`CriticalAddonsOnly=true:NoSchedule` and the label `node-role/system=true`; a system pod tolerates the taint and is
pinned to the label (a node selector, or a required node affinity term where a chart takes one). Replicated controllers
spread over zones (`topologySpreadConstraints`) and nodes (pod anti-affinity). Namespaces carry Pod Security Admission
labels. Each function returns a fresh dict, so a caller may extend what it gets without changing anyone else's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

SYSTEM_TAINT_KEY = "CriticalAddonsOnly"
SYSTEM_TAINT = {"key": SYSTEM_TAINT_KEY, "value": "true", "effect": "NO_SCHEDULE"}
"""The system node group's taint in the EKS node-group API form (`aws.eks.NodeGroupTaintArgs`)."""
SYSTEM_LABEL = ("node-role/system", "true")
"""The system node group's node label (key, value)."""
SYSTEM_TOLERATION_POD = {"key": SYSTEM_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
"""The pod toleration of the system taint (pod-spec form)."""

ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname"
OS_LABEL = "kubernetes.io/os"
ARCH_LABEL = "kubernetes.io/arch"

SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical"
"""Priority class of the platform's controllers."""
SYSTEM_NODE_CRITICAL = "system-node-critical"
"""Priority class of per-node agents (DaemonSets)."""

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
POD_SECURITY_MODES = ("enforce", "audit", "warn")

WhenUnsatisfiable = Literal["ScheduleAnyway", "DoNotSchedule"]


def system_node_label() -> dict[str, str]:
    """The system node group's labels, as `aws.eks.NodeGroup(labels=...)` takes them."""
    return {SYSTEM_LABEL[0]: SYSTEM_LABEL[1]}


def system_toleration() -> dict[str, str]:
    """The pod toleration of the system taint."""
    return dict(SYSTEM_TOLERATION_POD)


def system_node_selector(*, os: str | None = None) -> dict[str, str]:
    """A node selector for the system nodes; `os` adds `kubernetes.io/os` first (charts that default to it)."""
    selector = {OS_LABEL: os} if os is not None else {}
    return {**selector, SYSTEM_LABEL[0]: SYSTEM_LABEL[1]}


def system_node_expression() -> dict[str, Any]:
    """The node-selector requirement `node-role/system In (true)`."""
    return {"key": SYSTEM_LABEL[0], "operator": "In", "values": [SYSTEM_LABEL[1]]}


def system_node_affinity(*extra_expressions: Mapping[str, Any]) -> dict[str, Any]:
    """A `nodeAffinity` that requires the system nodes, plus `extra_expressions` in the same term (all must hold),
    e.g. `{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}`."""
    expressions = [system_node_expression(), *(dict(e) for e in extra_expressions)]
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}
    }


def on_system_nodes(*, os: str | None = None) -> dict[str, Any]:
    """The `tolerations` and `nodeSelector` values most charts take to run their pods on the system nodes."""
    return {"tolerations": [system_toleration()], "nodeSelector": system_node_selector(os=os)}


def zone_spread(
    labels: Mapping[str, str] | None = None,
    *,
    when_unsatisfiable: WhenUnsatisfiable = "ScheduleAnyway",
    max_skew: int = 1,
) -> list[dict[str, Any]]:
    """`topologySpreadConstraints` spreading the pods `labels` selects over zones (no label selector when None: the
    chart fills in its own)."""
    constraint: dict[str, Any] = {
        "maxSkew": max_skew,
        "topologyKey": ZONE_TOPOLOGY_KEY,
        "whenUnsatisfiable": when_unsatisfiable,
    }
    if labels is not None:
        constraint["labelSelector"] = {"matchLabels": dict(labels)}
    return [constraint]


def node_spread(labels: Mapping[str, str], *, required: bool) -> dict[str, Any]:
    """A `podAntiAffinity` keeping the pods `labels` selects on distinct nodes: required, or preferred (weight 100)."""
    term = {"topologyKey": HOSTNAME_TOPOLOGY_KEY, "labelSelector": {"matchLabels": dict(labels)}}
    if required:
        return {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    return {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}


def pod_security_labels(enforce: str, *, audit: str | None = None, warn: str | None = None) -> dict[str, str]:
    """Pod Security Admission labels of a namespace: `enforce`, and `audit`/`warn` (default: the enforced level)."""
    for level in (enforce, audit, warn):
        if level is not None and level not in POD_SECURITY_LEVELS:
            raise ValueError(f"Pod Security level {level!r}: allowed {POD_SECURITY_LEVELS}")
    levels = {"enforce": enforce, "audit": audit or enforce, "warn": warn or enforce}
    return {f"pod-security.kubernetes.io/{mode}": levels[mode] for mode in POD_SECURITY_MODES}


# ---------------------------------------------------------------------------------------------------------------------
# Namespace labels the platform sets, and what selects on them

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace (immutable): selects one namespace by name."""
APPLICATION_NAMESPACE_LABEL: tuple[str, str] = ("platform/application", "true")
"""Set on every application namespace the platform creates (`workloads.namespaces`): the OTLP gateway admits only
pods of namespaces carrying it."""
ALB_INGRESS_LABEL: tuple[str, str] = ("platform/alb-ingress", "allowed")
"""Set on the namespaces whose Ingresses may join the shared internet-facing ALB: the IngressClassParams'
`namespaceSelector` selects it, so an Ingress of class `alb` in any other namespace is refused by the controller."""
DATABASE_CLIENT_LABEL: tuple[str, str] = ("platform/database-client", "true")
"""Carried by the application's pods that connect to the database: only they may open 5432 to the database subnets,
and an admission policy refuses the label on a pod that does not run as the application's service account."""

KUBE_SYSTEM = "kube-system"
KUBE_DNS_POD_LABELS = {"k8s-app": "kube-dns"}
"""CoreDNS's pods (the EKS add-on keeps kube-dns's label)."""
DNS_PORT = 53
POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32"
"""The EKS Pod Identity agent's link-local address on every node (its IPv4 credential endpoint)."""
POD_IDENTITY_AGENT_PORT = 80

Protocol = Literal["TCP", "UDP"]
ANYWHERE_V4 = "0.0.0.0/0"

OBSERVABILITY_NAMESPACE = "observability"
"""Where the platform's collectors run (the observability component creates it)."""
METRICS_SCRAPER = "otel-scraper"
"""Release name of the Prometheus scraper: its pods carry `app.kubernetes.io/instance: otel-scraper`."""
OTLP_GATEWAY = "otel-gateway"
"""Release name of the OTLP gateway: its pods carry `app.kubernetes.io/instance: otel-gateway`."""
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
INSTANCE_LABEL = "app.kubernetes.io/instance"


def namespace_selector(name: str) -> dict[str, Any]:
    """A `namespaceSelector` that matches the namespace `name` only."""
    return {"matchLabels": {NAMESPACE_NAME_LABEL: name}}


def label_selector(*labels: tuple[str, str]) -> dict[str, Any]:
    """A `matchLabels` selector of the given (key, value) labels."""
    return {"matchLabels": dict(labels)}


# ---------------------------------------------------------------------------------------------------------------------
# NetworkPolicies (networking.k8s.io/v1), enforced by the VPC CNI's network policy agent.
#
# A pod selected by any policy of a direction (Ingress, Egress) accepts in that direction only what some policy
# selecting it allows; policies add up, none subtracts. The agent always admits traffic from the pod's own node (the
# kubelet's probes), so probes need no rule (aws/aws-network-policy-agent#65).


def ports(*numbers: int | str, protocol: Protocol = "TCP") -> list[dict[str, Any]]:
    """`ports` entries: container port numbers (or names) of one protocol."""
    return [{"protocol": protocol, "port": number} for number in numbers]


def pods(
    labels: Mapping[str, str] | None = None,
    *,
    namespace: str | None = None,
    namespace_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A peer: the pods `labels` selects (all pods when None) in the policy's own namespace, in the namespace
    `namespace`, or in every namespace carrying `namespace_labels`."""
    if namespace is not None and namespace_labels is not None:
        raise ValueError("a peer names one namespace or selects namespaces by label, not both")
    peer: dict[str, Any] = {"podSelector": {"matchLabels": dict(labels)} if labels else {}}
    if namespace is not None:
        peer["namespaceSelector"] = namespace_selector(namespace)
    elif namespace_labels is not None:
        peer["namespaceSelector"] = {"matchLabels": dict(namespace_labels)}
    return peer


def cidr(block: str) -> dict[str, Any]:
    """A peer: the addresses of one IP block (NetworkPolicies see addresses, not security groups)."""
    return {"ipBlock": {"cidr": block}}


def ingress_rule(peers: list[dict[str, Any]], rule_ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An ingress rule: from any of `peers`, to any of `rule_ports` (every port when None)."""
    rule: dict[str, Any] = {"from": peers}
    if rule_ports:
        rule["ports"] = rule_ports
    return rule


def egress_rule(peers: list[dict[str, Any]] | None, rule_ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An egress rule: to any of `peers` (anywhere when None), on any of `rule_ports` (every port when None)."""
    rule: dict[str, Any] = {}
    if peers is not None:
        rule["to"] = peers
    if rule_ports:
        rule["ports"] = rule_ports
    return rule


def network_policy(
    name: str,
    namespace: str,
    *,
    pod_selector: Mapping[str, str] | None = None,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A NetworkPolicy manifest selecting the pods `pod_selector` matches (every pod of the namespace when None).

    `ingress`/`egress` None: the policy says nothing about that direction; an empty list: the selected pods are
    isolated in that direction (deny unless another policy allows)."""
    if ingress is None and egress is None:
        raise ValueError(f"network policy {namespace}/{name}: give ingress and/or egress rules")
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": dict(pod_selector)} if pod_selector else {},
        "policyTypes": [kind for kind, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None],
    }
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


def default_deny(namespace: str, *, egress: bool = False, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`default-deny`: every pod of `namespace` isolated for ingress (and for egress when `egress`), so only what
    another policy allows reaches (or leaves) it."""
    return network_policy("default-deny", namespace, ingress=[], egress=[] if egress else None, labels=labels)


def dns_egress() -> dict[str, Any]:
    """Egress to CoreDNS (kube-system, `k8s-app: kube-dns`) on 53 over UDP and TCP."""
    return egress_rule(
        [pods(KUBE_DNS_POD_LABELS, namespace=KUBE_SYSTEM)],
        [*ports(DNS_PORT, protocol="UDP"), *ports(DNS_PORT)],
    )


def pod_identity_egress() -> dict[str, Any]:
    """Egress to the node's EKS Pod Identity agent (169.254.170.23:80), where the SDKs fetch the role's credentials."""
    return egress_rule([cidr(POD_IDENTITY_AGENT_CIDR)], ports(POD_IDENTITY_AGENT_PORT))


def scraper_ingress(*metrics_ports: int | str) -> dict[str, Any]:
    """Ingress from the platform's Prometheus scraper (observability/otel-scraper) to `metrics_ports`."""
    scraper = pods({INSTANCE_LABEL: METRICS_SCRAPER}, namespace=OBSERVABILITY_NAMESPACE)
    return ingress_rule([scraper], ports(*metrics_ports))


def otlp_egress() -> dict[str, Any]:
    """Egress to the platform's OTLP gateway (observability/otel-gateway) on OTLP gRPC and HTTP."""
    gateway = pods({INSTANCE_LABEL: OTLP_GATEWAY}, namespace=OBSERVABILITY_NAMESPACE)
    return egress_rule([gateway], ports(OTLP_GRPC_PORT, OTLP_HTTP_PORT))


def egress_except(blocks: Sequence[str]) -> dict[str, Any]:
    """Egress to any pod and any address outside `blocks` (on every port): with it, a platform namespace keeps its
    open egress but never reaches, say, the database subnets, which only the application's pods may."""
    return egress_rule([{"ipBlock": {"cidr": ANYWHERE_V4, "except": list(blocks)}}, {"namespaceSelector": {}}])


def webhook_ingress(vpc_cidr: str, port: int) -> dict[str, Any]:
    """Ingress from the EKS control plane to an admission webhook's port.

    The API server calls webhooks from the cross-account network interfaces EKS places in the cluster's subnets: their
    addresses are in the VPC's CIDR and belong to no pod or node, so no pod or namespace selector can name them; the
    VPC block on the webhook's port is the narrowest rule that admits them."""
    return ingress_rule([cidr(vpc_cidr)], ports(port))
