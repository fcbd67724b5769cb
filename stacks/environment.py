"""The composition root of an environment stack (profile kind `workload`): network, cluster, node pools, workloads,
database, access, edge, observability and delivery, each receiving the handles it needs. Wiring only: every rule that
differs between environments is a profile flag read by the config and the components, never a branch here.
"""

from __future__ import annotations

import pulumi

from components.access.component import ClusterAccess, ClusterAccessArgs, ClusterAccessEntries
from components.baseline.component import AccountBaseline, AccountBaselineArgs
from components.cluster.component import Cluster, ClusterArgs
from components.database.component import PORT as DATABASE_PORT
from components.database.component import Database, DatabaseArgs
from components.delivery.component import Delivery, DeliveryArgs
from components.edge.component import Edge, EdgeArgs
from components.network.component import Network, NetworkArgs
from components.nodepools.component import NodePools, NodePoolsArgs
from components.observability.component import Observability, ObservabilityArgs
from components.runners.component import Runners, RunnersArgs
from components.workloads.component import DatabaseClient, Workloads, WorkloadsArgs
from core.context import StackContext
from core.providers import aws_provider, component_opts
from stacks.config import EnvironmentConfig


def build(cfg: EnvironmentConfig, ctx: StackContext, aws: pulumi.ProviderResource) -> None:
    """Every component of one environment, wired through handles, and the stack's exports."""
    opts = component_opts(aws)
    network = Network("network", NetworkArgs(ctx=ctx, config=cfg.network, cluster_name=cfg.cluster_name), opts=opts)
    cluster = Cluster(
        "cluster", ClusterArgs(ctx=ctx, config=cfg.cluster, name=cfg.cluster_name, network=network), opts=opts
    )
    AccountBaseline("account-baseline", AccountBaselineArgs(ctx=ctx, former_name="identity"), opts=opts)
    ClusterAccessEntries(
        "cluster-access",
        ClusterAccessArgs(
            ctx=ctx,
            access=ClusterAccess(
                cluster=cluster,
                sso=cfg.identity,
                deployer_role_arn=ctx.arn("iam", f"role/{cfg.deployer_role_name}", region=""),
                previewer_role_arn=ctx.arn("iam", f"role/{cfg.previewer_role_name}", region=""),
                app_namespaces=list(cfg.workloads.namespaces),
                deployer_created_cluster=cfg.cluster.cluster_creator == "deployer",
            ),
        ),
        opts=opts,
    )
    nodepools = NodePools(
        "nodepools", NodePoolsArgs(ctx=ctx, config=cfg.karpenter, cluster=cluster, network=network), opts=opts
    )
    runners = Runners(
        "runners",
        RunnersArgs(
            ctx=ctx, config=cfg.runners, network=network, cluster=cluster, github_repository=cfg.github_repository
        ),
        opts=opts,
    )
    workloads = Workloads(
        "workloads",
        WorkloadsArgs(
            ctx=ctx,
            config=cfg.workloads,
            cluster=cluster,
            network=network,
            database_client=DatabaseClient(
                namespace=cfg.database.app.namespace,
                service_account=cfg.database.app.service_account,
                port=DATABASE_PORT,
            ),
        ),
        opts=opts,
    )
    database = Database(
        "database",
        DatabaseArgs(ctx=ctx, config=cfg.database, network=network, cluster=cluster, workloads=workloads),
        opts=opts,
    )
    # CloudFront's certificate and WAF live in us-east-1, whatever the stack's region.
    global_aws = aws_provider(cfg, region="us-east-1", name="aws-us-east-1") if cfg.edge.cloudfront else None
    edge = Edge(
        "edge",
        EdgeArgs(
            ctx=ctx,
            config=cfg.edge,
            network=network,
            cluster=cluster,
            app_namespaces=tuple(cfg.workloads.namespaces),
            global_provider=global_aws,
        ),
        opts=opts,
    )
    observability = Observability(
        "observability",
        ObservabilityArgs(ctx=ctx, config=cfg.observability, cluster=cluster, network=network),
        opts=opts,
    )
    delivery = Delivery(
        "delivery",
        DeliveryArgs(
            ctx=ctx,
            config=cfg.delivery,
            cluster=cluster,
            prometheus_workspace_arn=observability.workspace_arn,
            prometheus_endpoint=observability.prometheus_endpoint,
            app_namespaces=list(cfg.workloads.namespaces),
        ),
        opts=opts,
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
    pulumi.export(
        "karpenter",
        {
            "nodePools": nodepools.node_pool_names,
            "interruptionQueue": nodepools.interruption_queue_name,
            "nodeRoleArn": nodepools.node_role_arn,
        },
    )
    pulumi.export("namespaces", workloads.namespaces)
    pulumi.export("runners", {"project": runners.project_name, "securityGroupId": runners.security_group_id})
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
            "appSecurityGroupId": database.app_security_group_id,
            "bootstrapFunction": database.bootstrap_function_name,
            "alarmTopicArn": database.alarm_topic_arn,
        },
    )

    pulumi.export(
        "edge",
        {
            "ingressClass": edge.ingress_class_name,
            "ingressGroup": edge.ingress_group,
            "loadBalancerName": edge.load_balancer_name,
            "webAclArn": edge.web_acl_arn,
            "certificateArn": edge.certificate_arn,
            "certificateValidationRecords": edge.certificate_validation_records,
            "accessLogBucket": edge.access_log_bucket,
            "nlbSecurityGroupId": edge.nlb_security_group_id,
            "cloudFrontDomainName": edge.cloudfront_domain_name,
            "spaBucket": edge.spa_bucket,
        },
    )
    pulumi.export(
        "observability",
        {
            "prometheusWorkspaceArn": observability.workspace_arn,
            "prometheusEndpoint": observability.prometheus_endpoint,
            "alertTopicArn": observability.alert_topic_arn,
            "applicationLogGroup": observability.application_log_group_name,
        },
    )
    pulumi.export(
        "delivery", {"argocdNamespace": delivery.argocd_namespace, "rolloutsRoleArn": delivery.rollouts_role_arn}
    )
