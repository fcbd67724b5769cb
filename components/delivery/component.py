"""Delivery: GitOps with Argo CD and progressive delivery with Argo Rollouts, gated on Amazon Managed Prometheus.

Creates:
- the `argocd` and `argo-rollouts` namespaces with Pod Security labels (`argocd` enforces `baseline`, because the
  Redis HA subchart's HAProxy init container sets no security context; `argo-rollouts` enforces `restricted`; both
  audit and warn on `restricted`), each with a `default-deny` NetworkPolicy for ingress;
- Argo CD from the `argo-cd` chart (pinned) in the `argocd` namespace: every component (application controller,
  server, repo server, ApplicationSet controller, notifications controller, Redis and the Redis secret-init Job) on
  the system node group (tolerating its taint, required node affinity and node selector), requests and limits on
  every container, spread over zones. With `highAvailability` it follows the chart's HA guidance: Redis HA (three
  Redis/Sentinel pods and three HAProxy pods on separate nodes, with PDBs), two replicas of the server, repo server
  and ApplicationSet controller with PDBs, hard pod anti-affinity; the application controller stays at one replica
  (more replicas shard clusters, they do not fail over). Dex is off (SSO will use Argo CD's own OIDC client). The
  server stays internal (ClusterIP, TLS, no Ingress): reach it with `kubectl port-forward`. No admin password is set
  through the chart, so none is in Pulumi state: Argo CD generates `argocd-initial-admin-secret`, to be read once and
  deleted once SSO works. The chart's own NetworkPolicies (`global.networkPolicy.create`) admit each component's
  clients only; with Redis HA, the subchart's policies admit Redis to HAProxy and HAProxy to Argo CD's Redis clients;
- the AppProjects, all owned here so nothing in Git can create or widen one: `default` reduced to nothing (no
  source, no destination, no kind; Argo CD creates it at start, so it is patched), `platform` for the root
  application (read the GitOps repository, create only `Application` objects in `argocd`), and one project per
  application namespace (read the GitOps repository and the team's `teamSourceRepos`, deploy only ordinary workload
  kinds into that namespace, nothing cluster-scoped and no Argo CD object); every project the platform uses requires
  commits signed with `signatureKeys` when that is set;
- the root Application (app of apps) in the `platform` project: source = the configured repository, path and revision,
  destination the in-cluster API, automated sync with self-heal (and prune unless `rootAutoPrune` is false, which
  production requires), retry with backoff, and the resources finalizer so deleting it removes what it deployed;
- Argo Rollouts from the `argo-rollouts` chart (pinned) in `argo-rollouts`: two controller replicas (leader
  election) on the system nodes, spread over zones, with a PDB, requests and limits, a restricted security context;
- the controller's AWS identity through IRSA (its Prometheus provider signs with the AWS SDK default chain, and the
  SDK in the Rollouts releases this chart ships may predate EKS Pod Identity): an IAM role trusted only by the
  cluster's OIDC provider for `system:serviceaccount:argo-rollouts:argo-rollouts` with audience `sts.amazonaws.com`,
  allowed only to query the observability component's Prometheus workspace;
- the `error-rate` ClusterAnalysisTemplate: the share of 5xx responses of the canary's own pods (the Rollout passes
  the canary ReplicaSet's pod-template hash) over 2 minutes, read from Amazon Managed Prometheus with SigV4; a
  measurement above `canaryMaxErrorRate` fails, one without data is inconclusive (never a success), so a scraper
  outage or a wrong label pauses the rollout instead of promoting it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.component import Cluster
from components.delivery.config import DeliveryConfig
from core import iam, kubernetes
from core.blocks import addon, network_policies
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Delivery"

ARGO_HELM_REPOSITORY = "https://argoproj.github.io/argo-helm"
ARGOCD_CHART = "argo-cd"
ARGOCD_NAMESPACE = "argocd"
ROLLOUTS_CHART = "argo-rollouts"
ROLLOUTS_NAMESPACE = "argo-rollouts"
ROLLOUTS_SERVICE_ACCOUNT = "argo-rollouts"
IN_CLUSTER = "https://kubernetes.default.svc"
ROOT_APPLICATION = "root"
PLATFORM_PROJECT = "platform"
DEFAULT_PROJECT = "default"
"""Argo CD's fallback project, created by Argo CD itself at start with every permission: the platform patches it to
none, so an Application that names no project (or `default`) deploys nothing."""
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"
ARGO_GROUP = "argoproj.io"
PATCH_FORCE = {"pulumi.com/patchForce": "true"}
"""Server-side apply takes the patched fields over from the manager that created them (Argo CD's server)."""

PLATFORM_KINDS: tuple[tuple[str, str], ...] = ((ARGO_GROUP, "Application"),)
"""What the root application may create (in `argocd` only): Applications, each bound by the project it names, and
every project is the platform's. Not AppProject (a project written in Git could allow anything, cluster-scoped
kinds included), not ApplicationSet (its SCM and pull-request generators send Secrets of `argocd` as tokens to the
URL they name, and it can template any project: Argo CD's ApplicationSet security guide reserves it to admins)."""
TEAM_KINDS: tuple[tuple[str, str], ...] = (
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("autoscaling.k8s.io", "VerticalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("networking.k8s.io", "Ingress"),
    (ARGO_GROUP, "Rollout"),
    (ARGO_GROUP, "AnalysisTemplate"),
)
"""The namespaced kinds a team's project may deploy into its namespace: ordinary workloads. Never what the platform
owns there (ResourceQuota, LimitRange, NetworkPolicy, Role and RoleBinding), what runs on every node (DaemonSet), or
an Argo CD object (AppProject, Application, ApplicationSet)."""

ERROR_RATE_TEMPLATE = "error-rate"
"""The ClusterAnalysisTemplate a Rollout names: `templates: [{templateName: error-rate, clusterScope: true}]`."""
ARG_SERVICE_NAME = "service-name"
"""Required argument: the service, i.e. the `app` label of its metrics (the pods' `app.kubernetes.io/name`)."""
ARG_NAMESPACE = "namespace"
"""Optional argument: a regular expression on the `namespace` label; defaults to any namespace."""
ARG_CANARY_HASH = "canary-hash"
"""Required argument: the canary ReplicaSet's pod-template hash, which a Rollout passes with
`valueFrom: {podTemplateHashValue: Latest}`. Only pods named `<rollout>-<hash>-<suffix>` are measured."""
ARG_EXCLUDED_PATHS = "excluded-paths"
"""Optional argument: a regular expression of `path` label values left out of both sides of the ratio (the kubelet's
probes and the scraper's own requests, which succeed whatever the canary does)."""
DEFAULT_EXCLUDED_PATHS = "/healthz|/readyz|/metrics"
SERVICE_LABEL = "app"
"""The label that names a service in `http_requests_total`: the observability scrape config copies it from the
pod label `app.kubernetes.io/name`."""
REQUESTS_METRIC = "http_requests_total"

ROLLOUTS_CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "argo-rollouts",
    "app.kubernetes.io/instance": "argo-rollouts",
    "app.kubernetes.io/component": "rollouts-controller",
}
"""The labels of the controller's pods (the chart's selector labels for the `argo-rollouts` release)."""
ROLLOUTS_METRICS_PORT = 8090
"""The controller's metrics port (the chart's `controller.containerPorts.metrics`)."""

IRSA_AUDIENCE = "sts.amazonaws.com"
AMP_QUERY_ACTIONS = ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata")


@dataclass(frozen=True, kw_only=True)
class DeliveryArgs:
    ctx: StackContext
    config: DeliveryConfig
    cluster: Cluster
    """Argo CD and Argo Rollouts run in it; Rollouts' IRSA role trusts its OIDC provider (see the module docstring)."""
    prometheus_workspace_arn: pulumi.Input[str]
    prometheus_endpoint: pulumi.Input[str]
    app_namespaces: Sequence[str]
    """The application namespaces (workloads.namespaces): each gets its Argo CD project."""


class Delivery(PlatformComponent):
    argocd_namespace: str
    rollouts_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        cfg = args.config
        cluster = args.cluster
        k8s_provider = cluster.provider

        # Argo CD ---------------------------------------------------------------------------------------------------
        argocd_addon = addon(
            self,
            "argocd",
            ctx=ctx,
            cluster=cluster,
            namespace=ARGOCD_NAMESPACE,
            namespace_labels=namespace_labels("baseline", ctx.environment),
            chart=ARGOCD_CHART,
            version=cfg.argocd_chart_version,
            repository=ARGO_HELM_REPOSITORY,
            values=argocd_values(cfg),
            timeout=900,  # Redis HA starts its three StatefulSet pods one after the other
        )
        argocd = argocd_addon.release
        self.argocd_namespace = ARGOCD_NAMESPACE
        # The chart's policies admit each component's clients; this one isolates every other pod of the namespace.
        network_policies(
            self,
            [kubernetes.default_deny(ARGOCD_NAMESPACE, labels=_labels())],
            cluster=cluster,
            depends_on=[ns for ns in (argocd_addon.namespace,) if ns is not None],
        )

        # Argo CD creates `default` at start (most permissive): patched once the chart has run, never created.
        default = default_project()
        k8s.apiextensions.CustomResourcePatch(
            self.child_name("argocd-project-default"),
            api_version=default["apiVersion"],
            kind=default["kind"],
            metadata=default["metadata"],
            spec=default["spec"],
            opts=self.child_opts("argocd-project-default", provider=k8s_provider, depends_on=[argocd]),
        )
        projects: list[pulumi.Resource] = []
        for key, project in (
            ("argocd-project-platform", platform_project(cfg)),
            *(
                (f"argocd-project-{ns}", team_project(cfg, ns))
                for ns in checked_team_namespaces(cfg, args.app_namespaces)
            ),
        ):
            projects.append(
                k8s.apiextensions.CustomResource(
                    self.child_name(key),
                    api_version=project["apiVersion"],
                    kind=project["kind"],
                    metadata=project["metadata"],
                    spec=project["spec"],
                    opts=self.child_opts(key, provider=k8s_provider, depends_on=[argocd]),
                )
            )
        root = root_application(cfg)
        k8s.apiextensions.CustomResource(
            self.child_name("argocd-root"),
            api_version=root["apiVersion"],
            kind=root["kind"],
            metadata=root["metadata"],
            spec=root["spec"],
            # Every project exists before the root creates the Applications that name them.
            opts=self.child_opts("argocd-root", provider=k8s_provider, depends_on=[argocd, *projects]),
        )

        # Argo Rollouts: identity -----------------------------------------------------------------------------------
        role = aws.iam.Role(
            self.child_name("argo-rollouts"),
            name=ctx.namer.physical("argo-rollouts", service="iam-role"),
            description=f"Argo Rollouts controller of {cluster.cluster_name}: queries Amazon Managed Prometheus (IRSA)",
            assume_role_policy=pulumi.Output.all(cluster.oidc_provider_arn, cluster.oidc_issuer).apply(
                lambda parts: irsa_trust_policy(
                    provider_arn=parts[0],
                    issuer=parts[1],
                    namespace=ROLLOUTS_NAMESPACE,
                    service_account=ROLLOUTS_SERVICE_ACCOUNT,
                )
            ),
            tags=merge_tags(ctx.tags, {"Component": "delivery"}, ctx.namer.physical("argo-rollouts")),
            opts=self.child_opts("argo-rollouts"),
        )
        query = aws.iam.RolePolicy(
            self.child_name("argo-rollouts-amp-query"),
            name="QueryPrometheusWorkspace",
            role=role.id,
            policy=pulumi.Output.from_input(args.prometheus_workspace_arn).apply(amp_query_policy),
            opts=self.child_opts("argo-rollouts-amp-query"),
        )
        self.rollouts_role_arn = role.arn

        # Argo Rollouts: controller and analysis ----------------------------------------------------------------------
        rollouts_addon = addon(
            self,
            "argo-rollouts",
            ctx=ctx,
            cluster=cluster,
            namespace=ROLLOUTS_NAMESPACE,
            namespace_labels=namespace_labels("restricted", ctx.environment),
            chart=ROLLOUTS_CHART,
            version=cfg.rollouts_chart_version,
            repository=ARGO_HELM_REPOSITORY,
            values=rollouts_values(role_arn=role.arn, region=ctx.region),
            depends_on=[query],
            timeout=600,
        )
        rollouts = rollouts_addon.release
        network_policies(
            self,
            rollouts_network_policies(),
            cluster=cluster,
            depends_on=[ns for ns in (rollouts_addon.namespace,) if ns is not None],
        )
        address = pulumi.Output.from_input(args.prometheus_endpoint).apply(prometheus_address)
        template = error_rate_template(address=address, region=ctx.region, max_error_rate=cfg.canary_max_error_rate)
        k8s.apiextensions.CustomResource(
            self.child_name("analysis-error-rate"),
            api_version=template["apiVersion"],
            kind=template["kind"],
            metadata=template["metadata"],
            spec=template["spec"],
            opts=self.child_opts("analysis-error-rate", provider=k8s_provider, depends_on=[rollouts]),
        )

        self.register_outputs({"argocdNamespace": self.argocd_namespace, "rolloutsRoleArn": self.rollouts_role_arn})


# ---------------------------------------------------------------------------------------------------------------------
# Placement and sizing


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, dict[str, str]]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


# The charts default their node selectors to Linux nodes; the system-node selector keeps that.
SYSTEM_NODE_OS = "linux"

# Requests sized for a platform cluster of a few hundred applications; memory limits leave headroom for sync bursts.
ARGOCD_RESOURCES: dict[str, dict[str, dict[str, str]]] = {
    "controller": _resources("250m", "1Gi", "2", "2Gi"),
    "server": _resources("100m", "256Mi", "1", "512Mi"),
    "repoServer": _resources("100m", "256Mi", "1", "1Gi"),
    "repoServer.copyutil": _resources("10m", "32Mi", "100m", "64Mi"),
    "applicationSet": _resources("50m", "128Mi", "500m", "256Mi"),
    "notifications": _resources("20m", "64Mi", "200m", "128Mi"),
    "redis": _resources("50m", "64Mi", "500m", "256Mi"),
    "redisSecretInit": _resources("10m", "32Mi", "100m", "128Mi"),
    "redis-ha.redis": _resources("100m", "256Mi", "500m", "512Mi"),
    "redis-ha.sentinel": _resources("20m", "64Mi", "200m", "64Mi"),
    "redis-ha.init": _resources("10m", "32Mi", "100m", "64Mi"),
    "redis-ha.splitBrainDetection": _resources("10m", "32Mi", "100m", "64Mi"),
    "redis-ha.haproxy": _resources("50m", "64Mi", "500m", "128Mi"),
    "redis-ha.haproxy.init": _resources("10m", "32Mi", "100m", "64Mi"),
    "redis-ha.configmapTest": _resources("10m", "32Mi", "100m", "64Mi"),
    "redis-ha.haproxy.tests": _resources("10m", "32Mi", "100m", "64Mi"),
}
ROLLOUTS_RESOURCES = _resources("100m", "256Mi", "1", "512Mi")

RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _pdb(enabled: bool) -> dict[str, Any]:
    return {"enabled": True, "maxUnavailable": 1} if enabled else {"enabled": False}


def argocd_values(cfg: DeliveryConfig) -> dict[str, Any]:
    """Helm values of the argo-cd chart (9.x layout). No password, key or token appears here: the chart generates
    `argocd-secret`'s server key and Argo CD the initial admin password, so Pulumi state holds no credential."""
    ha = cfg.high_availability
    replicas = 2 if ha else 1
    res = ARGOCD_RESOURCES
    values: dict[str, Any] = {
        "global": {
            # Every Argo CD component inherits these unless it sets its own (the chart's `global` presets).
            **kubernetes.on_system_nodes(os=SYSTEM_NODE_OS),
            "affinity": {
                # hard: replicas on distinct nodes, preferably distinct zones; soft: only preferred.
                "podAntiAffinity": "hard" if ha else "soft",
                "nodeAffinity": {"type": "hard", "matchExpressions": [kubernetes.system_node_expression()]},
            },
            "topologySpreadConstraints": kubernetes.zone_spread(),
            "addPrometheusAnnotations": True,
            "logging": {"format": "json"},
            # Each component's NetworkPolicy admits only its clients (and metrics scrapes); the namespace's
            # `default-deny` (a Pulumi resource, visible in the plan) isolates every other pod, so the chart's own
            # default deny stays off rather than doubling it.
            "networkPolicy": {"create": True, "defaultDenyIngress": False},
        },
        "crds": {"install": True, "keep": True},
        "configs": {
            "cm": {"admin.enabled": True, "exec.enabled": False, "statusbadge.enabled": False},
            # The server terminates TLS itself (self-signed until a certificate is configured); nothing is exposed.
            "params": {"server.insecure": False},
            "secret": {"createSecret": True},
        },
        "dex": {"enabled": False},
        "controller": {
            # More application-controller replicas shard clusters between them; with one cluster they add nothing
            # (the chart's HA examples keep one). A restarted controller resumes from the cluster state.
            "replicas": 1,
            "resources": res["controller"],
            "metrics": {"enabled": True},
        },
        "server": {
            "replicas": replicas,
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
            "resources": res["server"],
            "pdb": _pdb(ha),
            "metrics": {"enabled": True},
        },
        "repoServer": {
            "replicas": replicas,
            "resources": res["repoServer"],
            "copyutil": {"resources": res["repoServer.copyutil"]},
            "pdb": _pdb(ha),
            "metrics": {"enabled": True},
        },
        "applicationSet": {
            "replicas": replicas,
            "resources": res["applicationSet"],
            "pdb": _pdb(ha),
            "metrics": {"enabled": True},
        },
        "notifications": {"enabled": True, "resources": res["notifications"]},
        "redisSecretInit": {"resources": res["redisSecretInit"]},
        "redis": {"resources": res["redis"]},
        "redis-ha": {"enabled": False},
    }
    if ha:
        values["redis-ha"] = redis_ha_values()
    return values


ARGOCD_RELEASE = "argocd"
"""The argo-cd release's name (the add-on key): the chart's selector labels carry it as `app.kubernetes.io/instance`."""
ARGOCD_NAME = "argocd"
"""The chart's `nameOverride` default: its components are labelled `app.kubernetes.io/name: argocd-<component>`."""
REDIS_CLIENTS = ("server", "repo-server", "application-controller")
"""The Argo CD components that use Redis: what the chart's own Redis NetworkPolicy admits (argo-cd 9.5
templates/redis/networkpolicy.yaml), and so what HAProxy admits in front of Redis HA."""


def argocd_component_pods(component: str) -> dict[str, Any]:
    """A NetworkPolicy peer: the pods of one Argo CD component (the chart's `argo-cd.selectorLabels`)."""
    labels = {"app.kubernetes.io/name": f"{ARGOCD_NAME}-{component}", "app.kubernetes.io/instance": ARGOCD_RELEASE}
    return kubernetes.pods(labels)


def redis_ha_values() -> dict[str, Any]:
    """The redis-ha subchart: it does not read Argo CD's `global` presets, so placement is repeated here. HAProxy takes
    its tolerations from the top-level `tolerations` (redis-ha 4.34 reads no `haproxy.tolerations`, whatever argo-cd's
    values.yaml documents). Its NetworkPolicies (redis-ha 4.34.11 templates) admit Redis and Sentinel from each other
    and from HAProxy, and HAProxy from Redis and from Argo CD's Redis clients; their egress rules keep Redis, Sentinel
    and HAProxy to each other and to DNS."""
    res = ARGOCD_RESOURCES
    on_system_nodes = {"nodeAffinity": kubernetes.system_node_affinity()}
    return {
        "enabled": True,
        **kubernetes.on_system_nodes(os=SYSTEM_NODE_OS),
        "additionalAffinities": on_system_nodes,
        "hardAntiAffinity": True,
        # redis-ha's own form of a zone spread constraint.
        "topologySpreadConstraints": {"enabled": True, "maxSkew": 1, "topologyKey": kubernetes.ZONE_TOPOLOGY_KEY},
        "podDisruptionBudget": {"maxUnavailable": 1},
        "networkPolicy": {"enabled": True},
        "redis": {"resources": res["redis-ha.redis"]},
        "sentinel": {"resources": res["redis-ha.sentinel"]},
        "init": {"resources": res["redis-ha.init"]},
        "splitBrainDetection": {"resources": res["redis-ha.splitBrainDetection"]},
        "configmapTest": {"resources": res["redis-ha.configmapTest"]},
        "haproxy": {
            "enabled": True,
            "replicas": 3,
            "additionalAffinities": on_system_nodes,
            "hardAntiAffinity": True,
            "podDisruptionBudget": {"maxUnavailable": 1},
            "resources": res["redis-ha.haproxy"],
            "init": {"resources": res["redis-ha.haproxy.init"]},
            "tests": {"resources": res["redis-ha.haproxy.tests"]},
            "networkPolicy": {
                "enabled": True,
                "ingressRules": [{"selectors": [argocd_component_pods(c) for c in REDIS_CLIENTS]}],
            },
        },
    }


def rollouts_values(*, role_arn: pulumi.Input[str], region: str) -> dict[str, Any]:
    """Helm values of the argo-rollouts chart: the controller on the system nodes, its IRSA service account."""
    selector = ROLLOUTS_CONTROLLER_LABELS
    return {
        "installCRDs": True,
        "keepCRDs": True,
        "serviceAccount": {
            "create": True,
            "name": ROLLOUTS_SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "containerSecurityContext": dict(RESTRICTED_CONTAINER),
        "controller": {
            "replicas": 2,  # leader election: one active, one standby
            **kubernetes.on_system_nodes(os=SYSTEM_NODE_OS),
            "affinity": {
                "nodeAffinity": kubernetes.system_node_affinity(),
                "podAntiAffinity": kubernetes.node_spread(selector, required=False),
            },
            "topologySpreadConstraints": kubernetes.zone_spread(selector),
            "pdb": {"enabled": True, "maxUnavailable": 1},
            "resources": ROLLOUTS_RESOURCES,
            "metrics": {"enabled": True},
            # The IRSA webhook sets these too on current clusters; explicit so SigV4 signing never guesses.
            "extraEnv": [
                {"name": "AWS_REGION", "value": region},
                {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            ],
        },
        "dashboard": {"enabled": False},
        # Traffic routing RBAC only for the provider the platform uses (the ALB through the load balancer controller).
        "providerRBAC": {
            "enabled": True,
            "providers": {
                "awsLoadBalancerController": True,
                "ambassador": False,
                "apisix": False,
                "awsAppMesh": False,
                "contour": False,
                "glooPlatform": False,
                "istio": False,
                "smi": False,
                "traefik": False,
            },
        },
    }


# ---------------------------------------------------------------------------------------------------------------------
# Argo CD objects


def _kinds(kinds: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"group": group, "kind": kind} for group, kind in kinds]


def _signature_keys(cfg: DeliveryConfig) -> dict[str, Any]:
    """`signatureKeys` of a project when commits must be signed: Argo CD then syncs only a revision signed by one of
    them (docs: user-guide/gpg-verification.md)."""
    return {"signatureKeys": [{"keyID": key} for key in cfg.signature_keys]} if cfg.signature_keys else {}


def default_project() -> dict[str, Any]:
    """`default` with no permission at all (Argo CD's projects guide, "The Default Project"): no source, no destination,
    no namespaced kind (a missing whitelist would allow every kind; the blacklist names them all), no cluster-scoped
    kind. An Application that forgets its project deploys nothing."""
    everything = [{"group": "*", "kind": "*"}]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {
            "name": DEFAULT_PROJECT,
            "namespace": ARGOCD_NAMESPACE,
            "labels": _labels(),
            "annotations": dict(PATCH_FORCE),
        },
        "spec": {
            "description": "Deliberately empty: every Application names one of the platform's projects",
            "sourceRepos": [],
            "sourceNamespaces": [],
            "destinations": [],
            "clusterResourceWhitelist": [],
            "clusterResourceBlacklist": everything,
            "namespaceResourceBlacklist": everything,
        },
    }


def platform_project(cfg: DeliveryConfig) -> dict[str, Any]:
    """The AppProject of the root application: read the GitOps repository, create only Applications in `argocd`.

    Each child Application names a project, and every project exists here, not in Git: what a team may deploy is
    decided by the platform's config, in review, never by a commit to the GitOps repository."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": PLATFORM_PROJECT, "namespace": ARGOCD_NAMESPACE, "labels": _labels()},
        "spec": {
            "description": "Platform bootstrap: the root application and the Applications it declares",
            "sourceRepos": [cfg.gitops.repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE}],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": _kinds(PLATFORM_KINDS),
            "orphanedResources": {"warn": True},
            **_signature_keys(cfg),
        },
    }


def team_project(cfg: DeliveryConfig, namespace: str) -> dict[str, Any]:
    """The AppProject of one application namespace, named after it: read the GitOps repository and the team's
    `teamSourceRepos`, deploy only `TEAM_KINDS` into that namespace of this cluster, nothing cluster-scoped."""
    repos = [cfg.gitops.repo_url, *(r for r in cfg.team_source_repos.get(namespace, ()) if r != cfg.gitops.repo_url)]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": namespace, "namespace": ARGOCD_NAMESPACE, "labels": _labels()},
        "spec": {
            "description": f"Team project: ordinary workloads in the namespace {namespace} only",
            "sourceRepos": repos,
            "destinations": [{"server": IN_CLUSTER, "namespace": namespace}],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": _kinds(TEAM_KINDS),
            "orphanedResources": {"warn": True},
            **_signature_keys(cfg),
        },
    }


def checked_team_namespaces(cfg: DeliveryConfig, app_namespaces: Sequence[str]) -> list[str]:
    """The application namespaces that get a team project, after the checks that need both sections: no namespace
    may take a platform project's name, and `teamSourceRepos` names only application namespaces."""
    clash = sorted(set(app_namespaces) & {PLATFORM_PROJECT, DEFAULT_PROJECT})
    if clash:
        raise ValueError(
            f"workloads.namespaces: {', '.join(clash)} is the name of an Argo CD project of the platform; "
            "choose another namespace name"
        )
    unknown = sorted(set(cfg.team_source_repos) - set(app_namespaces))
    if unknown:
        raise ValueError(
            f"delivery.teamSourceRepos: {', '.join(unknown)} is not an application namespace "
            f"(workloads.namespaces: {', '.join(app_namespaces) or 'none'})"
        )
    return list(app_namespaces)


def root_application(cfg: DeliveryConfig) -> dict[str, Any]:
    """The app of apps: everything else this cluster runs is declared under the configured path.

    It prunes on its own only where `rootAutoPrune` allows (never in production): there an Application removed from
    Git stays, OutOfSync, until an operator syncs the root with prune, because deleting it would delete, through its
    finalizer, everything it deployed."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": ROOT_APPLICATION,
            "namespace": ARGOCD_NAMESPACE,
            "labels": _labels(),
            # Deleting the root deletes what it deployed (cascading through the children's own finalizers).
            "finalizers": [ARGOCD_FINALIZER],
        },
        "spec": {
            "project": PLATFORM_PROJECT,
            "source": {
                "repoURL": cfg.gitops.repo_url,
                "path": cfg.gitops.path,
                "targetRevision": cfg.gitops.target_revision,
            },
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": {
                "automated": {"prune": cfg.root_auto_prune, "selfHeal": True},
                "syncOptions": ["PruneLast=true"],
                "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
            },
            "revisionHistoryLimit": 10,
        },
    }


def rollouts_network_policies() -> list[dict[str, Any]]:
    """`argo-rollouts`: every pod isolated for ingress; the controller admits only the platform's scraper on its
    metrics port (the kubelet's probes need no rule). Egress stays open: the controller talks to the API server, AMP
    and the load balancer controller's objects."""
    return [
        kubernetes.default_deny(ROLLOUTS_NAMESPACE, labels=_labels()),
        kubernetes.network_policy(
            "argo-rollouts-metrics",
            ROLLOUTS_NAMESPACE,
            pod_selector=ROLLOUTS_CONTROLLER_LABELS,
            ingress=[kubernetes.scraper_ingress(ROLLOUTS_METRICS_PORT)],
            labels=_labels(),
        ),
    ]


def namespace_labels(enforce: str, environment: str) -> dict[str, str]:
    """Pod Security Standards: `enforce` as given, `restricted` always audited and warned about."""
    return {
        **_labels(),
        "platform/environment": environment,
        **kubernetes.pod_security_labels(enforce, audit="restricted", warn="restricted"),
    }


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "platform-delivery"}


# ---------------------------------------------------------------------------------------------------------------------
# Canary analysis


def prometheus_address(endpoint: str) -> str:
    """The workspace's base URL without the trailing slash: Rollouts appends `/api/v1/query` itself."""
    return endpoint.rstrip("/")


def canary_selector() -> str:
    """The label matchers of the canary's series: the service (`app`), the namespace regex, the canary's own pods (a
    ReplicaSet of a Rollout is named `<rollout>-<pod-template hash>`, its pods `<replicaset>-<suffix>`, and the scraper
    copies the pod's name into `pod`), and no probe or scrape paths."""
    service = f'{SERVICE_LABEL}="{{{{args.{ARG_SERVICE_NAME}}}}}"'
    namespace = f'namespace=~"{{{{args.{ARG_NAMESPACE}}}}}"'
    pod = f'pod=~".+-{{{{args.{ARG_CANARY_HASH}}}}}-[a-z0-9]+"'
    paths = f'path!~"{{{{args.{ARG_EXCLUDED_PATHS}}}}}"'
    return f"{namespace},{service},{pod},{paths}"


def error_rate_query() -> str:
    """5xx share of the canary's own requests over 2 minutes, stable pods excluded (their traffic would dilute the
    canary's errors by the traffic weight).

    No `or vector(0)` anywhere: no canary series at all (a scraper or remote-write outage, a wrong label, a hash that
    matches no pod) gives an empty result, and counters that did not move give 0/0 = NaN; the conditions call both
    inconclusive. Only a canary that has requests but no 5xx series reads 0: its numerator is `0 *` its own total,
    which exists only when the canary's series do."""
    selector = canary_selector()
    errors = f'sum(rate({REQUESTS_METRIC}{{{selector},code=~"5.."}}[2m]))'
    total = f"sum(rate({REQUESTS_METRIC}{{{selector}}}[2m]))"
    return f"(\n  {errors}\n  or\n  0 * {total}\n)\n/\n{total}\n"


def _measured(result: str) -> str:
    # `&&` short-circuits in Argo Rollouts' expression language: result[0] is read only when there is one.
    return f"len({result}) == 1 && !isNaN({result}[0])"


def success_condition(max_error_rate: float) -> str:
    """A measurement with data at or under the threshold."""
    return f"{_measured('result')} && result[0] <= {max_error_rate!r}"


def failure_condition(max_error_rate: float) -> str:
    """A measurement with data over the threshold. Neither condition holds for an empty or NaN result: with both set,
    Argo Rollouts calls that measurement Inconclusive (docs: features/analysis.md, "Inconclusive Runs")."""
    return f"{_measured('result')} && result[0] > {max_error_rate!r}"


def error_rate_template(*, address: pulumi.Input[str], region: str, max_error_rate: float) -> dict[str, Any]:
    """The cluster-wide AnalysisTemplate every Rollout can use, meant for background analysis from the first pause:
    the first measurement a minute after the analysis starts (the canary's first requests need two scrapes before
    `rate` sees them), then one a minute, up to 15 (a background run also ends when the rollout completes).

    How a run ends (Argo Rollouts 1.9 `assessMetricFailureInconclusiveOrError`, docs features/analysis.md and FAQ):
    a third measurement over the threshold (`failureLimit` 2) fails it, and the rollout aborts back to stable; a
    second measurement without data (`inconclusiveLimit` 1) makes it Inconclusive, and the rollout pauses until a
    person promotes or aborts it; a fourth query error in a row (`consecutiveErrorLimit` 3: Prometheus unreachable,
    SigV4 refused) errors it, and the rollout aborts. No data never counts as a success."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ClusterAnalysisTemplate",
        "metadata": {"name": ERROR_RATE_TEMPLATE, "labels": _labels()},
        "spec": {
            "args": [
                {"name": ARG_SERVICE_NAME},
                {"name": ARG_CANARY_HASH},
                {"name": ARG_NAMESPACE, "value": ".+"},
                {"name": ARG_EXCLUDED_PATHS, "value": DEFAULT_EXCLUDED_PATHS},
            ],
            "metrics": [
                {
                    "name": ERROR_RATE_TEMPLATE,
                    "initialDelay": "1m",
                    "interval": "1m",
                    "count": 15,
                    "failureLimit": 2,
                    "inconclusiveLimit": 1,
                    "consecutiveErrorLimit": 3,
                    "successCondition": success_condition(max_error_rate),
                    "failureCondition": failure_condition(max_error_rate),
                    "provider": {
                        "prometheus": {
                            "address": address,
                            "timeout": 30,
                            "authentication": {"sigv4": {"region": region}},
                            "query": error_rate_query(),
                        }
                    },
                }
            ],
        },
    }


# ---------------------------------------------------------------------------------------------------------------------
# IAM documents (pure)


def irsa_trust_policy(*, provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """Trust for an IRSA role: only tokens the cluster's OIDC provider issued to one service account, for STS."""
    host = issuer.removeprefix("https://")
    return iam.document(
        [
            iam.statement(
                "IrsaServiceAccount",
                "sts:AssumeRoleWithWebIdentity",
                resources=None,
                principal={"Federated": provider_arn},
                condition={
                    "StringEquals": {
                        f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{host}:aud": IRSA_AUDIENCE,
                    }
                },
            )
        ]
    )


def amp_query_policy(workspace_arn: str) -> str:
    """Read-only query access to one Prometheus workspace."""
    return iam.document([iam.statement("QueryWorkspace", list(AMP_QUERY_ACTIONS), workspace_arn)])
