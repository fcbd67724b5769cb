"""The Network component under recording mocks: properties that would catch real routing and exposure mistakes."""

from __future__ import annotations

import ipaddress
from functools import cache

import pulumi
import pytest

from components.network.component import Network, NetworkArgs
from core.context import StackContext
from core.handles import NetworkHandle
from tests.support import Resources, build, ids, replace, stack_config

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
RT = "aws:ec2/routeTable:RouteTable"
ASSOC = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def network_for(stack: str, **network_changes: object) -> Resources:
    cfg = stack_config(stack)
    assert cfg.network is not None
    net_cfg = replace(cfg.network, **network_changes) if network_changes else cfg.network

    def body(ctx: StackContext, opts: pulumi.ResourceOptions) -> None:
        # Annotated: the type checker proves the component satisfies the handle its consumers are typed against.
        handle: NetworkHandle = Network(
            "network", NetworkArgs(ctx=ctx, config=net_cfg, cluster_name=cfg.cluster_name), opts=opts
        )
        assert handle.cidr == net_cfg.vpc_cidr
        assert tuple(handle.zones) == tuple(net_cfg.availability_zones)

    return build(cfg, body)


@cache
def rendered(stack: str) -> Resources:
    return network_for(stack)


def subnets_of_tier(res: Resources, tier: str) -> list:
    return [s for s in res.of(SUBNET) if s.inputs["tags"]["Tier"] == tier]


def az_of_subnet(res: Resources, subnet_id: str) -> str:
    return res.by_id(subnet_id).inputs["availabilityZone"]


def route_table_azs(res: Resources, route_table_id: str) -> set[str]:
    """AZs of the subnets associated with a route table."""
    return {az_of_subnet(res, a.inputs["subnetId"]) for a in res.where(ASSOC, routeTableId=route_table_id)}


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_three_private_subnets_in_three_distinct_azs(stack: str) -> None:
    res = rendered(stack)
    private = subnets_of_tier(res, "private")
    assert len(private) == 3
    assert len({s.inputs["availabilityZone"] for s in private}) == 3
    vpc = ipaddress.IPv4Network(res.of("aws:ec2/vpc:Vpc")[0].inputs["cidrBlock"])
    blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in res.of(SUBNET)]
    assert all(b.subnet_of(vpc) for b in blocks)
    assert all(b.num_addresses >= 16_384 for b in map(ipaddress.IPv4Network, (s.inputs["cidrBlock"] for s in private)))


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_no_subnet_maps_public_ips_on_launch(stack: str) -> None:
    res = rendered(stack)
    assert len(res.of(SUBNET)) == 9
    assert all(s.inputs.get("mapPublicIpOnLaunch") is False for s in res.of(SUBNET))


@pytest.mark.parametrize("stack", ["prod", "stg"])
def test_each_private_route_table_uses_its_own_azs_nat(stack: str) -> None:
    res = rendered(stack)
    nats = res.of(NAT)
    assert len(nats) == 3
    nat_az = {n.outputs["id"]: az_of_subnet(res, n.inputs["subnetId"]) for n in nats}
    assert len(set(nat_az.values())) == 3
    # Every NAT sits in a public subnet.
    assert {n.inputs["subnetId"] for n in nats} <= ids(subnets_of_tier(res, "public"))

    default_routes = [r for r in res.of(ROUTE) if r.inputs.get("natGatewayId")]
    assert len(default_routes) == 3
    for route in default_routes:
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        (table_az,) = route_table_azs(res, route.inputs["routeTableId"])
        assert nat_az[route.inputs["natGatewayId"]] == table_az


def test_sandbox_single_nat_serves_every_private_route_table() -> None:
    res = rendered("sandbox")
    (nat,) = res.of(NAT)
    routes = [r for r in res.of(ROUTE) if r.inputs.get("natGatewayId")]
    assert len(routes) == 3
    assert {r.inputs["natGatewayId"] for r in routes} == {nat.outputs["id"]}
    assert len({r.inputs["routeTableId"] for r in routes}) == 3


def test_sandbox_per_az_nat_when_configured() -> None:
    res = network_for("sandbox", nat_gateways="perAz")
    assert len(res.of(NAT)) == 3


@pytest.mark.parametrize("stack", ["prod", "sandbox"])
def test_database_tier_has_no_route_out(stack: str) -> None:
    res = rendered(stack)
    db_subnet_ids = ids(subnets_of_tier(res, "database"))
    db_tables = {a.inputs["routeTableId"] for a in res.of(ASSOC) if a.inputs["subnetId"] in db_subnet_ids}
    assert len(db_tables) == 1
    (db_table,) = db_tables
    assert res.where(ROUTE, routeTableId=db_table) == []
    # ...and no other subnet tier shares that table.
    assert route_table_azs(res, db_table) == {s.inputs["availabilityZone"] for s in subnets_of_tier(res, "database")}
    assert len(res.where(ASSOC, routeTableId=db_table)) == 3


def test_public_subnets_route_to_the_internet_gateway() -> None:
    res = rendered("prod")
    igw = res.of("aws:ec2/internetGateway:InternetGateway")[0]
    (route,) = [r for r in res.of(ROUTE) if r.inputs.get("gatewayId")]
    assert route.inputs["gatewayId"] == igw.outputs["id"]
    public_ids = ids(subnets_of_tier(res, "public"))
    assert {a.inputs["subnetId"] for a in res.where(ASSOC, routeTableId=route.inputs["routeTableId"])} == public_ids


@pytest.mark.parametrize("stack", ["prod", "stg", "sandbox"])
def test_required_endpoints_are_present(stack: str) -> None:
    res = rendered(stack)
    services = {e.inputs["serviceName"]: e for e in res.of(ENDPOINT)}
    region = stack_config(stack).region
    for short in ("ecr.api", "ecr.dkr", "sts"):
        endpoint = services[f"com.amazonaws.{region}.{short}"]
        assert endpoint.inputs["vpcEndpointType"] == "Interface"
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert set(endpoint.inputs["subnetIds"]) == ids(subnets_of_tier(res, "private"))
        assert endpoint.inputs["securityGroupIds"] == [res.named(SG, "network-endpoints").outputs["id"]]
    s3 = services[f"com.amazonaws.{region}.s3"]
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    private_and_db = {
        a.inputs["routeTableId"]
        for a in res.of(ASSOC)
        if a.inputs["subnetId"] in ids(subnets_of_tier(res, "private") + subnets_of_tier(res, "database"))
    }
    assert set(s3.inputs["routeTableIds"]) == private_and_db


def test_extra_endpoints_come_from_config() -> None:
    res = rendered("prod")
    services = {e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1.") for e in res.of(ENDPOINT)}
    cfg = stack_config("prod")
    assert cfg.network is not None
    assert services == {"s3", *cfg.network.interface_endpoints}


def test_endpoint_security_group_admits_only_https_from_the_vpc() -> None:
    res = rendered("prod")
    sg = res.named(SG, "network-endpoints")
    rules = res.where(INGRESS, securityGroupId=sg.outputs["id"])
    assert [
        (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in rules
    ] == [("tcp", 443, 443, "10.10.0.0/16")]
    assert res.where(EGRESS, securityGroupId=sg.outputs["id"]) == []
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs


@pytest.mark.parametrize("stack", ["prod", "sandbox"])
def test_alb_security_group_takes_only_80_and_443_and_talks_only_to_the_vpc(stack: str) -> None:
    res = rendered(stack)
    sg = res.named(SG, "network-alb")
    ingress = res.where(INGRESS, securityGroupId=sg.outputs["id"])
    assert sorted((r.inputs["fromPort"], r.inputs["toPort"], r.inputs.get("cidrIpv4")) for r in ingress) == [
        (80, 80, "0.0.0.0/0"),
        (443, 443, "0.0.0.0/0"),
    ]
    (egress,) = res.where(EGRESS, securityGroupId=sg.outputs["id"])
    assert egress.inputs["cidrIpv4"] == stack_config(stack).network.vpc_cidr  # type: ignore[union-attr]


def test_ipv6_adds_v6_listeners_and_dual_stack_public_subnets() -> None:
    res = network_for("stg", enable_ipv6=True)
    sg = res.named(SG, "network-alb")
    v6 = [r for r in res.where(INGRESS, securityGroupId=sg.outputs["id"]) if r.inputs.get("cidrIpv6")]
    assert sorted((r.inputs["fromPort"], r.inputs["cidrIpv6"]) for r in v6) == [(80, "::/0"), (443, "::/0")]
    public = subnets_of_tier(res, "public")
    blocks = [ipaddress.IPv6Network(s.inputs["ipv6CidrBlock"]) for s in public]
    assert all(b.prefixlen == 64 for b in blocks)
    assert len(set(blocks)) == 3
    assert all(s.inputs.get("ipv6CidrBlock") is None for s in subnets_of_tier(res, "private"))
    assert [
        r.inputs["destinationIpv6CidrBlock"] for r in res.of(ROUTE) if r.inputs.get("destinationIpv6CidrBlock")
    ] == ["::/0"]


def test_default_security_group_and_route_table_are_emptied() -> None:
    res = rendered("prod")
    (default_sg,) = res.of("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs["ingress"] == []
    assert default_sg.inputs["egress"] == []
    (default_rt,) = res.of("aws:ec2/defaultRouteTable:DefaultRouteTable")
    assert default_rt.inputs["routes"] == []


@pytest.mark.parametrize("stack", ["prod", "sandbox"])
def test_flow_logs_capture_all_traffic_into_an_encrypted_retained_group(stack: str) -> None:
    res = rendered(stack)
    cfg = stack_config(stack)
    (flow_log,) = res.of("aws:ec2/flowLog:FlowLog")
    vpc = res.of("aws:ec2/vpc:Vpc")[0]
    group = res.named("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    key = res.named("aws:kms/key:Key", "network-flow-logs")
    role = res.named("aws:iam/role:Role", "network-flow-logs")
    assert flow_log.inputs["vpcId"] == vpc.outputs["id"]
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert flow_log.inputs["iamRoleArn"] == role.outputs["arn"]
    assert group.inputs["retentionInDays"] == cfg.log_retention_days
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert '"logs.eu-west-1.amazonaws.com"' in key.inputs["policy"]
    assert '"vpc-flow-logs.amazonaws.com"' in role.inputs["assumeRolePolicy"]


def test_stateful_resources_are_protected_in_prod_only() -> None:
    for stack, expected in (("prod", True), ("sandbox", False)):
        res = rendered(stack)
        assert res.named("aws:kms/key:Key", "network-flow-logs").protect is expected
        assert res.named("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").protect is expected
        assert res.of("aws:ec2/vpc:Vpc")[0].protect is False


def test_subnets_carry_load_balancer_and_karpenter_discovery_tags() -> None:
    res = rendered("prod")
    for subnet in subnets_of_tier(res, "public"):
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert "karpenter.sh/discovery" not in subnet.inputs["tags"]
    for subnet in subnets_of_tier(res, "private"):
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["tags"]["karpenter.sh/discovery"] == "plat-prod"
    for subnet in subnets_of_tier(res, "database"):
        assert not {"kubernetes.io/role/elb", "kubernetes.io/role/internal-elb"} & set(subnet.inputs["tags"])


def test_every_child_is_parented_to_the_component() -> None:
    res = rendered("prod")
    (component,) = res.of("aws-platform:platform:Network")
    for r in res.all:
        if r.type not in ("aws-platform:platform:Network", "pulumi:providers:aws"):
            assert r.parent == component.urn, r.urn


def test_component_outputs_are_keyed_by_az() -> None:
    res = rendered("prod")
    (component,) = res.of("aws-platform:platform:Network")
    outputs = res.run.monitor.component_outputs[component.urn]
    assert set(outputs["privateSubnetIds"]) == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert outputs["flowLogGroupName"] == "/plat/prod/vpc/flow-logs"
    assert outputs["vpcCidr"] == "10.10.0.0/16"
