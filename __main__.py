"""The platform program: load config, build providers, compose the stack's components, export.

Environments differ only by the values in their stack files; nothing here branches on the stack name. An environment
stack (prod, stg, sandbox) has `network`, `cluster`, ... sections; the shared-services stack has `organization`,
`identityCenter`, `ci` and `artifacts` sections.
"""

import pulumi

from components.artifacts.component import Artifacts, ArtifactsArgs, repository_arns
from components.ci.component import CiIdentity, CiIdentityArgs, CiTarget
from components.cluster.component import Cluster, ClusterArgs
from components.database.component import Database, DatabaseArgs
from components.delivery.component import Delivery, DeliveryArgs
from components.edge.component import Edge, EdgeArgs
from components.identity.component import ClusterAccess, Identity, IdentityArgs
from components.identity_center.component import IdentityCenter, IdentityCenterArgs
from components.network.component import Network, NetworkArgs
from components.nodepools.component import NodePools, NodePoolsArgs
from components.observability.component import Observability, ObservabilityArgs
from components.organization import scp
from components.organization.component import Organization, OrganizationArgs
from components.state.component import StateBackend, StateBackendArgs
from components.workloads.component import Workloads, WorkloadsArgs
from core.config import StackConfig, load
from core.context import StackContext
from core.providers import aws_provider, component_opts, member_account_provider


def environment(cfg: StackConfig, ctx: StackContext, aws: pulumi.ProviderResource) -> None:
    assert cfg.network and cfg.cluster and cfg.karpenter and cfg.workloads and cfg.database and cfg.identity
    assert cfg.edge and cfg.observability and cfg.delivery
    opts = component_opts(aws)
    network = Network("network", NetworkArgs(ctx=ctx, config=cfg.network, cluster_name=cfg.cluster_name), opts=opts)
    zones = cfg.network.availability_zones
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            ctx=ctx,
            config=cfg.cluster,
            name=cfg.cluster_name,
            vpc_id=network.vpc_id,
            vpc_cidr=cfg.network.vpc_cidr,
            private_subnet_ids=[network.private_subnet_ids[az] for az in zones],
        ),
        opts=opts,
    )
    Identity(
        "identity",
        IdentityArgs(
            ctx=ctx,
            cluster=ClusterAccess(
                cluster_name=cfg.cluster_name,
                sso=cfg.identity,
                deployer_role_arn=ctx.arn("iam", f"role/{cfg.deployer_role_name}", region=""),
                app_namespaces=list(cfg.workloads.namespaces),
            ),
            depends_on=[cluster],
        ),
        opts=opts,
    )
    nodepools = NodePools(
        "nodepools",
        NodePoolsArgs(
            ctx=ctx,
            config=cfg.karpenter,
            cluster_name=cfg.cluster_name,
            cluster_endpoint=cluster.endpoint,
            availability_zones=zones,
            kms_key_arn=cluster.kms_key_arn,
            k8s_provider=cluster.provider,
            depends_on=[cluster],
        ),
        opts=opts,
    )
    workloads = Workloads(
        "workloads",
        WorkloadsArgs(ctx=ctx, config=cfg.workloads, k8s_provider=cluster.provider, depends_on=[cluster]),
        opts=opts,
    )
    database = Database(
        "database",
        DatabaseArgs(
            ctx=ctx,
            config=cfg.database,
            cluster_name=cfg.cluster_name,
            vpc_id=network.vpc_id,
            database_subnet_ids=[network.database_subnet_ids[az] for az in zones],
            app_security_group_id=cluster.node_security_group_id,
            k8s_provider=cluster.provider,
            depends_on=[cluster, workloads],
        ),
        opts=opts,
    )
    # CloudFront's certificate and WAF live in us-east-1, whatever the stack's region.
    global_aws = aws_provider(cfg, region="us-east-1", name="aws-us-east-1") if cfg.edge.cloudfront else None
    edge = Edge(
        "edge",
        EdgeArgs(
            ctx=ctx,
            config=cfg.edge,
            cluster_name=cfg.cluster_name,
            vpc_id=network.vpc_id,
            vpc_cidr=cfg.network.vpc_cidr,
            public_subnet_ids=network.public_subnet_ids,
            alb_security_group_id=network.alb_security_group_id,
            node_security_group_id=cluster.node_security_group_id,
            k8s_provider=cluster.provider,
            global_provider=global_aws,
            depends_on=[cluster],
        ),
        opts=opts,
    )
    observability = Observability(
        "observability",
        ObservabilityArgs(
            ctx=ctx,
            config=cfg.observability,
            cluster_name=cfg.cluster_name,
            k8s_provider=cluster.provider,
            depends_on=[cluster],
        ),
        opts=opts,
    )
    delivery = Delivery(
        "delivery",
        DeliveryArgs(
            ctx=ctx,
            config=cfg.delivery,
            cluster_name=cfg.cluster_name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            prometheus_workspace_arn=observability.workspace_arn,
            prometheus_endpoint=observability.prometheus_endpoint,
            k8s_provider=cluster.provider,
            depends_on=[cluster],
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


def shared_services(cfg: StackConfig, ctx: StackContext, aws: pulumi.ProviderResource) -> None:
    assert cfg.organization and cfg.identity_center and cfg.ci and cfg.artifacts
    org = cfg.organization
    opts = component_opts(aws)
    members = {
        key: member_account_provider(cfg, key, account.id, org.member_access_role)
        for key, account in org.accounts.items()
    }
    shared = org.accounts["shared-services"]
    shared_ctx = ctx.for_account(shared.id)

    Identity("identity", IdentityArgs(ctx=ctx), opts=opts)
    Identity(
        "identity-shared-services",
        IdentityArgs(ctx=shared_ctx, legacy_aliases=False),
        opts=component_opts(members["shared-services"]),
    )
    organization = Organization(
        "organization",
        OrganizationArgs(
            ctx=ctx,
            config=org,
            allowed_regions=cfg.allowed_regions,
            exemptions=scp.Exemptions(break_glass_role=cfg.break_glass_role_name, platform_role=cfg.deployer_role_name),
            log_archive_provider=members["shared-services"],
        ),
        opts=opts,
    )
    identity_center = IdentityCenter(
        "identity-center", IdentityCenterArgs(ctx=ctx, config=cfg.identity_center, organization=org), opts=opts
    )
    targets = [CiTarget(key=cfg.stack, account_id=cfg.account_id, provider=aws)] + [
        CiTarget(key=key, account_id=org.accounts[key].id, provider=members[key]) for key in ("sandbox", "stg", "prod")
    ]
    ci = CiIdentity(
        "ci",
        CiIdentityArgs(
            ctx=ctx,
            github_repository=cfg.github_repository,
            deployer_role_name=cfg.deployer_role_name,
            previewer_role_name=cfg.previewer_role_name,
            targets=targets,
            publisher=CiTarget(key="shared-services", account_id=shared.id, provider=members["shared-services"]),
            publisher_subjects=cfg.ci.image_publisher_subjects,
            repository_arns=repository_arns(shared_ctx, cfg.artifacts),
        ),
        opts=opts,
    )
    artifacts = Artifacts(
        "artifacts",
        ArtifactsArgs(
            ctx=shared_ctx,
            config=cfg.artifacts,
            pull_account_ids=[org.accounts[key].id for key in ("sandbox", "stg", "prod")],
        ),
        opts=component_opts(members["shared-services"]),
    )
    state = StateBackend(
        "state",
        StateBackendArgs(
            ctx=shared_ctx,
            deployer_role_arns=[
                ctx.for_account(t.account_id).arn("iam", f"role/{cfg.deployer_role_name}", region="") for t in targets
            ],
            previewer_role_arns=[
                ctx.for_account(t.account_id).arn("iam", f"role/{cfg.previewer_role_name}", region="") for t in targets
            ],
            noncurrent_version_days=cfg.artifacts.state_noncurrent_version_days,
            depends_on=[ci],
        ),
        opts=component_opts(members["shared-services"]),
    )

    pulumi.export("organization", {"ouIds": organization.ou_ids, "trailArn": organization.trail_arn})
    pulumi.export("permissionSets", identity_center.permission_set_arns)
    pulumi.export(
        "ci",
        {
            "deployerRoleArns": ci.deployer_role_arns,
            "previewerRoleArns": ci.previewer_role_arns,
            "imagePublisherRoleArn": ci.image_publisher_role_arn,
        },
    )
    pulumi.export("repositories", artifacts.repository_urls)
    pulumi.export("stateBackend", {"bucket": state.bucket_name, "secretsKeyAlias": state.secrets_key_alias})


cfg = load()
ctx = StackContext.from_config(cfg)
aws = aws_provider(cfg)

pulumi.export("environment", cfg.environment)
pulumi.export("accountId", cfg.account_id)
pulumi.export("region", cfg.region)

if cfg.organization is not None:
    shared_services(cfg, ctx, aws)
else:
    environment(cfg, ctx, aws)
