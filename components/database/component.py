"""Database: RDS PostgreSQL, Multi-AZ, encrypted, IAM-authenticated, reachable only from the app security group.

Creates:
- a customer KMS key (rotation on) for storage, Performance Insights, the master secret, log exports and the alarm
  topic;
- a DB subnet group on the isolated database subnets and a security group whose only rule admits 5432 from the app
  security group (no CIDR rules, no egress: PostgreSQL initiates nothing);
- a parameter group for the major version's family: `rds.force_ssl=1`, slow-statement, connection and
  disconnection logging, `pg_stat_statements`;
- the instance: gp3 with storage autoscaling, Multi-AZ, IAM authentication, the master password managed by RDS in
  Secrets Manager under the key (rotated every `secretRotationDays`), backups 7-35 days in a backup window that does
  not overlap the maintenance window, minor versions applied in the maintenance window, copied tags, a final snapshot,
  automated backups kept after delete, deletion protection (and Pulumi `protect` in prod), Performance Insights
  and Enhanced Monitoring, log exports into pre-created log groups with retention, a current CA, never public;
- the application's identity: an IAM role for EKS Pod Identity (namespace/service account from config) allowed
  `rds-db:connect` only as its own database user on this instance;
- an in-cluster bootstrap Job that creates that user with `rds_iam` using the master secret;
- CloudWatch alarms on CPU, free storage, freeable memory and connections, to a KMS-encrypted SNS topic.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster.component import Cluster
from components.database.config import DatabaseConfig
from components.network.component import Network
from components.workloads.component import Workloads
from core import iam
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Database"
PORT = 5432
LOG_EXPORTS = ("postgresql", "upgrade")
BOOTSTRAP_SERVICE_ACCOUNT = "db-bootstrap"
AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.32.9"
PSQL_IMAGE = "public.ecr.aws/docker/library/postgres:17.11-alpine"
GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    ctx: StackContext
    config: DatabaseConfig
    network: Network
    """The isolated database subnets and the VPC."""
    cluster: Cluster
    """Its node security group is the one whose pods may connect; the bootstrap Job runs in it."""
    workloads: Workloads
    """The application namespaces (with their LimitRange and quota): the bootstrap Job's namespace must exist first."""


class Database(PlatformComponent):
    endpoint: pulumi.Output[str]
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    database_name: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    resource_id: pulumi.Output[str]
    app_role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        cfg = args.config
        identifier = ctx.namer.physical("postgres", service="rds")

        key = customer_key(
            self,
            "database",
            ctx=ctx,
            description=f"RDS {identifier}: storage, Performance Insights, master secret, logs, alarms",
            policy=iam.kms_key_policy(
                ctx,
                [
                    iam.via_services_statement(ctx, ("rds", "secretsmanager")),
                    iam.logs_key_statement(ctx, f"/aws/rds/instance/{identifier}/*"),
                    iam.statement(
                        "CloudWatchAlarmsPublishToTopic",
                        ["kms:Decrypt", "kms:GenerateDataKey*"],
                        principal={"Service": ctx.service_principal("cloudwatch")},
                    ),
                ],
            ),
            tags=self._tags("database"),
            alias=ctx.namer.alias("rds"),
        )

        subnet_group = aws.rds.SubnetGroup(
            self.child_name("database"),
            description=f"{identifier}: isolated database subnets",
            subnet_ids=[args.network.database_subnet_ids[az] for az in args.network.zones],
            tags=self._tags("database"),
            opts=self.child_opts("database"),
        )
        sg = aws.ec2.SecurityGroup(
            self.child_name("database"),
            vpc_id=args.network.vpc_id,
            description=f"{identifier}: PostgreSQL from the application security group only",
            tags=self._tags("database"),
            opts=self.child_opts("database"),
        )
        aws.vpc.SecurityGroupIngressRule(
            self.child_name("database-from-app"),
            security_group_id=sg.id,
            description="PostgreSQL from the application (EKS node) security group",
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            referenced_security_group_id=args.cluster.node_security_group_id,
            tags=self._tags("database-from-app"),
            opts=self.child_opts("database-from-app"),
        )
        self.security_group_id = sg.id

        parameters = aws.rds.ParameterGroup(
            self.child_name("database"),
            family=cfg.parameter_group_family,
            description=f"{identifier}: TLS only, slow-statement and connection logging, pg_stat_statements",
            parameters=[aws.rds.ParameterGroupParameterArgs(**p) for p in parameter_settings(cfg)],
            tags=self._tags("database"),
            opts=self.child_opts("database"),
        )

        monitoring_role = aws.iam.Role(
            self.child_name("monitoring"),
            description=f"{identifier}: Enhanced Monitoring",
            assume_role_policy=iam.service_trust(ctx, "monitoring.rds"),
            tags=self._tags("rds-monitoring"),
            opts=self.child_opts("monitoring"),
        )
        monitoring_policy = aws.iam.RolePolicyAttachment(
            self.child_name("monitoring"),
            role=monitoring_role.name,
            policy_arn=ctx.managed_policy("service-role/AmazonRDSEnhancedMonitoringRole"),
            opts=self.child_opts("monitoring"),
        )
        log_groups = [
            aws.cloudwatch.LogGroup(
                self.child_name(f"log-{export}"),
                name=f"/aws/rds/instance/{identifier}/{export}",
                retention_in_days=ctx.log_retention_days,
                kms_key_id=key.arn,
                tags=self._tags(f"rds-{export}"),
                opts=self.child_opts(f"log-{export}", protect=ctx.protect),
            )
            for export in LOG_EXPORTS
        ]
        snapshot_suffix = random.RandomId(
            self.child_name("final-snapshot"), byte_length=4, opts=self.child_opts("final-snapshot")
        )

        instance = aws.rds.Instance(
            self.child_name("postgres"),
            identifier=identifier,
            engine="postgres",
            engine_version=cfg.engine_version,
            auto_minor_version_upgrade=True,
            instance_class=cfg.instance_class,
            storage_type="gp3",
            allocated_storage=cfg.allocated_storage_gib,
            max_allocated_storage=cfg.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=cfg.multi_az,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[sg.id],
            publicly_accessible=False,
            port=PORT,
            parameter_group_name=parameters.name,
            db_name=cfg.database_name,
            username=cfg.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            iam_database_authentication_enabled=True,
            ca_cert_identifier=cfg.ca_certificate,
            backup_retention_period=cfg.backup_retention_days,
            backup_window=cfg.backup_window,
            maintenance_window=cfg.maintenance_window,
            copy_tags_to_snapshot=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=snapshot_suffix.hex.apply(lambda h: f"{identifier}-final-{h}"),
            delete_automated_backups=False,
            deletion_protection=cfg.deletion_protection,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=cfg.performance_insights_retention_days,
            monitoring_interval=cfg.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            apply_immediately=False,
            tags=self._tags("postgres"),
            opts=self.child_opts("postgres", protect=ctx.protect, depends_on=[*log_groups, monitoring_policy]),
        )
        master_secret_arn = instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn or "")
        aws.secretsmanager.SecretRotation(
            self.child_name("master"),
            secret_id=master_secret_arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=cfg.secret_rotation_days
            ),
            opts=self.child_opts("master"),
        )

        self.endpoint = instance.endpoint
        self.address = instance.address
        self.port = instance.port
        self.database_name = pulumi.Output.from_input(cfg.database_name)
        self.master_secret_arn = master_secret_arn
        self.resource_id = instance.resource_id

        app_role = self._app_identity(args, instance)
        self.app_role_arn = app_role.arn
        self._bootstrap(args, instance, key, master_secret_arn)
        self.alarm_topic_arn = self._alarms(identifier, key, cfg)

        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "port": self.port,
                "databaseName": self.database_name,
                "masterSecretArn": self.master_secret_arn,
                "resourceId": self.resource_id,
                "appRoleArn": self.app_role_arn,
                "securityGroupId": self.security_group_id,
                "alarmTopicArn": self.alarm_topic_arn,
            }
        )

    # -----------------------------------------------------------------------------------------------------------------

    def _tags(self, name: str, component: Mapping[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, dict(component or {}), self._ctx.namer.physical(name))

    def _app_identity(self, args: DatabaseArgs, instance: aws.rds.Instance) -> aws.iam.Role:
        ctx, app = self._ctx, args.config.app
        role = aws.iam.Role(
            self.child_name("app"),
            description=f"{app.namespace}/{app.service_account}: IAM database authentication as {app.db_user}",
            assume_role_policy=iam.pod_identity_trust(
                ctx, cluster=args.cluster.cluster_name, namespace=app.namespace, service_account=app.service_account
            ),
            tags=self._tags("db-app"),
            opts=self.child_opts("app"),
        )
        aws.iam.RolePolicy(
            self.child_name("app-connect"),
            role=role.id,
            policy=instance.resource_id.apply(lambda rid: iam.document([rds_connect_statement(ctx, rid, app.db_user)])),
            opts=self.child_opts("app-connect"),
        )
        aws.eks.PodIdentityAssociation(
            self.child_name("app"),
            cluster_name=args.cluster.name,
            namespace=app.namespace,
            service_account=app.service_account,
            role_arn=role.arn,
            tags=self._tags("db-app"),
            opts=self.child_opts("app"),
        )
        return role

    def _bootstrap(
        self, args: DatabaseArgs, instance: aws.rds.Instance, key: aws.kms.Key, master_secret_arn: pulumi.Output[str]
    ) -> None:
        """An in-cluster Job that creates the application's database user with rds_iam (idempotent)."""
        ctx, cfg = self._ctx, args.config
        role = aws.iam.Role(
            self.child_name("bootstrap"),
            description=f"{cfg.app.namespace}/{BOOTSTRAP_SERVICE_ACCOUNT}: reads the master secret once",
            assume_role_policy=iam.pod_identity_trust(
                ctx,
                cluster=args.cluster.cluster_name,
                namespace=cfg.app.namespace,
                service_account=BOOTSTRAP_SERVICE_ACCOUNT,
            ),
            tags=self._tags("db-bootstrap"),
            opts=self.child_opts("bootstrap"),
        )
        aws.iam.RolePolicy(
            self.child_name("bootstrap-secret"),
            role=role.id,
            policy=pulumi.Output.all(master_secret_arn, key.arn).apply(
                lambda values: iam.document(
                    [
                        iam.statement("ReadMasterSecret", "secretsmanager:GetSecretValue", values[0]),
                        iam.statement("DecryptMasterSecret", "kms:Decrypt", values[1]),
                    ]
                )
            ),
            opts=self.child_opts("bootstrap-secret"),
        )
        association = aws.eks.PodIdentityAssociation(
            self.child_name("bootstrap"),
            cluster_name=args.cluster.name,
            namespace=cfg.app.namespace,
            service_account=BOOTSTRAP_SERVICE_ACCOUNT,
            role_arn=role.arn,
            tags=self._tags("db-bootstrap"),
            opts=self.child_opts("bootstrap"),
        )
        # The application namespace, its defaults and quota come from the workloads component.
        in_namespace = [args.workloads]
        account = k8s.core.v1.ServiceAccount(
            self.child_name("bootstrap"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BOOTSTRAP_SERVICE_ACCOUNT, namespace=cfg.app.namespace),
            automount_service_account_token=False,
            opts=self.child_opts("bootstrap", provider=args.cluster.provider, depends_on=in_namespace),
        )
        k8s.batch.v1.Job(
            self.child_name("bootstrap"),
            metadata=k8s.meta.v1.ObjectMetaArgs(generate_name="db-bootstrap-", namespace=cfg.app.namespace),
            spec=cast(
                Any,
                pulumi.Output.all(master_secret_arn, instance.address).apply(
                    lambda values: bootstrap_job_spec(cfg, region=ctx.region, secret_arn=values[0], host=values[1])
                ),
            ),
            opts=self.child_opts(
                "bootstrap",
                provider=args.cluster.provider,
                # A Job's pod needs schedulable nodes: the cluster's system nodes and add-ons.
                depends_on=[*args.cluster.ready, *in_namespace, account, association, instance],
            ),
        )

    def _alarms(self, identifier: str, key: aws.kms.Key, cfg: DatabaseConfig) -> pulumi.Output[str]:
        topic = aws.sns.Topic(
            self.child_name("alarms"),
            kms_master_key_id=key.arn,
            tags=self._tags("database-alarms"),
            opts=self.child_opts("alarms"),
        )
        for index, email in enumerate(cfg.alarms.emails):
            aws.sns.TopicSubscription(
                self.child_name(f"alarms-email-{index}"),
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=self.child_opts(f"alarms-email-{index}"),
            )
        for alarm in alarm_definitions(cfg):
            aws.cloudwatch.MetricAlarm(
                self.child_name(f"alarm-{alarm['key']}"),
                alarm_description=alarm["description"],
                namespace="AWS/RDS",
                metric_name=alarm["metric"],
                dimensions={"DBInstanceIdentifier": identifier},
                statistic="Average",
                period=300,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator=alarm["comparison"],
                threshold=alarm["threshold"],
                treat_missing_data="breaching" if alarm["key"] != "connections" else "notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                tags=self._tags(f"db-{alarm['key']}"),
                opts=self.child_opts(f"alarm-{alarm['key']}"),
            )
        return topic.arn


def parameter_settings(cfg: DatabaseConfig) -> list[dict[str, str]]:
    """Parameter-group settings; static ones (shared_preload_libraries) apply at the next reboot."""
    on = "1"
    return [
        {"name": "rds.force_ssl", "value": on, "apply_method": "immediate"},
        {"name": "log_min_duration_statement", "value": str(cfg.log_min_duration_ms), "apply_method": "immediate"},
        {"name": "log_connections", "value": on if cfg.log_connections else "0", "apply_method": "immediate"},
        {"name": "log_disconnections", "value": on if cfg.log_connections else "0", "apply_method": "immediate"},
        {"name": "log_lock_waits", "value": on, "apply_method": "immediate"},
        {"name": "shared_preload_libraries", "value": "pg_stat_statements", "apply_method": "pending-reboot"},
        {"name": "pg_stat_statements.track", "value": "all", "apply_method": "immediate"},
    ]


def rds_connect_statement(ctx: StackContext, resource_id: str, db_user: str) -> iam.Statement:
    return iam.statement(
        "ConnectAsOwnUser",
        "rds-db:connect",
        f"arn:{ctx.partition}:rds-db:{ctx.region}:{ctx.account_id}:dbuser:{resource_id}/{db_user}",
    )


def alarm_definitions(cfg: DatabaseConfig) -> list[dict[str, Any]]:
    a = cfg.alarms
    return [
        {"key": "cpu", "metric": "CPUUtilization", "comparison": "GreaterThanThreshold", "threshold": a.cpu_percent,
         "description": f"CPU above {a.cpu_percent}%"},
        {"key": "free-storage", "metric": "FreeStorageSpace", "comparison": "LessThanThreshold",
         "threshold": a.free_storage_gib * GIB, "description": f"free storage below {a.free_storage_gib} GiB"},
        {"key": "freeable-memory", "metric": "FreeableMemory", "comparison": "LessThanThreshold",
         "threshold": a.freeable_memory_mib * MIB, "description": f"freeable memory below {a.freeable_memory_mib} MiB"},
        {"key": "connections", "metric": "DatabaseConnections", "comparison": "GreaterThanThreshold",
         "threshold": a.connections, "description": f"more than {a.connections} connections"},
    ]  # fmt: skip


# psql does not substitute its variables inside dollar-quoted bodies (DO $$ ... $$), so the conditional CREATE ROLE
# is a query whose result psql executes (\gexec): it returns the statement only when the role is missing.
BOOTSTRAP_SQL = """SELECT format('CREATE ROLE %I LOGIN', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \\gexec
GRANT rds_iam TO :"app_user";
GRANT CONNECT ON DATABASE :"db_name" TO :"app_user";
GRANT USAGE, CREATE ON SCHEMA public TO :"app_user";
"""


def bootstrap_job_spec(cfg: DatabaseConfig, *, region: str, secret_arn: str, host: str) -> dict[str, Any]:
    """The bootstrap Job: an init container fetches the master secret (Pod Identity), psql creates the user."""
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
    }
    resources = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    fetch = (
        'aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$SECRET_ARN" '
        "--query SecretString --output text > /work/secret.json"
    )
    # The secret is {"username": ..., "password": ...}; RDS-generated passwords contain no '"', '/' or '@'.
    run = (
        "set -eu; "
        'export PGPASSWORD="$(sed -E \'s/.*"password" *: *"([^"]*)".*/\\1/\' /work/secret.json)"; '
        'export PGUSER="$(sed -E \'s/.*"username" *: *"([^"]*)".*/\\1/\' /work/secret.json)"; '
        f"psql --set=ON_ERROR_STOP=1 --set=app_user={shlex.quote(cfg.app.db_user)} "
        f"--set=db_name={shlex.quote(cfg.database_name)} --file=/sql/bootstrap.sql"
    )
    return {
        "backoffLimit": 4,
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "db-bootstrap"}},
            "spec": {
                "serviceAccountName": BOOTSTRAP_SERVICE_ACCOUNT,
                "restartPolicy": "OnFailure",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 70,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "volumes": [
                    {"name": "work", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    {"name": "home", "emptyDir": {"sizeLimit": "16Mi"}},
                    {"name": "sql", "emptyDir": {"sizeLimit": "1Mi"}},
                ],
                "initContainers": [
                    {
                        "name": "fetch-master-secret",
                        "image": AWS_CLI_IMAGE,
                        "command": ["sh", "-c", fetch + " && printf '%s' \"$SQL\" > /sql/bootstrap.sql"],
                        "env": [
                            {"name": "AWS_REGION", "value": region},
                            {"name": "SECRET_ARN", "value": secret_arn},
                            {"name": "HOME", "value": "/home"},
                            {"name": "SQL", "value": BOOTSTRAP_SQL},
                        ],
                        "securityContext": {**restricted, "runAsUser": 1000},
                        "resources": resources,
                        "volumeMounts": [
                            {"name": "work", "mountPath": "/work"},
                            {"name": "home", "mountPath": "/home"},
                            {"name": "sql", "mountPath": "/sql"},
                        ],
                    }
                ],
                "containers": [
                    {
                        "name": "create-app-user",
                        "image": PSQL_IMAGE,
                        "command": ["sh", "-c", run],
                        "env": [
                            {"name": "PGHOST", "value": host},
                            {"name": "PGPORT", "value": str(PORT)},
                            {"name": "PGDATABASE", "value": cfg.database_name},
                            {"name": "PGSSLMODE", "value": "require"},
                        ],
                        "securityContext": restricted,
                        "resources": resources,
                        "volumeMounts": [{"name": "work", "mountPath": "/work"}, {"name": "sql", "mountPath": "/sql"}],
                    }
                ],
            },
        },
    }
