"""Database: RDS PostgreSQL, Multi-AZ, encrypted, IAM-authenticated, reachable only from the application's pods.

Creates:
- a customer KMS key (rotation on) for storage, Performance Insights, the master secret, log exports, the bootstrap
  function's logs and the alarm topic; its service-principal statements carry the confused-deputy conditions the
  services send (`database_key_statements`);
- a DB subnet group on the isolated database subnets and a security group that admits 5432 from two groups only: the
  application's pod security group and the bootstrap function's (no CIDR rules, no egress: PostgreSQL initiates
  nothing);
- the application's network identity, Security Groups for Pods (the cluster runs the VPC CNI in pod-ENI mode): a pod
  security group, and a `SecurityGroupPolicy` in the application's namespace that gives it to the pods labelled
  `platform/database-client` (an admission policy of the workloads component reserves that label to pods running as
  the application's service account) whose service account carries the same label (`pod_security_group_rules`);
- a parameter group for the major version's family: `rds.force_ssl=1`, slow-statement, connection and
  disconnection logging, `pg_stat_statements`;
- the instance: gp3 with storage autoscaling, Multi-AZ, IAM authentication, the master password managed by RDS in
  Secrets Manager under the key (rotated every `secretRotationDays`), backups 7-35 days in a backup window that does
  not overlap the maintenance window, minor versions applied in the maintenance window, copied tags, a final snapshot,
  automated backups kept after delete, deletion protection, Performance Insights and Enhanced Monitoring, log exports
  into pre-created log groups with retention, a current CA, never public; Pulumi `protect` and `retain_on_delete`
  where the stack protects stateful resources;
- a guard of its creation-time settings (`guard.CreationTimeGuard`): `databaseName` and `masterUsername` are fixed
  when RDS creates the instance (pulumi-aws replaces the instance when `dbName`, `username`, `identifier`,
  `kmsKeyId`, `storageEncrypted`, `engine`, `availabilityZone`, `characterSetName`, `ncharCharacterSetName`,
  `timezone`, `snapshotIdentifier` or `restoreToPointInTime` change); the guard makes the engine refuse a change of the
  two that come from config, in preview and in up, with a message naming the key;
- the application's identity: an IAM role for EKS Pod Identity (namespace/service account from config) allowed
  `rds-db:connect` only as its own database user on this instance;
- the bootstrap of that user, outside the cluster (`bootstrap/handler.py`);
- CloudWatch alarms on CPU, free storage, freeable memory and connections, to a KMS-encrypted SNS topic.

Why the bootstrap is a Lambda function and not a Job. Creating the user needs the master (rds_superuser) password.
A Kubernetes Job needs a Pod Identity association that can read the secret, and an association is permanent: anyone
who may create a pod in its namespace can run as its service account and read the password (an application
namespace is writable by its team and its Argo CD application). The function runs where no team deploys, in the
VPC's private subnets with a security group of its own (egress only to the database on 5432 and to HTTPS for Secrets
Manager, through the VPC endpoint where the stack has one, otherwise through NAT), under an execution role that only
the Lambda service assumes (and only for a function that an account administrator created with it: `iam:PassRole`),
so its credentials exist only while it runs; that role is the only principal the platform lets read and decrypt the
master secret (no Pod Identity role can), and the secret and its key are all it may read. No one in the cluster can
invoke it: `lambda:InvokeFunction` is granted to no workload. The stack invokes it (`aws.lambda_.Invocation`, with the
desired state as the event) when that state changes: the instance's address, the database, the user, the function's
code. It is a Python runtime function, not a container image: the standard library (plus the runtime's boto3 for one
Secrets Manager call) is all it needs, so there is no image to pin by digest and no third-party code next to the
password; the PostgreSQL protocol it speaks is in `handler.py`, tested against a real PostgreSQL with TLS and SCRAM.

TLS is verify-full: the function trusts only `bootstrap/rds-ca-roots.pem`, the RDS G1 root CAs (RSA2048, RSA4096,
ECC384) of the organisation's allowed regions, vendored rather than fetched: the plan stays offline and
deterministic, the function needs no route to the internet for it, and a change of trust anchors is a reviewed diff
(`RDS_ROOT_CAS` pins each certificate's SHA-256 fingerprint; tests check the file against it and that every allowed
region and CA kind is covered). The certificates are byte-for-byte those of AWS's global bundle
(https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem, "Certificate bundles for all AWS Regions" in the
RDS User Guide); AWS publishes no checksum for the bundle, so the fingerprints were checked identical across five
independently published copies of it (2023-06 to 2025-07). Refresh: download the bundle, extract the roots with
`openssl x509 -fingerprint -sha256`, compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cluster.component import Cluster
from components.database.bootstrap import handler as bootstrap_handler
from components.database.config import DatabaseConfig
from components.database.guard import CreationTimeGuard
from components.network.component import Network
from components.workloads.component import Workloads
from core import iam, kubernetes
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Database"
PORT = 5432
HTTPS_PORT = 443
DNS_PORT = 53
ANYWHERE_V4 = "0.0.0.0/0"
LOG_EXPORTS = ("postgresql", "upgrade")
BOOTSTRAP_RUNTIME = "python3.13"
BOOTSTRAP_TIMEOUT_SECONDS = 60
GIB = 1024**3
MIB = 1024**2
SECURITY_GROUP_POLICY_API = "vpcresources.k8s.aws/v1beta1"

RDS_ROOT_CAS: Mapping[str, str] = {
    "Amazon RDS eu-west-1 Root CA RSA2048 G1": "6f7e01b62af24058417130b21e5fb9ad9f29b29c775c5107b657419010975886",
    "Amazon RDS eu-west-1 Root CA RSA4096 G1": "62e29ef90310947eed5d5546021d636008fad329fab9ea31ba1ae768b734f29a",
    "Amazon RDS eu-west-1 Root CA ECC384 G1": "88ecf027448f7198f3c1a6762474c4658dab35a18686af6b65de3c4023c6d0b2",
    "Amazon RDS eu-central-1 Root CA RSA2048 G1": "3d8b08a7390c9b10d190a6b349d703ae00bae46583643319c7faccf3e5dc4a8b",
    "Amazon RDS eu-central-1 Root CA RSA4096 G1": "3111f322e448c26ea2722c02e29714dace16d5c39336cdf6dfbffbc0368d5332",
    "Amazon RDS eu-central-1 Root CA ECC384 G1": "ae697d082ee1862f711ecae3893c3c613b7315d020f74674051534a5b166d47b",
}
"""Subject CN -> SHA-256 fingerprint of every root in `bootstrap/rds-ca-roots.pem` (the function's only trust
anchors): the G1 roots of `rds-ca-rsa2048-g1`, `rds-ca-rsa4096-g1` and `rds-ca-ecc384-g1` in each allowed region."""


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    ctx: StackContext
    config: DatabaseConfig
    network: Network
    """The isolated database subnets, the private subnets the bootstrap function runs in, the ALB's security group."""
    cluster: Cluster
    """Its node security group runs CoreDNS (the application's pods resolve names there) and the in-cluster clients of
    the application (Prometheus); its Kubernetes provider holds the SecurityGroupPolicy."""
    workloads: Workloads
    """The application namespaces: the SecurityGroupPolicy's namespace must exist first."""


class Database(PlatformComponent):
    endpoint: pulumi.Output[str]
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    database_name: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    resource_id: pulumi.Output[str]
    app_role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]
    """The application's pod security group (Security Groups for Pods): the only pods that reach the database."""
    bootstrap_function_name: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        cfg = args.config
        identifier = ctx.namer.physical("postgres", service="rds")
        bootstrap_name = ctx.namer.physical("db-bootstrap")
        bootstrap_log_group = ctx.namer.log_group("database", "bootstrap")

        key = customer_key(
            self,
            "database",
            ctx=ctx,
            description=f"RDS {identifier}: storage, Performance Insights, master secret, logs, alarms",
            policy=iam.kms_key_policy(
                ctx,
                database_key_statements(ctx, log_groups=(f"/aws/rds/instance/{identifier}/*", bootstrap_log_group)),
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
        self.security_group_id = sg.id
        app_sg = self._app_pods_security_group(args, sg)
        self.app_security_group_id = app_sg.id
        bootstrap_sg, bootstrap_egress = self._bootstrap_security_group(args, sg, bootstrap_name)
        bootstrap_path = [
            *bootstrap_egress,
            self._rule(
                "ingress",
                "database-from-app",
                sg,
                f"PostgreSQL from the application's pod security group ({cfg.app.namespace}/{cfg.app.service_account})",
                port=PORT,
                peer=app_sg.id,
            ),
            self._rule(
                "ingress",
                "database-from-bootstrap",
                sg,
                "PostgreSQL from the bootstrap function, which creates the application's user",
                port=PORT,
                peer=bootstrap_sg.id,
            ),
        ]

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
        # The engine refuses a change of a creation-time setting here, before the instance (which waits for it) could
        # be replaced: see guard.py.
        guard = CreationTimeGuard(
            self.child_name("creation-time-guard"),
            {"databaseName": cfg.database_name, "masterUsername": cfg.master_username},
            opts=self.child_opts("creation-time-guard"),
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
            opts=self.child_opts(
                "postgres",
                protect=ctx.protect,
                # Where the stack is protected, removing the instance from the program (or the stack) leaves it in
                # the account: deleting a production database is a deliberate act outside Pulumi.
                retain_on_delete=ctx.protect,
                depends_on=[*log_groups, monitoring_policy, guard],
            ),
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
        self._security_group_policy(args, app_sg)
        self.bootstrap_function_name = self._bootstrap(
            args,
            instance,
            key,
            master_secret_arn,
            name=bootstrap_name,
            log_group_name=bootstrap_log_group,
            security_group=bootstrap_sg,
            depends_on=bootstrap_path,
        )
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
                "appSecurityGroupId": self.app_security_group_id,
                "bootstrapFunctionName": self.bootstrap_function_name,
                "alarmTopicArn": self.alarm_topic_arn,
            }
        )

    # -----------------------------------------------------------------------------------------------------------------

    def _tags(self, name: str, component: Mapping[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, dict(component or {}), self._ctx.namer.physical(name))

    def _rule(
        self,
        direction: str,
        key: str,
        group: aws.ec2.SecurityGroup | pulumi.Output[str],
        description: str,
        *,
        port: int,
        peer: pulumi.Input[str] | None = None,
        cidr: str | None = None,
        protocol: str = "tcp",
    ) -> pulumi.Resource:
        """A one-port rule of `group` (a group or its id) to or from the group `peer`, or the IPv4 range `cidr`."""
        rule = aws.vpc.SecurityGroupIngressRule if direction == "ingress" else aws.vpc.SecurityGroupEgressRule
        return rule(
            self.child_name(key),
            security_group_id=group.id if isinstance(group, aws.ec2.SecurityGroup) else group,
            description=description,
            ip_protocol=protocol,
            from_port=port,
            to_port=port,
            referenced_security_group_id=peer,
            cidr_ipv4=cidr,
            tags=self._tags(key),
            opts=self.child_opts(key),
        )

    def _app_pods_security_group(self, args: DatabaseArgs, database: aws.ec2.SecurityGroup) -> aws.ec2.SecurityGroup:
        """The application's pod security group and its rules (`pod_security_group_rules` says why each exists)."""
        app = args.config.app
        group = aws.ec2.SecurityGroup(
            self.child_name("app-pods"),
            vpc_id=args.network.vpc_id,
            description=f"{app.namespace}/{app.service_account}: pods that may reach the database (Security Groups "
            "for Pods)",
            tags=self._tags("app-pods"),
            opts=self.child_opts("app-pods"),
        )
        peers: dict[str, pulumi.Input[str] | None] = {
            "alb": args.network.alb_security_group_id,
            "nodes": args.cluster.node_security_group_id,
            "database": database.id,
            "anywhere": None,
        }
        for rule in pod_security_group_rules(app.port):
            target = args.cluster.node_security_group_id if rule.on_peer else group.id
            self._rule(
                rule.direction,
                rule.key,
                target,
                rule.description,
                port=rule.port,
                protocol=rule.protocol,
                peer=group.id if rule.on_peer else peers[rule.peer],
                cidr=ANYWHERE_V4 if rule.peer == "anywhere" else None,
            )
        return group

    def _bootstrap_security_group(
        self, args: DatabaseArgs, database: aws.ec2.SecurityGroup, function_name: str
    ) -> tuple[aws.ec2.SecurityGroup, list[pulumi.Resource]]:
        """The bootstrap function's network identity, out to the database and to HTTPS (Secrets Manager) only, and those
        two rules."""
        group = aws.ec2.SecurityGroup(
            self.child_name("bootstrap"),
            vpc_id=args.network.vpc_id,
            description=f"{function_name}: the database bootstrap function (PostgreSQL and Secrets Manager out only)",
            tags=self._tags("db-bootstrap"),
            opts=self.child_opts("bootstrap"),
        )
        rules = [
            self._rule(
                "egress", "bootstrap-to-database", group, "PostgreSQL to the database", port=PORT, peer=database.id
            ),
            self._rule(
                "egress",
                "bootstrap-https",
                group,
                "HTTPS to Secrets Manager (its VPC endpoint where the stack has one, otherwise through NAT)",
                port=HTTPS_PORT,
                cidr=ANYWHERE_V4,
            ),
        ]
        return group, rules

    def _security_group_policy(self, args: DatabaseArgs, group: aws.ec2.SecurityGroup) -> None:
        """The SecurityGroupPolicy that gives the application's pods their security group (VPC resource controller)."""
        app = args.config.app
        k8s.apiextensions.CustomResource(
            self.child_name("app-pods"),
            api_version=SECURITY_GROUP_POLICY_API,
            kind="SecurityGroupPolicy",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECURITY_GROUP_POLICY_NAME, namespace=app.namespace),
            spec=group.id.apply(security_group_policy_spec),
            # The application namespace comes from the workloads component.
            opts=self.child_opts("app-pods", provider=args.cluster.provider, depends_on=[args.workloads]),
        )

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
        self,
        args: DatabaseArgs,
        instance: aws.rds.Instance,
        key: aws.kms.Key,
        master_secret_arn: pulumi.Output[str],
        *,
        name: str,
        log_group_name: str,
        security_group: aws.ec2.SecurityGroup,
        depends_on: Sequence[pulumi.Resource],
    ) -> pulumi.Output[str]:
        """The bootstrap function (see the module docstring) and its invocation whenever the desired state changes."""
        ctx, cfg = self._ctx, args.config
        role = aws.iam.Role(
            self.child_name("bootstrap"),
            description=f"{name}: reads the master secret while it creates the application's database user",
            # Lambda sends no aws:SourceArn when it assumes an execution role; iam:PassRole on this role (account
            # administrators only) decides which function may run as it.
            assume_role_policy=iam.service_trust(ctx, "lambda", source_account=False),
            tags=self._tags("db-bootstrap"),
            opts=self.child_opts("bootstrap"),
        )
        secret_policy = aws.iam.RolePolicy(
            self.child_name("bootstrap-secret"),
            role=role.id,
            policy=pulumi.Output.all(master_secret_arn, key.arn).apply(
                lambda values: iam.document(bootstrap_statements(ctx, values[0], values[1], log_group_name))
            ),
            opts=self.child_opts("bootstrap-secret"),
        )
        # Lambda creates the function's network interfaces in the VPC with its execution role (ec2:*NetworkInterface*).
        network_policy = aws.iam.RolePolicyAttachment(
            self.child_name("bootstrap-vpc-access"),
            role=role.name,
            policy_arn=ctx.managed_policy("service-role/AWSLambdaVPCAccessExecutionRole"),
            opts=self.child_opts("bootstrap-vpc-access"),
        )
        log_group = aws.cloudwatch.LogGroup(
            self.child_name("bootstrap"),
            name=log_group_name,
            retention_in_days=ctx.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags("db-bootstrap"),
            opts=self.child_opts("bootstrap", protect=ctx.protect),
        )
        function = aws.lambda_.Function(
            self.child_name("bootstrap"),
            name=name,
            description=f"Creates {cfg.app.db_user} (rds_iam) in {cfg.database_name}; invoked by the stack",
            runtime=BOOTSTRAP_RUNTIME,
            architectures=["arm64"],
            handler="handler.handler",
            code=pulumi.AssetArchive(
                {path.name: pulumi.StringAsset(path.read_text()) for path in bootstrap_handler.package_files()}
            ),
            role=role.arn,
            timeout=BOOTSTRAP_TIMEOUT_SECONDS,
            memory_size=256,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=[args.network.private_subnet_ids[az] for az in args.network.zones],
                security_group_ids=[security_group.id],
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            tags=self._tags("db-bootstrap"),
            opts=self.child_opts("bootstrap", depends_on=[secret_policy, network_policy, log_group]),
        )
        aws.lambda_.Invocation(
            self.child_name("bootstrap"),
            function_name=function.name,
            input=pulumi.Output.json_dumps(
                bootstrap_event(
                    host=instance.address,
                    database=cfg.database_name,
                    user=cfg.app.db_user,
                    secret_arn=master_secret_arn,
                )
            ),
            # A new version of the function's code converges the database again.
            triggers={"package": bootstrap_package_digest()},
            opts=self.child_opts("bootstrap", depends_on=[instance, *depends_on]),
        )
        return function.name

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


def database_key_statements(ctx: StackContext, *, log_groups: Sequence[str]) -> list[iam.Statement]:
    """The database key's grants besides the account's: the services that encrypt with it, each conditioned the way it
    identifies itself.

    - RDS and Secrets Manager act for principals of this account (`kms:ViaService`, `kms:CallerAccount`); no service
      principal is named.
    - CloudWatch Logs is bound by the encryption context it sends, the ARN of the log group (account and name), to the
      instance's export groups and the bootstrap function's group ("Encrypt log data in CloudWatch Logs using AWS
      KMS"); that context is its documented confused-deputy guard.
    - CloudWatch alarms publishing to the encrypted topic: CloudWatch acts for an alarm, which it names as the source
      (`aws:SourceArn` = the alarm's ARN, `aws:SourceAccount` = its account; the alarm ARN is what SNS reports as the
      caller when it refuses one), so both keys limit the grant to this account's alarms in this region."""
    logs = iam.logs_key_statement(ctx, log_groups[0])
    logs["Condition"] = {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": [ctx.arn("logs", f"log-group:{g}") for g in log_groups]}
    }
    return [
        iam.via_services_statement(ctx, ("rds", "secretsmanager")),
        logs,
        iam.statement(
            "CloudWatchAlarmsPublishToTopic",
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            principal={"Service": ctx.service_principal("cloudwatch")},
            condition={
                "StringEquals": {"aws:SourceAccount": ctx.account_id},
                "ArnLike": {"aws:SourceArn": ctx.arn("cloudwatch", "alarm:*")},
            },
        ),
    ]


@dataclass(frozen=True)
class PodRule:
    """One rule of the application's pod security group (or, `on_peer`, of the node group, admitting the pods)."""

    direction: str
    key: str
    peer: str
    """`alb`, `nodes`, `database` or `anywhere` (0.0.0.0/0)."""
    port: int
    description: str
    protocol: str = "tcp"
    on_peer: bool = False


def pod_security_group_rules(app_port: int) -> list[PodRule]:
    """The application pods' security group, and why each rule exists.

    The VPC CNI runs in the `standard` enforcing mode (see the cluster component): traffic between a pod and the
    kubelet or the Pod Identity agent on its own node bypasses the pod's group, and traffic leaving the VPC is
    translated to the node's address and judged by the node's group; everything else in the VPC is judged here.

    - in from the ALB's group on the application's port: the ALB targets pod IPs (target type `ip`);
    - in from the node group on that port: kubelet probes from another path, Prometheus and other in-cluster clients,
      which run on node interfaces;
    - out to the database's group on 5432: the reason this group exists;
    - out to the node group on 53 (UDP and TCP), and the node group in from this one on 53: CoreDNS runs on the nodes
      ("Use a security group policy for an Amazon EKS Pod": the pods' group must allow DNS out to CoreDNS's group and
      CoreDNS's group must allow it in);
    - out on 443 anywhere: AWS APIs through the VPC's interface endpoints (STS, and what the application uses), which
      are inside the VPC and so judged by this group.
    Nothing else: another in-cluster dependency of the application is a rule added here, reviewed."""
    return [
        PodRule("ingress", "app-pods-from-alb", "alb", app_port, "the ALB to the application's port"),
        PodRule("ingress", "app-pods-from-nodes", "nodes", app_port, "kubelet probes and in-cluster clients"),
        PodRule("egress", "app-pods-to-database", "database", PORT, "PostgreSQL to the database"),
        PodRule("egress", "app-pods-dns-udp", "nodes", DNS_PORT, "DNS to CoreDNS on the nodes", protocol="udp"),
        PodRule("egress", "app-pods-dns-tcp", "nodes", DNS_PORT, "DNS to CoreDNS on the nodes"),
        PodRule("egress", "app-pods-https", "anywhere", HTTPS_PORT, "HTTPS to AWS APIs (VPC endpoints) and beyond"),
        PodRule("ingress", "nodes-dns-udp-from-app-pods", "app-pods", DNS_PORT, "DNS from the application's pods "
                "(CoreDNS)", protocol="udp", on_peer=True),
        PodRule("ingress", "nodes-dns-tcp-from-app-pods", "app-pods", DNS_PORT, "DNS from the application's pods "
                "(CoreDNS)", on_peer=True),
    ]  # fmt: skip


SECURITY_GROUP_POLICY_NAME = "database-client"


def security_group_policy_spec(group_id: str) -> dict[str, Any]:
    """Pods labelled `platform/database-client` (the workloads component's admission policy admits the label only on
    pods running as the application's service account) whose service account also carries it get `group_id`, and
    with it the only path to the database. SecurityGroupPolicy selects service accounts by label, not by name (its
    CRD has no `matchNames`), hence the label on the service account; both selectors must match."""
    selector = {"matchLabels": dict([kubernetes.DATABASE_CLIENT_LABEL])}
    return {"podSelector": selector, "serviceAccountSelector": selector, "securityGroups": {"groupIds": [group_id]}}


def bootstrap_statements(ctx: StackContext, secret_arn: str, key_arn: str, log_group: str) -> list[iam.Statement]:
    """The bootstrap function's own permissions: read and decrypt the master secret, write its log group."""
    return [
        iam.statement("ReadMasterSecret", "secretsmanager:GetSecretValue", secret_arn),
        iam.statement(
            "DecryptMasterSecret",
            "kms:Decrypt",
            key_arn,
            condition={"StringEquals": {"kms:ViaService": f"secretsmanager.{ctx.region}.{ctx.dns_suffix}"}},
        ),
        iam.statement(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ctx.arn("logs", f"log-group:{log_group}:*"),
        ),
    ]


def bootstrap_event(
    *, host: pulumi.Input[str], database: str, user: str, secret_arn: pulumi.Input[str]
) -> dict[str, Any]:
    """The invocation's input: the desired state the function converges the database to (see its `Desired`)."""
    return {"host": host, "port": PORT, "database": database, "user": user, "secretArn": secret_arn}


def bootstrap_package_digest() -> str:
    """SHA-256 over the function's files (name and content): a new digest invokes the function again."""
    digest = hashlib.sha256()
    for path in bootstrap_handler.package_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
