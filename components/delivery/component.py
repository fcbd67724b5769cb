"""Delivery: GitOps with Argo CD and progressive delivery with Argo Rollouts, gated on Amazon Managed Prometheus.

Creates:
- the `argocd` and `argo-rollouts` namespaces with Pod Security labels (`argocd` enforces `baseline`, because the
  Redis HA subchart's HAProxy init container sets no security context; `argo-rollouts` enforces `restricted`; both
  audit and warn on `restricted`);
- Argo CD from the `argo-cd` chart (pinned) in the `argocd` namespace: every component (application controller,
  server, repo server, ApplicationSet controller, notifications controller, Redis and the Redis secret-init Job) on
  the system node group (tolerating its taint, required node affinity and node selector), requests and limits on
  every container, spread over zones. With `highAvailability` it follows the chart's HA guidance: Redis HA (three
  Redis/Sentinel pods and three HAProxy pods on separate nodes, with PDBs), two replicas of the server, repo server
  and ApplicationSet controller with PDBs, hard pod anti-affinity; the application controller stays at one replica
  (more replicas shard clusters, they do not fail over). Dex is off (SSO will use Argo CD's own OIDC client). The
  server stays internal (ClusterIP, TLS, no Ingress): reach it with `kubectl port-forward`. No admin password is set
  through the chart, so none is in Pulumi state: Argo CD generates `argocd-initial-admin-secret`, to be read once and
  deleted once SSO works;
- the `platform` AppProject: the root application may only read the GitOps repository and only create Argo CD
  objects (Application, ApplicationSet, AppProject) in `argocd`; no cluster-scoped resources;
- the root Application (app of apps) in that project: source = the configured repository, path and revision,
  destination the in-cluster API, automated sync with prune and self-heal, retry with backoff, and the resources
  finalizer so deleting it removes what it deployed;
- Argo Rollouts from the `argo-rollouts` chart (pinned) in `argo-rollouts`: two controller replicas (leader
  election) on the system nodes, spread over zones, with a PDB, requests and limits, a restricted security context;
- the controller's AWS identity through IRSA (its Prometheus provider signs with the AWS SDK default chain, and the
  SDK in the Rollouts releases this chart ships may predate EKS Pod Identity): an IAM role trusted only by the
  cluster's OIDC provider for `system:serviceaccount:argo-rollouts:argo-rollouts` with audience `sts.amazonaws.com`,
  allowed only to query the observability component's Prometheus workspace;
- the `error-rate` ClusterAnalysisTemplate: the share of 5xx responses of one service over 2 minutes, read from
  Amazon Managed Prometheus with SigV4, failing the canary above `canaryMaxErrorRate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.component import Cluster
from components.delivery.config import DeliveryConfig
from core import iam, kubernetes
from core.blocks import addon
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
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"

ERROR_RATE_TEMPLATE = "error-rate"
"""The ClusterAnalysisTemplate a Rollout names: `templates: [{templateName: error-rate, clusterScope: true}]`."""
ARG_SERVICE_NAME = "service-name"
"""Required argument: the service, i.e. the `app` label of its metrics (the pods' `app.kubernetes.io/name`)."""
ARG_NAMESPACE = "namespace"
"""Optional argument: a regular expression on the `namespace` label; defaults to any namespace."""
SERVICE_LABEL = "app"
"""The label that names a service in `http_requests_total`: the observability scrape config copies it from the
pod label `app.kubernetes.io/name`."""
REQUESTS_METRIC = "http_requests_total"

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
        argocd = addon(
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
        ).release
        self.argocd_namespace = ARGOCD_NAMESPACE

        project = platform_project(cfg)
        app_project = k8s.apiextensions.CustomResource(
            self.child_name("argocd-project-platform"),
            api_version=project["apiVersion"],
            kind=project["kind"],
            metadata=project["metadata"],
            spec=project["spec"],
            opts=self.child_opts("argocd-project-platform", provider=k8s_provider, depends_on=[argocd]),
        )
        root = root_application(cfg)
        k8s.apiextensions.CustomResource(
            self.child_name("argocd-root"),
            api_version=root["apiVersion"],
            kind=root["kind"],
            metadata=root["metadata"],
            spec=root["spec"],
            opts=self.child_opts("argocd-root", provider=k8s_provider, depends_on=[argocd, app_project]),
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
        rollouts = addon(
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
        ).release
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


def redis_ha_values() -> dict[str, Any]:
    """The redis-ha subchart: it does not read Argo CD's `global` presets, so placement is repeated here. HAProxy takes
    its tolerations from the top-level `tolerations` (redis-ha 4.34 reads no `haproxy.tolerations`, whatever argo-cd's
    values.yaml documents)."""
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
        },
    }


def rollouts_values(*, role_arn: pulumi.Input[str], region: str) -> dict[str, Any]:
    """Helm values of the argo-rollouts chart: the controller on the system nodes, its IRSA service account."""
    selector = {
        "app.kubernetes.io/name": "argo-rollouts",
        "app.kubernetes.io/instance": "argo-rollouts",
        "app.kubernetes.io/component": "rollouts-controller",
    }
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


def platform_project(cfg: DeliveryConfig) -> dict[str, Any]:
    """The AppProject of the root application: read the GitOps repository, write only Argo CD objects in `argocd`.

    Child applications name their own projects (declared in the same repository), so what a team may deploy is
    decided per project, in review, not by the root."""
    argo_kinds = ("Application", "ApplicationSet", "AppProject")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": PLATFORM_PROJECT, "namespace": ARGOCD_NAMESPACE, "labels": _labels()},
        "spec": {
            "description": "Platform bootstrap: the root application and the Argo CD objects it declares",
            "sourceRepos": [cfg.gitops.repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE}],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": [{"group": "argoproj.io", "kind": kind} for kind in argo_kinds],
            "orphanedResources": {"warn": True},
        },
    }


def root_application(cfg: DeliveryConfig) -> dict[str, Any]:
    """The app of apps: everything else this cluster runs is declared under the configured path."""
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
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["PruneLast=true"],
                "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
            },
            "revisionHistoryLimit": 10,
        },
    }


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


def error_rate_query() -> str:
    """5xx share of one service over 2 minutes. A service that has never failed has no 5xx series (numerator
    `or vector(0)`); a service without traffic has no series at all (whole ratio `or vector(0)`); a service whose
    counters exist but did not move gives 0/0 = NaN, which the success condition accepts."""
    service = f'{SERVICE_LABEL}="{{{{args.{ARG_SERVICE_NAME}}}}}"'
    namespace = f'namespace=~"{{{{args.{ARG_NAMESPACE}}}}}"'
    errors = f'sum(rate({REQUESTS_METRIC}{{{namespace},{service},code=~"5.."}}[2m]))'
    total = f"sum(rate({REQUESTS_METRIC}{{{namespace},{service}}}[2m]))"
    return f"(\n  ({errors} or vector(0))\n  /\n  {total}\n) or vector(0)\n"


def success_condition(max_error_rate: float) -> str:
    return f"len(result) == 0 || isNaN(result[0]) || result[0] <= {max_error_rate!r}"


def error_rate_template(*, address: pulumi.Input[str], region: str, max_error_rate: float) -> dict[str, Any]:
    """The cluster-wide AnalysisTemplate every Rollout can use, meant for background analysis: one measurement a
    minute for up to 15 minutes (the golden path's canary takes 12; a background run also ends when the rollout
    completes); a third bad minute fails the analysis and so aborts the rollout, as do three query errors in a row."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ClusterAnalysisTemplate",
        "metadata": {"name": ERROR_RATE_TEMPLATE, "labels": _labels()},
        "spec": {
            "args": [{"name": ARG_SERVICE_NAME}, {"name": ARG_NAMESPACE, "value": ".+"}],
            "metrics": [
                {
                    "name": ERROR_RATE_TEMPLATE,
                    "interval": "1m",
                    "count": 15,
                    "failureLimit": 2,
                    "consecutiveErrorLimit": 3,
                    "successCondition": success_condition(max_error_rate),
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
