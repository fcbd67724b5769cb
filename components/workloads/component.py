"""Workloads: the resource policy application namespaces run under, and vertical autoscaling.

Creates:
- each application namespace from config, with Pod Security Standards labels (restricted enforced) and the AWS Load
  Balancer Controller's pod readiness gate label;
- a LimitRange per namespace, so every container gets default requests and limits;
- a ResourceQuota per namespace (requests, limits, pod count);
- the Vertical Pod Autoscaler (Fairwinds chart, pinned), recommender only: it suggests requests, it does not evict.
  The Horizontal Pod Autoscaler needs nothing installed beyond metrics-server (a cluster add-on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.component import Cluster
from components.workloads.config import NamespaceConfig, WorkloadsConfig
from core import kubernetes
from core.blocks import addon, labelled_namespace
from core.component import PlatformComponent
from core.context import StackContext

TYPE = "aws-platform:platform:Workloads"
VPA_REPOSITORY = "https://charts.fairwinds.com/stable"
VPA_NAMESPACE = "vpa"
READINESS_GATE_LABEL = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
"""The AWS Load Balancer Controller injects its target-health readiness gate into pods of labelled namespaces, so a
rollout only proceeds once the ALB sees the new pods healthy."""


@dataclass(frozen=True, kw_only=True)
class WorkloadsArgs:
    ctx: StackContext
    config: WorkloadsConfig
    cluster: Cluster


class Workloads(PlatformComponent):
    namespaces: list[str]

    def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        cluster = args.cluster
        provider = cluster.provider
        labels = {"app.kubernetes.io/managed-by": "pulumi", "platform/environment": args.ctx.environment}
        self.namespaces = []
        for ns in args.config.namespaces.values():
            namespace = labelled_namespace(
                self,
                ns.name,
                cluster=cluster,
                # Application pods meet the `restricted` profile: enforced, audited and warned about.
                labels={**labels, **kubernetes.pod_security_labels("restricted"), **READINESS_GATE_LABEL},
            )
            k8s.core.v1.LimitRange(
                self.child_name(f"{ns.name}-defaults"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name="defaults", namespace=ns.name, labels=labels),
                spec=limit_range_spec(ns),
                opts=self.child_opts(f"{ns.name}-defaults", provider=provider, depends_on=[namespace]),
            )
            k8s.core.v1.ResourceQuota(
                self.child_name(f"{ns.name}-quota"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name="quota", namespace=ns.name, labels=labels),
                spec=quota_spec(ns),
                opts=self.child_opts(f"{ns.name}-quota", provider=provider, depends_on=[namespace]),
            )
            self.namespaces.append(ns.name)

        addon(
            self,
            "vpa",
            ctx=args.ctx,
            cluster=cluster,
            namespace=VPA_NAMESPACE,
            chart="vpa",
            version=args.config.vpa_chart_version,
            repository=VPA_REPOSITORY,
            values=vpa_values(),
            create_namespace=True,
        )
        self.register_outputs({"namespaces": self.namespaces})


def limit_range_spec(ns: NamespaceConfig) -> k8s.core.v1.LimitRangeSpecArgs:
    return k8s.core.v1.LimitRangeSpecArgs(
        limits=[
            k8s.core.v1.LimitRangeItemArgs(
                type="Container",
                default_request={"cpu": ns.default_request.cpu, "memory": ns.default_request.memory},
                default={"cpu": ns.default_limit.cpu, "memory": ns.default_limit.memory},
            )
        ]
    )


def quota_spec(ns: NamespaceConfig) -> k8s.core.v1.ResourceQuotaSpecArgs:
    return k8s.core.v1.ResourceQuotaSpecArgs(
        hard={
            "requests.cpu": ns.quota_requests.cpu,
            "requests.memory": ns.quota_requests.memory,
            "limits.cpu": ns.quota_limits.cpu,
            "limits.memory": ns.quota_limits.memory,
            "pods": str(ns.quota_pods),
        }
    )


def vpa_values() -> dict[str, Any]:
    return {
        "recommender": {
            "enabled": True,
            **kubernetes.on_system_nodes(),
            "resources": {"requests": {"cpu": "50m", "memory": "500Mi"}, "limits": {"memory": "1Gi"}},
        },
        "updater": {"enabled": False},
        "admissionController": {"enabled": False},
        "metrics-server": {"enabled": False},
    }
