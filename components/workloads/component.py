"""Workloads: the resource policy and the network isolation application namespaces run under, and vertical
autoscaling.

Creates:
- each application namespace from config, with Pod Security Standards labels (restricted enforced), the AWS Load
  Balancer Controller's pod readiness gate label, the platform's application label and the label that admits its
  Ingresses to the shared ALB (`core.kubernetes.ALB_INGRESS_LABEL`), protected where the stack protects stateful
  resources;
- a LimitRange per namespace, so every container gets default requests and limits;
- a ResourceQuota per namespace (requests, limits, pod count);
- the NetworkPolicies of each application namespace (`application_network_policies`): default deny in both
  directions; traffic inside the namespace; the ALB (its public subnets' addresses) to the namespace's target ports;
  the platform's Prometheus scraper to its metrics ports; egress to DNS, the node's Pod Identity agent, the OTLP
  gateway and HTTPS anywhere; and, in the database application's namespace only, 5432 to the database subnets from
  the pods labelled `platform/database-client`, a label an admission policy allows only on pods running as the
  application's service account;
- Pod Security labels on `default` (restricted; a server-side patch, nothing replaced) and a default deny there;
- the Vertical Pod Autoscaler (Fairwinds chart, pinned) in its own namespace `vpa` (restricted, default deny for
  ingress but the scraper), recommender only: it suggests requests, it does not evict. The Horizontal Pod Autoscaler
  needs nothing installed beyond metrics-server (a cluster add-on).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.component import Cluster
from components.network.cidr import plan_subnets
from components.network.component import Network
from components.workloads.config import NamespaceConfig, WorkloadsConfig
from core import kubernetes
from core.blocks import addon, labelled_namespace, namespace_labels_patch, network_policies
from core.component import PlatformComponent
from core.context import StackContext

TYPE = "aws-platform:platform:Workloads"
VPA_REPOSITORY = "https://charts.fairwinds.com/stable"
VPA_NAMESPACE = "vpa"
VPA_RECOMMENDER_METRICS_PORT = 8942
"""The recommender's metrics and health port (its `--address` default)."""
DEFAULT_NAMESPACE = "default"
HTTPS_PORT = 443
READINESS_GATE_LABEL = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
"""The AWS Load Balancer Controller injects its target-health readiness gate into pods of labelled namespaces, so a
rollout only proceeds once the ALB sees the new pods healthy."""
DATABASE_CLIENT_POLICY = "platform-database-client"
"""The admission policy (and its binding) that keeps the database-client label on the application's identity."""


@dataclass(frozen=True, kw_only=True)
class DatabaseClient:
    """The application that may reach the database: its namespace and service account, and the database's port."""

    namespace: str
    service_account: str
    port: int


@dataclass(frozen=True, kw_only=True)
class WorkloadsArgs:
    ctx: StackContext
    config: WorkloadsConfig
    cluster: Cluster
    network: Network
    """The VPC whose public subnets the ALB reaches pods from, and whose database subnets hold the database."""
    database_client: DatabaseClient
    """The only pods that may open connections to the database subnets."""


class Workloads(PlatformComponent):
    namespaces: list[str]

    def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx, cluster = args.ctx, args.cluster
        provider = cluster.provider
        labels = {"app.kubernetes.io/managed-by": "pulumi", "platform/environment": ctx.environment}
        subnets = plan_subnets(args.network.cidr, args.network.zones)
        public_cidrs = [str(subnets.public[az]) for az in args.network.zones]
        database_cidrs = [str(subnets.database[az]) for az in args.network.zones]
        self.namespaces = []
        for ns in args.config.namespaces.values():
            namespace = labelled_namespace(
                self,
                ns.name,
                cluster=cluster,
                # Application pods meet the `restricted` profile: enforced, audited and warned about.
                labels={**labels, **application_namespace_labels()},
                protect=ctx.protect,
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
            client = args.database_client if args.database_client.namespace == ns.name else None
            network_policies(
                self,
                application_network_policies(
                    ns,
                    alb_cidrs=public_cidrs,
                    database_cidrs=database_cidrs if client is not None else (),
                    database_port=args.database_client.port,
                    labels=labels,
                ),
                cluster=cluster,
                depends_on=[namespace],
            )
            self.namespaces.append(ns.name)

        admission = database_client_admission(args.database_client, labels=labels)
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            self.child_name("database-client-policy"),
            metadata=admission[0]["metadata"],
            spec=admission[0]["spec"],
            opts=self.child_opts("database-client-policy", provider=provider),
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            self.child_name("database-client-binding"),
            metadata=admission[1]["metadata"],
            spec=admission[1]["spec"],
            opts=self.child_opts("database-client-binding", provider=provider, depends_on=[policy]),
        )

        # `default` is not ours to create: only its Pod Security labels are (a patch), and nothing may run there.
        default = namespace_labels_patch(
            self, DEFAULT_NAMESPACE, cluster=cluster, labels=kubernetes.pod_security_labels("restricted")
        )
        network_policies(
            self,
            [kubernetes.default_deny(DEFAULT_NAMESPACE, egress=True, labels=labels)],
            cluster=cluster,
            depends_on=[default],
        )

        vpa = addon(
            self,
            "vpa",
            ctx=ctx,
            cluster=cluster,
            namespace=VPA_NAMESPACE,
            # The recommender's pod and container security contexts (chart defaults) meet `restricted`.
            namespace_labels={**labels, **kubernetes.pod_security_labels("restricted")},
            chart="vpa",
            version=args.config.vpa_chart_version,
            repository=VPA_REPOSITORY,
            values=vpa_values(),
        )
        assert vpa.namespace is not None
        network_policies(
            self,
            vpa_network_policies(database_cidrs=database_cidrs, labels=labels),
            cluster=cluster,
            depends_on=[vpa.namespace],
        )
        self.register_outputs({"namespaces": self.namespaces})


def application_namespace_labels() -> dict[str, str]:
    """The platform's labels of an application namespace: Pod Security `restricted`, the readiness gate, the
    application label (the OTLP gateway admits these namespaces) and the label admitting its Ingresses to the ALB."""
    return {
        **kubernetes.pod_security_labels("restricted"),
        **READINESS_GATE_LABEL,
        kubernetes.APPLICATION_NAMESPACE_LABEL[0]: kubernetes.APPLICATION_NAMESPACE_LABEL[1],
        kubernetes.ALB_INGRESS_LABEL[0]: kubernetes.ALB_INGRESS_LABEL[1],
    }


def application_network_policies(
    ns: NamespaceConfig,
    *,
    alb_cidrs: Sequence[str],
    database_cidrs: Sequence[str],
    database_port: int,
    labels: dict[str, str],
) -> list[dict[str, Any]]:
    """The NetworkPolicies of one application namespace. Denied by default in both directions; then allowed:

    - `allow-same-namespace`: the namespace's pods to each other (the namespace is the team's boundary);
    - `allow-alb`: the shared ALB to `albTargetPorts`. With IP targets the ALB connects from its own network
      interfaces in the public subnets, so their CIDRs are the peer (NetworkPolicies see addresses, not the ALB's
      security group); the health checks come the same way;
    - `allow-metrics-scrape`: the platform's Prometheus scraper to `metricsPorts`;
    - `allow-platform-egress`: DNS (CoreDNS), the node's Pod Identity agent (credentials), the OTLP gateway, and HTTPS
      to anywhere (AWS APIs through the VPC endpoints or NAT, the Kubernetes API);
    - `allow-database` (the database application's namespace only, `database_cidrs` non-empty): 5432 to the database
      subnets, from the pods labelled `platform/database-client` only."""
    name = ns.name
    policies = [
        kubernetes.default_deny(name, egress=True, labels=labels),
        kubernetes.network_policy(
            "allow-same-namespace",
            name,
            ingress=[kubernetes.ingress_rule([kubernetes.pods()])],
            egress=[kubernetes.egress_rule([kubernetes.pods()])],
            labels=labels,
        ),
    ]
    if ns.alb_target_ports:
        policies.append(
            kubernetes.network_policy(
                "allow-alb",
                name,
                ingress=[
                    kubernetes.ingress_rule(
                        [kubernetes.cidr(block) for block in alb_cidrs], kubernetes.ports(*ns.alb_target_ports)
                    )
                ],
                labels=labels,
            )
        )
    if ns.metrics_ports:
        policies.append(
            kubernetes.network_policy(
                "allow-metrics-scrape",
                name,
                ingress=[kubernetes.scraper_ingress(*ns.metrics_ports)],
                labels=labels,
            )
        )
    policies.append(
        kubernetes.network_policy(
            "allow-platform-egress",
            name,
            egress=[
                kubernetes.dns_egress(),
                kubernetes.pod_identity_egress(),
                kubernetes.otlp_egress(),
                kubernetes.egress_rule(None, kubernetes.ports(HTTPS_PORT)),
            ],
            labels=labels,
        )
    )
    if database_cidrs:
        policies.append(
            kubernetes.network_policy(
                "allow-database",
                name,
                pod_selector=dict([kubernetes.DATABASE_CLIENT_LABEL]),
                egress=[
                    kubernetes.egress_rule(
                        [kubernetes.cidr(block) for block in database_cidrs], kubernetes.ports(database_port)
                    )
                ],
                labels=labels,
            )
        )
    return policies


def vpa_network_policies(*, database_cidrs: Sequence[str], labels: dict[str, str]) -> list[dict[str, Any]]:
    """The vpa namespace: nothing reaches the recommender but the scraper (its admission webhook is not installed);
    it reaches anything but the database subnets."""
    return [
        kubernetes.default_deny(VPA_NAMESPACE, labels=labels),
        kubernetes.network_policy(
            "allow-egress-but-database", VPA_NAMESPACE, egress=[kubernetes.egress_except(database_cidrs)], labels=labels
        ),
        kubernetes.network_policy(
            "allow-metrics-scrape",
            VPA_NAMESPACE,
            ingress=[kubernetes.scraper_ingress(VPA_RECOMMENDER_METRICS_PORT)],
            labels=labels,
        ),
    ]


def database_client_admission(client: DatabaseClient, *, labels: dict[str, str]) -> list[dict[str, Any]]:
    """A ValidatingAdmissionPolicy and its binding: a pod labelled `platform/database-client` (the label the
    `allow-database` NetworkPolicy selects) is admitted only in the application's namespace and only when it runs as
    the application's service account, so the network path to the database follows the identity RDS trusts."""
    key, value = kubernetes.DATABASE_CLIENT_LABEL
    labelled = f"has(object.metadata.labels) && {json.dumps(key)} in object.metadata.labels"
    expression = (
        f"!({labelled} && object.metadata.labels[{json.dumps(key)}] == {json.dumps(value)}) || "
        f"(namespaceObject.metadata.name == {json.dumps(client.namespace)} && "
        "has(object.spec.serviceAccountName) && "
        f"object.spec.serviceAccountName == {json.dumps(client.service_account)})"
    )
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": DATABASE_CLIENT_POLICY, "labels": dict(labels)},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["pods"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": expression,
                    "message": (
                        f"the label {key}={value} (database access) is reserved for pods running as "
                        f"{client.namespace}/{client.service_account}"
                    ),
                    "reason": "Forbidden",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": DATABASE_CLIENT_POLICY, "labels": dict(labels)},
        "spec": {"policyName": DATABASE_CLIENT_POLICY, "validationActions": ["Deny"]},
    }
    return [policy, binding]


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
