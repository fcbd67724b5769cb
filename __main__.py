"""The platform program: load config, build providers, compose the stack's components, export.

Environments differ only by the values in their stack files; nothing here branches on the stack name.
"""

import pulumi

from components.cluster import Cluster, ClusterArgs
from components.database import Database, DatabaseArgs
from components.identity import Identity, IdentityArgs
from components.network import Network, NetworkArgs
from components.nodepools import NodePools, NodePoolsArgs
from components.workloads import Workloads, WorkloadsArgs
from core.config import load
from core.context import StackContext
from core.providers import aws_provider, component_opts

cfg = load()
ctx = StackContext.from_config(cfg)
aws = aws_provider(cfg)

pulumi.export("environment", cfg.environment)
pulumi.export("accountId", cfg.account_id)
pulumi.export("region", cfg.region)

Identity("identity", IdentityArgs(ctx=ctx), opts=component_opts(aws))

if cfg.network is not None:
    network = Network(
        "network",
        NetworkArgs(ctx=ctx, config=cfg.network, cluster_name=cfg.cluster_name),
        opts=component_opts(aws),
    )
    pulumi.export(
        "network",
        {
            "vpcId": network.vpc_id,
            "vpcCidr": network.vpc_cidr,
            "privateSubnetIds": network.private_subnet_ids,
            "publicSubnetIds": network.public_subnet_ids,
            "databaseSubnetIds": network.database_subnet_ids,
            "privateRouteTableIds": network.private_route_table_ids,
            "natPublicIps": network.nat_public_ips,
            "albSecurityGroupId": network.alb_security_group_id,
            "endpointSecurityGroupId": network.endpoint_security_group_id,
            "flowLogGroupName": network.flow_log_group_name,
        },
    )
    if cfg.cluster is not None:
        cluster = Cluster(
            "cluster",
            ClusterArgs(
                ctx=ctx,
                config=cfg.cluster,
                name=cfg.cluster_name,
                vpc_id=network.vpc_id,
                vpc_cidr=cfg.network.vpc_cidr,
                private_subnet_ids=[network.private_subnet_ids[az] for az in cfg.network.availability_zones],
            ),
            opts=component_opts(aws),
        )
        pulumi.export(
            "cluster",
            {
                "name": cluster.name,
                "endpoint": cluster.endpoint,
                "oidcIssuer": cluster.oidc_issuer,
                "oidcProviderArn": cluster.oidc_provider_arn,
                "clusterSecurityGroupId": cluster.cluster_security_group_id,
                "nodeSecurityGroupId": cluster.node_security_group_id,
                "systemNodeGroup": cluster.system_node_group_name,
            },
        )
        pulumi.export("kubeconfig", cluster.kubeconfig)

        if cfg.karpenter is not None:
            nodepools = NodePools(
                "nodepools",
                NodePoolsArgs(
                    ctx=ctx,
                    config=cfg.karpenter,
                    cluster_name=cfg.cluster_name,
                    cluster_endpoint=cluster.endpoint,
                    availability_zones=cfg.network.availability_zones,
                    kms_key_arn=cluster.kms_key_arn,
                    k8s_provider=cluster.provider,
                    depends_on=[cluster],
                ),
                opts=component_opts(aws),
            )
            pulumi.export(
                "karpenter",
                {
                    "nodePools": nodepools.node_pool_names,
                    "interruptionQueue": nodepools.interruption_queue_name,
                    "nodeRoleArn": nodepools.node_role_arn,
                },
            )
        workloads = None
        if cfg.workloads is not None:
            workloads = Workloads(
                "workloads",
                WorkloadsArgs(ctx=ctx, config=cfg.workloads, k8s_provider=cluster.provider, depends_on=[cluster]),
                opts=component_opts(aws),
            )
            pulumi.export("namespaces", workloads.namespaces)
        if cfg.database is not None:
            database = Database(
                "database",
                DatabaseArgs(
                    ctx=ctx,
                    config=cfg.database,
                    cluster_name=cfg.cluster_name,
                    vpc_id=network.vpc_id,
                    database_subnet_ids=[network.database_subnet_ids[az] for az in cfg.network.availability_zones],
                    app_security_group_id=cluster.node_security_group_id,
                    k8s_provider=cluster.provider,
                    depends_on=[workloads] if workloads is not None else [cluster],
                ),
                opts=component_opts(aws),
            )
            pulumi.export(
                "database",
                {
                    "endpoint": database.endpoint,
                    "port": database.port,
                    "databaseName": database.database_name,
                    "masterSecretArn": database.master_secret_arn,
                    "resourceId": database.resource_id,
                    "appRoleArn": database.app_role_arn,
                    "securityGroupId": database.security_group_id,
                    "alarmTopicArn": database.alarm_topic_arn,
                },
            )
