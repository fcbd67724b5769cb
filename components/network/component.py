"""Network: one VPC per environment, laid out by `components.network.cidr.plan_subnets`.

Creates:
- a VPC with DNS support and hostnames (plus an Amazon-provided IPv6 /56 when `enableIpv6`);
- per AZ: a private workload subnet, a public subnet for load balancers and NAT only (no public IP on launch) and an
  isolated database subnet;
- an internet gateway; NAT gateways with Elastic IPs, one per AZ (or a single one in sandbox when configured);
- one private route table per AZ whose default route goes to that AZ's own NAT gateway, one public route table to the
  internet gateway and one database route table with no default route;
- the VPC's default security group and default route table, managed empty so nothing can use them;
- VPC endpoints: an S3 gateway endpoint on the private and database route tables and interface endpoints (ecr.api,
  ecr.dkr, sts and the stack's extras) with private DNS in the private subnets, behind a security group that admits
  443 from the VPC only;
- VPC flow logs of ALL traffic to a KMS-encrypted CloudWatch log group with retention, and the role they assume;
- subnet tags for load balancers (`kubernetes.io/role/elb`, `kubernetes.io/role/internal-elb`) and for Karpenter
  discovery (`karpenter.sh/discovery`);
- the ALB security group: 80 and 443 from anywhere (IPv4, and IPv6 when enabled), egress only to the VPC.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network.cidr import plan_subnets
from components.network.config import NetworkConfig
from core import iam
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Network"

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"
PUBLIC_PORTS = (80, 443)
FLOW_LOG_AGGREGATION_SECONDS = 60


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    ctx: StackContext
    config: NetworkConfig
    cluster_name: str
    """The EKS cluster that will discover the private subnets (`karpenter.sh/discovery`)."""


class Network(PlatformComponent):
    """The network handle (`core.handles.NetworkHandle`) the cluster, edge and database components receive."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    cidr: str
    """The VPC's IPv4 CIDR, literal (for security group rules and policy documents known at preview)."""
    zones: tuple[str, ...]
    """The availability zones, in configured order; the subnet maps are keyed by them."""
    private_subnet_ids: dict[str, pulumi.Output[str]]
    public_subnet_ids: dict[str, pulumi.Output[str]]
    database_subnet_ids: dict[str, pulumi.Output[str]]
    private_route_table_ids: dict[str, pulumi.Output[str]]
    public_route_table_id: pulumi.Output[str]
    database_route_table_id: pulumi.Output[str]
    nat_public_ips: dict[str, pulumi.Output[str]]
    alb_security_group_id: pulumi.Output[str]
    endpoint_security_group_id: pulumi.Output[str]
    flow_log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = args.ctx
        cfg = args.config
        plan = plan_subnets(cfg.vpc_cidr, cfg.availability_zones)
        azs = cfg.availability_zones
        self.cidr = cfg.vpc_cidr
        self.zones = tuple(azs)

        vpc = aws.ec2.Vpc(
            self.child_name("vpc"),
            cidr_block=cfg.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            assign_generated_ipv6_cidr_block=cfg.enable_ipv6,
            tags=self._tags("vpc"),
            opts=self.child_opts("vpc"),
        )
        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block

        self._lock_down_defaults(vpc)

        igw = aws.ec2.InternetGateway(
            self.child_name("igw"), vpc_id=vpc.id, tags=self._tags("igw"), opts=self.child_opts("igw")
        )

        # Subnets: logical names are keyed by tier and AZ, never by list position.
        public: dict[str, aws.ec2.Subnet] = {}
        private: dict[str, aws.ec2.Subnet] = {}
        database: dict[str, aws.ec2.Subnet] = {}
        for index, az in enumerate(azs):
            ipv6_block = None
            if cfg.enable_ipv6:
                # The n-th /64 of the VPC's /56 (AWS assigns the /56, so this is computed from its output).
                ipv6_block = vpc.ipv6_cidr_block.apply(lambda block, i=index: _nth_ipv6_64(block, i))
            public[az] = aws.ec2.Subnet(
                self.child_name(f"public-{az}"),
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=str(plan.public[az]),
                map_public_ip_on_launch=False,
                ipv6_cidr_block=ipv6_block,
                assign_ipv6_address_on_creation=cfg.enable_ipv6,
                tags=self._tags(f"public-{az}", {"kubernetes.io/role/elb": "1", "Tier": "public"}),
                opts=self.child_opts(f"public-{az}"),
            )
            private[az] = aws.ec2.Subnet(
                self.child_name(f"private-{az}"),
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=str(plan.private[az]),
                map_public_ip_on_launch=False,
                tags=self._tags(
                    f"private-{az}",
                    {
                        "kubernetes.io/role/internal-elb": "1",
                        "karpenter.sh/discovery": args.cluster_name,
                        "Tier": "private",
                    },
                ),
                opts=self.child_opts(f"private-{az}"),
            )
            database[az] = aws.ec2.Subnet(
                self.child_name(f"database-{az}"),
                vpc_id=vpc.id,
                availability_zone=az,
                cidr_block=str(plan.database[az]),
                map_public_ip_on_launch=False,
                tags=self._tags(f"database-{az}", {"Tier": "database"}),
                opts=self.child_opts(f"database-{az}"),
            )

        # Public routing: one table, default routes to the internet gateway.
        public_rt = aws.ec2.RouteTable(
            self.child_name("public"), vpc_id=vpc.id, tags=self._tags("public"), opts=self.child_opts("public")
        )
        aws.ec2.Route(
            self.child_name("public-default-v4"),
            route_table_id=public_rt.id,
            destination_cidr_block=ANYWHERE_V4,
            gateway_id=igw.id,
            opts=self.child_opts("public-default-v4"),
        )
        if cfg.enable_ipv6:
            aws.ec2.Route(
                self.child_name("public-default-v6"),
                route_table_id=public_rt.id,
                destination_ipv6_cidr_block=ANYWHERE_V6,
                gateway_id=igw.id,
                opts=self.child_opts("public-default-v6"),
            )
        for az, subnet in public.items():
            aws.ec2.RouteTableAssociation(
                self.child_name(f"public-{az}"),
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=self.child_opts(f"public-{az}"),
            )

        # NAT: one per AZ, or one in the first AZ when the stack chose "single" (sandbox only, enforced by config).
        nat_azs = azs if cfg.nat_gateways == "perAz" else azs[:1]
        nats: dict[str, aws.ec2.NatGateway] = {}
        self.nat_public_ips = {}
        for az in nat_azs:
            eip = aws.ec2.Eip(
                self.child_name(f"nat-{az}"),
                domain="vpc",
                tags=self._tags(f"nat-{az}"),
                opts=self.child_opts(f"nat-{az}"),
            )
            nats[az] = aws.ec2.NatGateway(
                self.child_name(f"nat-{az}"),
                allocation_id=eip.id,
                subnet_id=public[az].id,
                connectivity_type="public",
                tags=self._tags(f"nat-{az}"),
                opts=self.child_opts(f"nat-{az}", depends_on=[igw]),
            )
            self.nat_public_ips[az] = eip.public_ip

        # Private routing: one table per AZ, default route to that AZ's own NAT gateway.
        private_rts: dict[str, aws.ec2.RouteTable] = {}
        for az, subnet in private.items():
            nat = nats.get(az, nats[nat_azs[0]])
            rt = aws.ec2.RouteTable(
                self.child_name(f"private-{az}"),
                vpc_id=vpc.id,
                tags=self._tags(f"private-{az}"),
                opts=self.child_opts(f"private-{az}"),
            )
            aws.ec2.Route(
                self.child_name(f"private-{az}-default"),
                route_table_id=rt.id,
                destination_cidr_block=ANYWHERE_V4,
                nat_gateway_id=nat.id,
                opts=self.child_opts(f"private-{az}-default"),
            )
            aws.ec2.RouteTableAssociation(
                self.child_name(f"private-{az}"),
                subnet_id=subnet.id,
                route_table_id=rt.id,
                opts=self.child_opts(f"private-{az}"),
            )
            private_rts[az] = rt

        # Database routing: one table with only the local route (and the S3 gateway endpoint).
        database_rt = aws.ec2.RouteTable(
            self.child_name("database"), vpc_id=vpc.id, tags=self._tags("database"), opts=self.child_opts("database")
        )
        for az, subnet in database.items():
            aws.ec2.RouteTableAssociation(
                self.child_name(f"database-{az}"),
                subnet_id=subnet.id,
                route_table_id=database_rt.id,
                opts=self.child_opts(f"database-{az}"),
            )

        endpoint_sg = self._endpoints(vpc, cfg, private, [*private_rts.values(), database_rt])
        alb_sg = self._alb_security_group(vpc, cfg)
        flow_log_group = self._flow_logs(vpc)

        self.private_subnet_ids = {az: s.id for az, s in private.items()}
        self.public_subnet_ids = {az: s.id for az, s in public.items()}
        self.database_subnet_ids = {az: s.id for az, s in database.items()}
        self.private_route_table_ids = {az: rt.id for az, rt in private_rts.items()}
        self.public_route_table_id = public_rt.id
        self.database_route_table_id = database_rt.id
        self.alb_security_group_id = alb_sg.id
        self.endpoint_security_group_id = endpoint_sg.id
        self.flow_log_group_name = flow_log_group.name

        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "databaseSubnetIds": self.database_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
                "publicRouteTableId": self.public_route_table_id,
                "databaseRouteTableId": self.database_route_table_id,
                "natPublicIps": self.nat_public_ips,
                "albSecurityGroupId": self.alb_security_group_id,
                "endpointSecurityGroupId": self.endpoint_security_group_id,
                "flowLogGroupName": self.flow_log_group_name,
            }
        )

    # -----------------------------------------------------------------------------------------------------------------

    def _tags(self, name: str, component: dict[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, component, self._ctx.namer.physical(name))

    def _lock_down_defaults(self, vpc: aws.ec2.Vpc) -> None:
        # Adopting the defaults with no rules / no routes leaves nothing that an unconfigured resource could use.
        aws.ec2.DefaultSecurityGroup(
            self.child_name("default"),
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=self._tags("default-do-not-use"),
            opts=self.child_opts("default"),
        )
        aws.ec2.DefaultRouteTable(
            self.child_name("default"),
            default_route_table_id=vpc.default_route_table_id,
            routes=[],
            tags=self._tags("default-do-not-use"),
            opts=self.child_opts("default"),
        )

    def _endpoints(
        self,
        vpc: aws.ec2.Vpc,
        cfg: NetworkConfig,
        private: dict[str, aws.ec2.Subnet],
        gateway_route_tables: list[aws.ec2.RouteTable],
    ) -> aws.ec2.SecurityGroup:
        ctx = self._ctx
        sg = aws.ec2.SecurityGroup(
            self.child_name("endpoints"),
            vpc_id=vpc.id,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            tags=self._tags("endpoints"),
            opts=self.child_opts("endpoints"),
        )
        aws.vpc.SecurityGroupIngressRule(
            self.child_name("endpoints-https-from-vpc"),
            security_group_id=sg.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=cfg.vpc_cidr,
            tags=self._tags("endpoints-https-from-vpc"),
            opts=self.child_opts("endpoints-https-from-vpc"),
        )
        aws.ec2.VpcEndpoint(
            self.child_name("s3"),
            vpc_id=vpc.id,
            service_name=ctx.endpoint_service("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in gateway_route_tables],
            tags=self._tags("s3"),
            opts=self.child_opts("s3"),
        )
        for service in cfg.interface_endpoints:
            aws.ec2.VpcEndpoint(
                self.child_name(service),
                vpc_id=vpc.id,
                service_name=ctx.endpoint_service(service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private.values()],
                security_group_ids=[sg.id],
                tags=self._tags(service.replace(".", "-")),
                opts=self.child_opts(service),
            )
        return sg

    def _alb_security_group(self, vpc: aws.ec2.Vpc, cfg: NetworkConfig) -> aws.ec2.SecurityGroup:
        sg = aws.ec2.SecurityGroup(
            self.child_name("alb"),
            vpc_id=vpc.id,
            description="Internet-facing ALB: HTTP/HTTPS in from anywhere, out only to the VPC",
            tags=self._tags("alb"),
            opts=self.child_opts("alb"),
        )
        sources = [("v4", ANYWHERE_V4)] + ([("v6", ANYWHERE_V6)] if cfg.enable_ipv6 else [])
        for port in PUBLIC_PORTS:
            for family, cidr in sources:
                aws.vpc.SecurityGroupIngressRule(
                    self.child_name(f"alb-{port}-{family}"),
                    security_group_id=sg.id,
                    description=f"port {port} from the internet ({family})",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "v4" else None,
                    cidr_ipv6=cidr if family == "v6" else None,
                    tags=self._tags(f"alb-{port}-{family}"),
                    opts=self.child_opts(f"alb-{port}-{family}"),
                )
        aws.vpc.SecurityGroupEgressRule(
            self.child_name("alb-to-vpc"),
            security_group_id=sg.id,
            description="to targets inside the VPC only",
            ip_protocol="tcp",
            from_port=0,
            to_port=65535,
            cidr_ipv4=cfg.vpc_cidr,
            tags=self._tags("alb-to-vpc"),
            opts=self.child_opts("alb-to-vpc"),
        )
        return sg

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> aws.cloudwatch.LogGroup:
        ctx = self._ctx
        group_name = ctx.namer.log_group("vpc", "flow-logs")
        key = customer_key(
            self,
            "flow-logs",
            ctx=ctx,
            description=f"{ctx.namer.base} VPC flow logs",
            policy=iam.kms_key_policy(ctx, [iam.logs_key_statement(ctx, group_name)]),
            tags=self._tags("flow-logs"),
            alias=ctx.namer.alias("flow-logs"),
        )
        group = aws.cloudwatch.LogGroup(
            self.child_name("flow-logs"),
            name=group_name,
            retention_in_days=ctx.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags("flow-logs"),
            opts=self.child_opts("flow-logs", protect=ctx.protect),
        )
        group_arn = ctx.arn("logs", f"log-group:{group_name}")
        role = aws.iam.Role(
            self.child_name("flow-logs"),
            description="Lets VPC Flow Logs deliver to the stack's flow-log group",
            assume_role_policy=iam.service_trust(ctx, "vpc-flow-logs", source_arn=ctx.arn("ec2", "vpc-flow-log/*")),
            tags=self._tags("flow-logs"),
            opts=self.child_opts("flow-logs"),
        )
        aws.iam.RolePolicy(
            self.child_name("flow-logs"),
            role=role.id,
            policy=iam.document(
                [
                    iam.statement(
                        "DeliverFlowLogs",
                        ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                        [group_arn, f"{group_arn}:*"],
                    ),
                    iam.statement("DescribeGroups", "logs:DescribeLogGroups"),
                ]
            ),
            opts=self.child_opts("flow-logs"),
        )
        aws.ec2.FlowLog(
            self.child_name("vpc"),
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            tags=self._tags("vpc-flow-logs"),
            opts=self.child_opts("vpc"),
        )
        return group


def _nth_ipv6_64(block: str | None, index: int) -> str | None:
    """The `index`-th /64 inside the VPC's IPv6 /56."""
    if not block:
        return None
    network = ipaddress.IPv6Network(block)
    return str(ipaddress.IPv6Network((int(network.network_address) + (index << 64), 64)))
