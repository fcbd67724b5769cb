"""Kubernetes conventions every capability uses, as pure values and functions (no Pulumi, no capability).

The platform runs its controllers on the system managed node group: its nodes carry the taint
`CriticalAddonsOnly=true:NoSchedule` and the label `node-role/system=true`; a system pod tolerates the taint and is
pinned to the label (a node selector, or a required node affinity term where a chart takes one). Replicated controllers
spread over zones (`topologySpreadConstraints`) and nodes (pod anti-affinity). Namespaces carry Pod Security Admission
labels. Each function returns a fresh dict, so a caller may extend what it gets without changing anyone else's.
"""

from __future__ import annotations

from collections.abc import Mapping
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
