"""Observability: container logs, metrics, alerts and traces for one environment's cluster.

Creates:
- two customer KMS keys (rotation on, 30-day deletion window, Pulumi `protect` where configured): `logs` for the
  CloudWatch log groups under `/<prefix>/<stack>/observability/` and the S3 log archive, and `telemetry` for the
  Prometheus workspace, the alert topic and X-Ray traces (AMP and X-Ray through `kms:ViaService`, the `aps`
  service principal to publish encrypted alerts, only for this account's workspaces: `aws:SourceAccount`,
  `aws:SourceArn`);
- the `logging` namespace (Pod Security `privileged`: Fluent Bit reads host paths) and the `observability`
  namespace (Pod Security `restricted` enforced), both protected where stateful resources are, each with a default
  deny for ingress and the allows its pods need (`observability_network_policies`, `logging_network_policies`);
- logs: the application log group (retention from config, KMS) that Fluent Bit ships every container's stdout to,
  one stream per namespace/pod/container; Fluent Bit from the pinned `aws-for-fluent-bit` chart as a DaemonSet that
  tolerates every taint (`system-node-critical`), with the chart's log-group auto-creation off; when `logsToS3`, a
  second output to an SSE-KMS archive bucket (`secure_bucket()`: private, versioned, TLS-only, objects and their
  noncurrent versions expire after `logArchiveDays`), gzip-compressed under `containers/`; its EKS Pod Identity
  role may only write streams of that log group, put objects under that prefix and use the logs key;
- metrics and alerts: an Amazon Managed Prometheus workspace encrypted with the telemetry key, logging to its own
  log group; the rule-group namespace from `alert_rules.py` (recording and alerting rules); an alert manager
  definition routing every alert to a KMS-encrypted SNS topic whose policy lets only this workspace
  (`aws:SourceArn`, `aws:SourceAccount`) publish, over TLS; e-mail subscriptions from `alertEmails`;
- collection: kube-state-metrics (pinned chart, one replica on the system nodes: two would double every series)
  and two OpenTelemetry Collectors from the pinned `opentelemetry-collector` chart (contrib image), both on the
  system nodes, both remote-writing to the workspace with SigV4 (`sigv4auth`), each with its own Pod Identity role:
  - `otel-gateway`: 2 replicas with a PDB behind the Service apps send OTLP (gRPC 4317, HTTP 4318) to: metrics to
    the workspace, traces to X-Ray (`awsxray`), logs to the application log group (`awscloudwatchlogs`); its role
    has `aps:RemoteWrite` on the workspace, log-stream writes on the application log group and the AWS managed
    `AWSXRayDaemonWriteAccess` policy;
  - `otel-scraper`: 2 replicas with a PDB, spread over nodes and zones, so the metrics the canary analysis reads
    survive one scraper's loss; both scrape everything and write with their pod name as `__replica__`, and the
    workspace's high-availability deduplication keeps one copy of each series; the read-only RBAC its Prometheus
    receiver needs (pods, services, endpointslices); it scrapes kube-state-metrics, Karpenter's controller
    (kube-system Service `karpenter`, port `http-metrics` 8080), itself, and every running pod annotated
    `prometheus.io/scrape: "true"` (`prometheus.io/port`, `/path`, `/scheme` honoured); its role has only
    `aps:RemoteWrite` on the workspace;
- the account-and-region X-Ray encryption setting, pointing at the telemetry key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.component import Cluster
from components.network.cidr import plan_subnets
from components.network.component import Network
from components.nodepools import karpenter
from components.observability import alert_rules
from components.observability.config import ObservabilityConfig
from core import iam, kubernetes
from core.blocks import PodRoleSpec, addon, customer_key, labelled_namespace, network_policies
from core.buckets import secure_bucket
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Observability"

EKS_CHARTS = "https://aws.github.io/eks-charts"
PROMETHEUS_COMMUNITY_CHARTS = "https://prometheus-community.github.io/helm-charts"
OPEN_TELEMETRY_CHARTS = "https://open-telemetry.github.io/opentelemetry-helm-charts"

LOGGING_NAMESPACE = "logging"
NAMESPACE = kubernetes.OBSERVABILITY_NAMESPACE
FLUENT_BIT = "aws-for-fluent-bit"
"""Release, chart and service-account name of Fluent Bit."""
KUBE_STATE_METRICS = "kube-state-metrics"
KUBE_STATE_METRICS_PORT = 8080
GATEWAY = kubernetes.OTLP_GATEWAY
SCRAPER = kubernetes.METRICS_SCRAPER
COLLECTOR_CHART = "opentelemetry-collector"
COLLECTOR_IMAGE = "otel/opentelemetry-collector-contrib"
COLLECTOR_COMMAND = "otelcol-contrib"
COLLECTOR_METRICS_PORT = 8888
FLUENT_BIT_METRICS_PORT = 2020
OTLP_GRPC_PORT = kubernetes.OTLP_GRPC_PORT
OTLP_HTTP_PORT = kubernetes.OTLP_HTTP_PORT
SCRAPER_REPLICAS = 2
"""Two scrapers, so metrics (and the canary analysis that reads them) survive one scraper's loss. Both scrape every
target; Amazon Managed Prometheus keeps one replica's samples per `cluster` (high-availability deduplication on the
`cluster` and `__replica__` external labels) and drops the `__replica__` label, so no series is doubled."""
REPLICA_LABEL = "__replica__"
ARCHIVE_PREFIX = "containers"
OTLP_LOG_STREAM = "otlp"
SCRAPE_INTERVAL = "30s"
KARPENTER_SERVICE = "karpenter"
KARPENTER_METRICS_PORT_NAME = "http-metrics"


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs:
    ctx: StackContext
    config: ObservabilityConfig
    cluster: Cluster
    """The cluster whose logs and metrics are collected; the agents run on its nodes."""
    network: Network
    """The VPC: the collectors and agents reach anything in it but the database subnets."""


class Observability(PlatformComponent):
    workspace_arn: pulumi.Output[str]
    """The Amazon Managed Prometheus workspace."""
    prometheus_endpoint: pulumi.Output[str]
    """Its Prometheus-compatible base URL, ending in `/` (append `api/v1/query`, `api/v1/remote_write`)."""
    alert_topic_arn: pulumi.Output[str]
    application_log_group_name: pulumi.Output[str]
    otlp_grpc_endpoint: str
    """Where applications send OTLP over gRPC (the gateway collector's Service)."""
    otlp_http_endpoint: str
    """Where applications send OTLP over HTTP."""
    log_archive_bucket: str | None
    """The S3 archive of container logs, when `logsToS3`."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        self._args = args
        cfg = args.config
        cluster = args.cluster

        logs_key = self._key(
            "logs",
            "container logs, Prometheus workspace logs and the log archive",
            [iam.logs_key_statement(ctx, f"{ctx.namer.log_group('observability')}/*")],
        )
        telemetry_key = self._key(
            "telemetry",
            "Prometheus workspace, alert topic and X-Ray traces",
            [
                iam.via_services_statement(ctx, ("aps", "xray")),
                alerts_key_statement(ctx),
            ],
        )
        observability_ns = self._namespace(NAMESPACE, "restricted")
        network = args.network
        database_cidrs = [str(block) for block in plan_subnets(network.cidr, network.zones).database.values()]

        # Logs --------------------------------------------------------------------------------------------------
        app_group_name = ctx.namer.log_group("observability", "containers")
        app_group = aws.cloudwatch.LogGroup(
            self.child_name("containers"),
            name=app_group_name,
            retention_in_days=ctx.log_retention_days,
            kms_key_id=logs_key.arn,
            tags=self._tags("containers"),
            opts=self.child_opts("containers", protect=ctx.protect),
        )
        self.application_log_group_name = app_group.name
        archive = None
        if cfg.logs_to_s3:
            archive = secure_bucket(
                self,
                "log-archive",
                ctx=ctx,
                bucket_name=ctx.namer.physical("container-logs", ctx.account_id, ctx.region, service="s3-bucket"),
                kms_key_arn=logs_key.arn,
                expire_days=cfg.log_archive_days,
                # A replaced or deleted object stays as long as the archive keeps logs: the retention it serves.
                noncurrent_days=cfg.log_archive_days,
                protect=ctx.protect,
            )
        self.log_archive_bucket = archive_name = archive.name if archive else None
        fluent_bit = addon(
            self,
            FLUENT_BIT,
            ctx=ctx,
            cluster=cluster,
            namespace=LOGGING_NAMESPACE,
            # Fluent Bit reads host paths: its namespace is `privileged`.
            namespace_labels=namespace_labels("privileged", environment=ctx.environment),
            chart=FLUENT_BIT,
            version=cfg.fluent_bit_chart_version,
            repository=EKS_CHARTS,
            values=fluent_bit_values(region=ctx.region, log_group_name=app_group_name, archive_bucket=archive_name),
            role=self._pod_role(
                "fluent-bit",
                service_account=FLUENT_BIT,
                description="Fluent Bit: container logs to CloudWatch Logs and the S3 archive",
                policy=logs_key.arn.apply(
                    lambda key_arn: iam.document(
                        fluent_bit_statements(
                            ctx, log_group_name=app_group_name, archive_bucket=archive_name, key_arn=key_arn
                        )
                    )
                ),
            ),
            depends_on=[app_group, *([archive.policy] if archive else [])],
        )
        assert fluent_bit.namespace is not None
        network_policies(
            self, logging_network_policies(database_cidrs), cluster=cluster, depends_on=[fluent_bit.namespace]
        )

        # Metrics and alerts ------------------------------------------------------------------------------------
        workspace_group = aws.cloudwatch.LogGroup(
            self.child_name("prometheus"),
            name=ctx.namer.log_group("observability", "prometheus"),
            retention_in_days=ctx.log_retention_days,
            kms_key_id=logs_key.arn,
            tags=self._tags("prometheus"),
            opts=self.child_opts("prometheus", protect=ctx.protect),
        )
        workspace = aws.amp.Workspace(
            self.child_name("prometheus"),
            alias=ctx.namer.physical("prometheus"),
            kms_key_arn=telemetry_key.arn,
            logging_configuration=aws.amp.WorkspaceLoggingConfigurationArgs(
                log_group_arn=workspace_group.arn.apply(lambda arn: f"{arn}:*")
            ),
            tags=self._tags("prometheus"),
            opts=self.child_opts("prometheus", protect=ctx.protect),
        )
        self.workspace_arn = workspace.arn
        self.prometheus_endpoint = workspace.prometheus_endpoint
        aws.amp.RuleGroupNamespace(
            self.child_name("platform-rules"),
            name="platform",
            workspace_id=workspace.id,
            data=alert_rules.rule_file(),
            tags=self._tags("prometheus-rules"),
            opts=self.child_opts("platform-rules"),
        )
        topic = self._alert_topic(telemetry_key, workspace)
        self.alert_topic_arn = topic.arn

        # Collection --------------------------------------------------------------------------------------------
        # One namespace for the three collectors, so it is created here rather than by one of their add-ons.
        in_namespace: list[pulumi.Resource] = [observability_ns]
        network_policies(self, observability_network_policies(database_cidrs), cluster=cluster, depends_on=in_namespace)
        ksm = self._collector(
            KUBE_STATE_METRICS,
            chart=KUBE_STATE_METRICS,
            version=cfg.kube_state_metrics_chart_version,
            repository=PROMETHEUS_COMMUNITY_CHARTS,
            values=kube_state_metrics_values(),
            depends_on=in_namespace,
        )
        remote_write = workspace.prometheus_endpoint.apply(lambda endpoint: f"{endpoint}api/v1/remote_write")
        self._collector(
            GATEWAY,
            chart=COLLECTOR_CHART,
            version=cfg.otel_collector_chart_version,
            repository=OPEN_TELEMETRY_CHARTS,
            values=gateway_values(
                region=ctx.region,
                cluster_name=cluster.cluster_name,
                remote_write_url=remote_write,
                log_group_name=app_group_name,
            ),
            role=self._pod_role(
                "otel-gateway",
                service_account=GATEWAY,
                description="OpenTelemetry gateway: OTLP metrics to Prometheus, traces to X-Ray, logs to CloudWatch",
                policy=workspace.arn.apply(
                    lambda arn: iam.document(
                        [remote_write_statement(arn), *log_stream_statements(ctx, app_group_name, "OtlpLogs")]
                    )
                ),
                managed_policies=("AWSXRayDaemonWriteAccess",),
            ),
            depends_on=in_namespace,
        )
        self._collector(
            SCRAPER,
            chart=COLLECTOR_CHART,
            version=cfg.otel_collector_chart_version,
            repository=OPEN_TELEMETRY_CHARTS,
            values=scraper_values(region=ctx.region, cluster_name=cluster.cluster_name, remote_write_url=remote_write),
            role=self._pod_role(
                "otel-scraper",
                service_account=SCRAPER,
                description="OpenTelemetry scraper: Prometheus targets of the cluster to the workspace",
                policy=workspace.arn.apply(lambda arn: iam.document([remote_write_statement(arn)])),
            ),
            depends_on=[*in_namespace, ksm],
        )
        self.otlp_grpc_endpoint = f"{GATEWAY}.{NAMESPACE}.svc.cluster.local:{OTLP_GRPC_PORT}"
        self.otlp_http_endpoint = f"http://{GATEWAY}.{NAMESPACE}.svc.cluster.local:{OTLP_HTTP_PORT}"

        # Traces ------------------------------------------------------------------------------------------------
        aws.xray.EncryptionConfig(
            self.child_name("xray"), type="KMS", key_id=telemetry_key.arn, opts=self.child_opts("xray")
        )

        self.register_outputs(
            {
                "workspaceArn": self.workspace_arn,
                "prometheusEndpoint": self.prometheus_endpoint,
                "alertTopicArn": self.alert_topic_arn,
                "applicationLogGroupName": self.application_log_group_name,
                "otlpGrpcEndpoint": self.otlp_grpc_endpoint,
                "otlpHttpEndpoint": self.otlp_http_endpoint,
                "logArchiveBucket": self.log_archive_bucket,
            }
        )

    # -----------------------------------------------------------------------------------------------------------------

    def _tags(self, name: str, component: Mapping[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, dict(component or {}), self._ctx.namer.physical(name))

    def _key(self, name: str, purpose: str, statements: Sequence[iam.Statement]) -> aws.kms.Key:
        ctx = self._ctx
        return customer_key(
            self,
            name,
            ctx=ctx,
            description=f"{ctx.namer.base} observability: {purpose}",
            policy=iam.kms_key_policy(ctx, statements),
            tags=self._tags(f"observability-{name}"),
            alias=ctx.namer.alias("observability", name),
        )

    def _namespace(self, name: str, pod_security: str) -> k8s.core.v1.Namespace:
        return labelled_namespace(
            self,
            name,
            cluster=self._args.cluster,
            labels=namespace_labels(pod_security, environment=self._ctx.environment),
            protect=self._ctx.protect,
        )

    def _pod_role(
        self,
        name: str,
        *,
        service_account: str,
        description: str,
        policy: pulumi.Input[str],
        managed_policies: Sequence[str] = (),
    ) -> PodRoleSpec:
        """The EKS Pod Identity role of one collector's or agent's service account (the child `name`)."""
        return PodRoleSpec(
            key=name,
            service_account=service_account,
            description=f"{description} ({self._args.cluster.cluster_name}, EKS Pod Identity)",
            policy=policy,
            tags=self._tags(name),
            managed_policies=managed_policies,
        )

    def _collector(
        self,
        name: str,
        *,
        chart: str,
        version: str,
        repository: str,
        values: Mapping[str, Any],
        depends_on: Sequence[pulumi.Resource],
        role: PodRoleSpec | None = None,
    ) -> k8s.helm.v3.Release:
        """A collector in the `observability` namespace."""
        return addon(
            self,
            name,
            ctx=self._ctx,
            cluster=self._args.cluster,
            namespace=NAMESPACE,
            chart=chart,
            version=version,
            repository=repository,
            values=values,
            role=role,
            depends_on=depends_on,
        ).release

    def _alert_topic(self, key: aws.kms.Key, workspace: aws.amp.Workspace) -> aws.sns.Topic:
        ctx = self._ctx
        topic_name = ctx.namer.physical("alerts", service="sns")
        topic_arn = ctx.arn("sns", topic_name)
        topic = aws.sns.Topic(
            self.child_name("alerts"),
            name=topic_name,
            kms_master_key_id=key.arn,
            tags=self._tags("alerts"),
            opts=self.child_opts("alerts"),
        )
        topic_policy = aws.sns.TopicPolicy(
            self.child_name("alerts"),
            arn=topic.arn,
            policy=workspace.arn.apply(lambda arn: iam.document(alert_topic_statements(ctx, topic_arn, arn))),
            opts=self.child_opts("alerts"),
        )
        for email in self._args.config.alert_emails:
            aws.sns.TopicSubscription(
                self.child_name(f"alerts-{email}"),
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=self.child_opts(f"alerts-{email}"),
            )
        aws.amp.AlertManagerDefinition(
            self.child_name("alerts"),
            workspace_id=workspace.id,
            definition=alert_rules.alertmanager_definition(topic_arn, ctx.region),
            opts=self.child_opts("alerts", depends_on=[topic, topic_policy]),
        )
        return topic


# ---------------------------------------------------------------------------------------------------------------------
# Pure documents and values (no Pulumi runtime): unit-testable


def namespace_labels(pod_security: str, *, environment: str) -> dict[str, str]:
    """Labels of the component's namespaces: `pod_security` enforced, audited and warned about."""
    return {
        "app.kubernetes.io/managed-by": "pulumi",
        "platform/environment": environment,
        **kubernetes.pod_security_labels(pod_security),
    }


def namespace_manifest(name: str, pod_security: str, *, environment: str) -> dict[str, Any]:
    labels = namespace_labels(pod_security, environment=environment)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def log_stream_statements(ctx: StackContext, log_group_name: str, sid: str) -> list[iam.Statement]:
    """Write log streams of one pre-created log group; no CreateLogGroup, so nothing unencrypted can appear."""
    group_arn = ctx.arn("logs", f"log-group:{log_group_name}")
    return [
        iam.statement(
            sid,
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [group_arn, f"{group_arn}:*"],
        )
    ]


def fluent_bit_statements(
    ctx: StackContext, *, log_group_name: str, archive_bucket: str | None, key_arn: str
) -> list[iam.Statement]:
    """Fluent Bit's permissions. CloudWatch Logs encrypts with the group's key itself; S3 SSE-KMS uses the writer's
    permissions on the key (GenerateDataKey for each object, Decrypt to complete multipart uploads)."""
    statements = log_stream_statements(ctx, log_group_name, "ContainerLogs")
    if archive_bucket is not None:
        statements += [
            iam.statement(
                "ArchiveContainerLogs",
                "s3:PutObject",
                f"arn:{ctx.partition}:s3:::{archive_bucket}/{ARCHIVE_PREFIX}/*",
            ),
            iam.statement("EncryptArchive", ["kms:Decrypt", "kms:GenerateDataKey"], key_arn),
        ]
    return statements


def alerts_key_statement(ctx: StackContext) -> iam.Statement:
    """Let Amazon Managed Prometheus's alert manager publish to the KMS-encrypted alert topic: SNS asks the key on the
    `aps` principal's behalf, with the workspace as `aws:SourceArn` and its account as `aws:SourceAccount` (the same
    keys the topic policy checks), so only this account's workspaces may use the key. The workspace ARN is a
    pattern: the key exists before the workspace (which it encrypts)."""
    return iam.statement(
        "PrometheusPublishesEncryptedAlerts",
        ["kms:Decrypt", "kms:GenerateDataKey*"],
        principal={"Service": ctx.service_principal("aps")},
        condition={
            "StringEquals": {"aws:SourceAccount": ctx.account_id},
            "ArnLike": {"aws:SourceArn": ctx.arn("aps", "workspace/*")},
        },
    )


def observability_network_policies(database_cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """The observability namespace: default deny for ingress; the OTLP gateway accepts OTLP from the application
    namespaces only (`platform/application`), and the scraper reaches the collectors' and kube-state-metrics'
    metrics ports. Egress reaches anything but the database subnets (remote write, X-Ray and CloudWatch Logs through
    the VPC endpoints, and every scrape target)."""
    applications = dict([kubernetes.APPLICATION_NAMESPACE_LABEL])
    return [
        kubernetes.default_deny(NAMESPACE),
        kubernetes.network_policy(
            "allow-egress-but-database", NAMESPACE, egress=[kubernetes.egress_except(database_cidrs)]
        ),
        kubernetes.network_policy(
            "allow-otlp-from-applications",
            NAMESPACE,
            pod_selector={kubernetes.INSTANCE_LABEL: GATEWAY},
            ingress=[
                kubernetes.ingress_rule(
                    [kubernetes.pods(namespace_labels=applications)], kubernetes.ports(OTLP_GRPC_PORT, OTLP_HTTP_PORT)
                )
            ],
        ),
        kubernetes.network_policy(
            "allow-metrics-scrape",
            NAMESPACE,
            ingress=[kubernetes.scraper_ingress(KUBE_STATE_METRICS_PORT, COLLECTOR_METRICS_PORT)],
        ),
    ]


def logging_network_policies(database_cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """The logging namespace: Fluent Bit serves nothing but its metrics, to the scraper only, and reaches anything
    but the database subnets."""
    return [
        kubernetes.default_deny(LOGGING_NAMESPACE),
        kubernetes.network_policy(
            "allow-egress-but-database", LOGGING_NAMESPACE, egress=[kubernetes.egress_except(database_cidrs)]
        ),
        kubernetes.network_policy(
            "allow-metrics-scrape",
            LOGGING_NAMESPACE,
            ingress=[kubernetes.scraper_ingress(FLUENT_BIT_METRICS_PORT)],
        ),
    ]


def remote_write_statement(workspace_arn: str) -> iam.Statement:
    return iam.statement("RemoteWrite", "aps:RemoteWrite", workspace_arn)


def alert_topic_statements(ctx: StackContext, topic_arn: str, workspace_arn: str) -> list[iam.Statement]:
    """Only this account's workspace may publish, and nobody over plain HTTP."""
    return [
        iam.statement(
            "PrometheusAlertManagerPublishes",
            ["sns:GetTopicAttributes", "sns:Publish"],
            topic_arn,
            principal={"Service": ctx.service_principal("aps")},
            condition={
                "ArnEquals": {"aws:SourceArn": workspace_arn},
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
            },
        ),
        iam.statement(
            "DenyInsecureTransport",
            "sns:Publish",
            topic_arn,
            effect="Deny",
            principal={"AWS": "*"},
            condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
    ]


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def fluent_bit_values(*, region: str, log_group_name: str, archive_bucket: str | None) -> dict[str, Any]:
    """Values of the aws-for-fluent-bit chart (keys as in its values.yaml for chart 0.2.x)."""
    s3: dict[str, Any] = {"enabled": False}
    if archive_bucket is not None:
        s3 = {
            "enabled": True,
            "match": "kube.*",
            "bucket": archive_bucket,
            "region": region,
            "s3KeyFormat": f"/{ARCHIVE_PREFIX}/%Y/%m/%d/%H/$TAG[4]-$UUID.gz",
            "compression": "gzip",
            "totalFileSize": "100M",
            "uploadTimeout": "10m",
            "storeDirLimitSize": "256M",
            "retryLimit": 5,
        }
    return {
        "serviceAccount": {"create": True, "name": FLUENT_BIT},
        "priorityClassName": kubernetes.SYSTEM_NODE_CRITICAL,
        # A log shipper must run on every node, whatever taints pools carry now or later.
        "tolerations": [{"operator": "Exists"}],
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "20%"}},
        "resources": _resources("50m", "100Mi", "500m", "256Mi"),
        "cloudWatch": {"enabled": False},
        "cloudWatchLogs": {
            "enabled": True,
            "match": "kube.*",
            "region": region,
            "logGroupName": log_group_name,
            "logStreamPrefix": "node-",
            "logStreamTemplate": "$kubernetes['namespace_name'].$kubernetes['pod_name'].$kubernetes['container_name']",
            # The group is pre-created with retention and KMS; the agent must never create one.
            "autoCreateGroup": False,
        },
        "firehose": {"enabled": False},
        "kinesis": {"enabled": False},
        "kinesis_streams": {"enabled": False},
        "elasticsearch": {"enabled": False},
        "opensearch": {"enabled": False},
        "s3": s3,
    }


def kube_state_metrics_values() -> dict[str, Any]:
    """One replica: kube-state-metrics is stateless and two copies would export every series twice."""
    return {
        "replicas": 1,
        "prometheusScrape": False,  # scraped by the otel-scraper's static job, not by annotation
        "priorityClassName": kubernetes.SYSTEM_CLUSTER_CRITICAL,
        **kubernetes.on_system_nodes(),
        "resources": _resources("50m", "128Mi", "500m", "512Mi"),
        "service": {"port": KUBE_STATE_METRICS_PORT},
    }


_POD_SECURITY = {
    "podSecurityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
}
_UNUSED_PORTS = ("jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin")


def _collector_common(name: str) -> dict[str, Any]:
    return {
        "mode": "deployment",
        "fullnameOverride": name,
        "image": {"repository": COLLECTOR_IMAGE},
        "command": {"name": COLLECTOR_COMMAND},
        "serviceAccount": {"create": True, "name": name},
        "priorityClassName": kubernetes.SYSTEM_CLUSTER_CRITICAL,
        **kubernetes.on_system_nodes(),
        **_POD_SECURITY,
    }


def _extensions(region: str) -> dict[str, Any]:
    return {
        "health_check": {"endpoint": "${env:MY_POD_IP}:13133"},
        "sigv4auth": {"region": region, "service": "aps"},
    }


_PROCESSORS = {
    "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
    "batch": {"send_batch_size": 8192, "timeout": "5s"},
}
_PIPELINE_PROCESSORS = ["memory_limiter", "batch"]


def remote_write_exporter(remote_write_url: pulumi.Input[str], *, cluster_name: str) -> dict[str, Any]:
    return {
        "endpoint": remote_write_url,
        "auth": {"authenticator": "sigv4auth"},
        "external_labels": {"cluster": cluster_name},
        "timeout": "30s",
    }


def gateway_values(
    *, region: str, cluster_name: str, remote_write_url: pulumi.Input[str], log_group_name: str
) -> dict[str, Any]:
    """The OTLP gateway: stateless, so two replicas behind one Service, spread over nodes and zones."""
    selector = {"app.kubernetes.io/instance": GATEWAY}
    return {
        **_collector_common(GATEWAY),
        "replicaCount": 2,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "affinity": {"podAntiAffinity": kubernetes.node_spread(selector, required=False)},
        "topologySpreadConstraints": kubernetes.zone_spread(selector),
        "resources": _resources("200m", "256Mi", "1", "1Gi"),
        "podAnnotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(COLLECTOR_METRICS_PORT)},
        "ports": {
            "otlp": {"enabled": True, "containerPort": OTLP_GRPC_PORT, "servicePort": OTLP_GRPC_PORT, "hostPort": 0},
            "otlp-http": {
                "enabled": True,
                "containerPort": OTLP_HTTP_PORT,
                "servicePort": OTLP_HTTP_PORT,
                "hostPort": 0,
            },
            **{port: {"enabled": False} for port in _UNUSED_PORTS},
        },
        "config": {
            "extensions": _extensions(region),
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC_PORT}"},
                        "http": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_HTTP_PORT}"},
                    }
                }
            },
            "processors": _PROCESSORS,
            "exporters": {
                "prometheusremotewrite": remote_write_exporter(remote_write_url, cluster_name=cluster_name),
                "awsxray": {"region": region},
                "awscloudwatchlogs": {
                    "region": region,
                    "log_group_name": log_group_name,
                    "log_stream_name": OTLP_LOG_STREAM,
                },
            },
            "service": {
                "extensions": ["health_check", "sigv4auth"],
                "pipelines": {
                    "metrics": {
                        "receivers": ["otlp"],
                        "processors": _PIPELINE_PROCESSORS,
                        "exporters": ["prometheusremotewrite"],
                    },
                    "traces": {"receivers": ["otlp"], "processors": _PIPELINE_PROCESSORS, "exporters": ["awsxray"]},
                    "logs": {
                        "receivers": ["otlp"],
                        "processors": _PIPELINE_PROCESSORS,
                        "exporters": ["awscloudwatchlogs"],
                    },
                },
            },
        },
    }


def scraper_values(*, region: str, cluster_name: str, remote_write_url: pulumi.Input[str]) -> dict[str, Any]:
    """The Prometheus scraper: `SCRAPER_REPLICAS` identical replicas, spread over nodes and zones with a PDB, each
    writing with its pod name as `__replica__` so the workspace keeps one copy of every series."""
    selector = {kubernetes.INSTANCE_LABEL: SCRAPER}
    exporter = remote_write_exporter(remote_write_url, cluster_name=cluster_name)
    exporter["external_labels"] = {**exporter["external_labels"], REPLICA_LABEL: "${env:MY_POD_NAME}"}
    return {
        **_collector_common(SCRAPER),
        "replicaCount": SCRAPER_REPLICAS,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "affinity": {"podAntiAffinity": kubernetes.node_spread(selector, required=False)},
        "topologySpreadConstraints": kubernetes.zone_spread(selector),
        "extraEnvs": [{"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": _resources("200m", "512Mi", "1", "2Gi"),
        "clusterRole": {"create": True, "rules": SCRAPER_RBAC_RULES},
        "ports": {
            "otlp": {"enabled": False},
            "otlp-http": {"enabled": False},
            **{port: {"enabled": False} for port in _UNUSED_PORTS},
            "metrics": {
                "enabled": True,
                "containerPort": COLLECTOR_METRICS_PORT,
                "servicePort": COLLECTOR_METRICS_PORT,
            },
        },
        "config": {
            "extensions": _extensions(region),
            "receivers": {
                "prometheus": {
                    "config": {
                        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": "10s"},
                        "scrape_configs": scrape_configs(),
                    }
                }
            },
            "processors": _PROCESSORS,
            "exporters": {"prometheusremotewrite": exporter},
            "service": {
                "extensions": ["health_check", "sigv4auth"],
                "pipelines": {
                    "metrics": {
                        "receivers": ["prometheus"],
                        "processors": _PIPELINE_PROCESSORS,
                        "exporters": ["prometheusremotewrite"],
                    },
                    # The chart's default OTLP pipelines have no use here; null removes them from its defaults.
                    "traces": None,
                    "logs": None,
                },
            },
        },
    }


SCRAPER_RBAC_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
]
"""What the Prometheus receiver's Kubernetes service discovery (pod and endpointslice roles) reads; nothing else."""


def scrape_configs() -> list[dict[str, Any]]:
    """Prometheus scrape jobs. `$` is doubled because the collector expands `${...}` in its configuration."""
    ksm = f"{KUBE_STATE_METRICS}.{NAMESPACE}.svc.cluster.local:{KUBE_STATE_METRICS_PORT}"
    annotation = "__meta_kubernetes_pod_annotation_prometheus_io_"
    return [
        {"job_name": "kube-state-metrics", "honor_labels": True, "static_configs": [{"targets": [ksm]}]},
        {
            "job_name": "karpenter",
            "kubernetes_sd_configs": [{"role": "endpointslice", "namespaces": {"names": [karpenter.NAMESPACE]}}],
            "relabel_configs": [
                {
                    "action": "keep",
                    "source_labels": ["__meta_kubernetes_service_name", "__meta_kubernetes_endpointslice_port_name"],
                    "regex": f"{KARPENTER_SERVICE};{KARPENTER_METRICS_PORT_NAME}",
                },
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            ],
        },
        {
            "job_name": "otel-scraper",
            "static_configs": [{"targets": [f"${{env:MY_POD_IP}}:{COLLECTOR_METRICS_PORT}"]}],
        },
        {
            "job_name": "kubernetes-pods",
            "kubernetes_sd_configs": [{"role": "pod"}],
            "relabel_configs": [
                {"action": "keep", "source_labels": [f"{annotation}scrape"], "regex": "true"},
                {
                    "action": "drop",
                    "source_labels": ["__meta_kubernetes_pod_phase"],
                    "regex": "Pending|Succeeded|Failed",
                },
                {"source_labels": [f"{annotation}scheme"], "regex": "(https?)", "target_label": "__scheme__"},
                {"source_labels": [f"{annotation}path"], "regex": "(.+)", "target_label": "__metrics_path__"},
                {
                    "source_labels": ["__meta_kubernetes_pod_ip", f"{annotation}port"],
                    "regex": r"(.+);(\d+)",
                    "replacement": "$$1:$$2",
                    "target_label": "__address__",
                },
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                {"source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], "target_label": "app"},
            ],
        },
    ]
