"""Typed stack configuration: one pure parser and one loader.

`parse()` turns a stack's raw configuration (exactly what the Pulumi engine hands the program: fully qualified keys
mapped to strings, objects as JSON text) into a frozen `StackConfig`. It collects every problem and raises a single
`ConfigError` naming each key path, the bad value and what is allowed. Unknown keys are errors.

`load()` is the only code in the program that reads Pulumi configuration.

Defaults live here and nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.validate import MISSING, ConfigError, Problems, Section

PROJECT = "aws-platform"

ENVIRONMENTS = ("prod", "stg", "sandbox", "shared-services")
WORKLOAD_ENVIRONMENTS = ("prod", "stg", "sandbox")
STRICT_ENVIRONMENTS = ("prod", "stg")
"""Environments that must be highly available (per-AZ NAT, three AZs, Multi-AZ databases)."""

# Values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy). 0 ("never expire") is deliberately absent.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip

NAT_MODES = ("perAz", "single")

REQUIRED_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts")
"""Interface endpoints every VPC gets: image pulls and IRSA/Pod Identity token exchange stay on the AWS network."""

OPTIONAL_INTERFACE_ENDPOINTS = (
    "aps-workspaces", "autoscaling", "ec2", "ec2messages", "ecs", "eks", "eks-auth", "elasticfilesystem",
    "elasticloadbalancing", "events", "kms", "logs", "monitoring", "rds", "secretsmanager", "sns", "sqs", "ssm",
    "ssmmessages", "xray",
)  # fmt: skip
"""Extra interface endpoints a stack may ask for (short service names, as in com.amazonaws.<region>.<name>)."""

SUPPORTED_KUBERNETES_VERSIONS = ("1.34", "1.35", "1.36")
"""Kubernetes versions in EKS standard support that this platform accepts (late 2026: 1.34 until 2026-12-02, then
1.35 and 1.36). A version also needs an addonVersions entry before a stack can use it."""

EKS_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver", "metrics-server")
"""Managed add-ons every cluster runs; each needs a pinned version per Kubernetes version (project addonVersions)."""

UPGRADE_POLICIES = ("STANDARD", "EXTENDED")
AMI_TYPES = ("AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64")

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
# AWS tag values: letters, digits, spaces and + - = . _ : / @, up to 256 characters.
_TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]{1,256}$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/[\w+=,.@/-]+$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$")
_TAG_KEY = re.compile(r"^(?!aws:)[\w\s+\-=.:/@]{1,128}$")

RESERVED_TAG_KEYS = ("Project", "Environment", "Stack", "Owner", "CostCenter", "ManagedBy", "Name")
"""Tag keys the platform sets itself; `tags.extra` may not override them."""


@dataclass(frozen=True, kw_only=True)
class Tags:
    owner: str
    cost_center: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    vpc_cidr: str
    availability_zones: tuple[str, ...]
    nat_gateways: str
    """"perAz" (one NAT gateway per AZ) or "single" (sandbox only)."""
    interface_endpoints: tuple[str, ...]
    """Every interface endpoint to create: the required ones first, then the stack's extras."""
    enable_ipv6: bool


@dataclass(frozen=True, kw_only=True)
class NodeGroupConfig:
    instance_types: tuple[str, ...]
    ami_type: str
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int
    max_unavailable: int
    detailed_monitoring: bool

    @property
    def architecture(self) -> str:
        return architecture_of_ami_type(self.ami_type)


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    kubernetes_version: str
    upgrade_policy: str
    """STANDARD (default) or EXTENDED: whether the cluster may run into paid extended support."""
    endpoint_public_access: bool
    public_access_cidrs: tuple[str, ...]
    deletion_protection: bool
    admin_role_arns: tuple[str, ...]
    """Roles that get cluster-admin through an EKS access entry (the platform-admin role)."""
    system_node_group: NodeGroupConfig
    addon_versions: Mapping[str, str]
    """EKS managed add-on name -> version, from the project's pins for this Kubernetes version."""


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    project: str
    stack: str
    environment: str
    account_id: str
    region: str
    allowed_regions: tuple[str, ...]
    name_prefix: str
    tags: Tags
    log_retention_days: int
    protect_stateful: bool
    """Pulumi `protect` on stateful resources (databases, KMS keys, log groups, state buckets)."""
    address_plan: Mapping[str, str]
    network: NetworkConfig | None = None
    cluster: ClusterConfig | None = None

    @property
    def cluster_name(self) -> str:
        """The EKS cluster name, also used by the network for Karpenter subnet discovery."""
        return f"{self.name_prefix}-{self.stack}"


# ---------------------------------------------------------------------------------------------------------------------
# Raw config decoding


def decode(value: str) -> Any:
    """Decode one raw config value as the Pulumi runtime hands it over: objects and lists arrive as JSON text."""
    text = value.strip()
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return value
    return value


def _split_namespaces(raw: Mapping[str, str], project: str, problems: Problems) -> dict[str, Any]:
    own: dict[str, Any] = {}
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if not name:
            problems.add(key, value, f"a namespaced key such as {project}:{key}")
        elif namespace == project:
            own[name] = decode(value)
        elif namespace == "pulumi":
            continue  # engine settings (disable-default-providers, tags, ...), not ours to judge
        elif namespace in ("aws", "kubernetes"):
            problems.add(
                key,
                value,
                f"nothing: the default {namespace} provider is disabled, so {key} would be ignored; "
                f"set the platform key instead (e.g. {project}:region)",
            )
        else:
            problems.add(key, value, f"keys under {project}: (unknown namespace {namespace!r})")
    return own


# ---------------------------------------------------------------------------------------------------------------------
# Sections


def _parse_tags(sec: Section) -> Tags | None:
    owner = sec.string("owner", allowed="a tag value naming the owning team")
    cost_center = sec.string("costCenter", allowed="a tag value naming the cost centre")
    extra = sec.string_map("extra", default={})
    sec.finish()
    for key, value in (("owner", owner), ("costCenter", cost_center)):
        if value is not None and not _TAG_VALUE.match(value):
            sec.bad(key, value, "1-256 characters: letters, digits, spaces and + - = . _ : / @")
    for key, value in (extra or {}).items():
        if key in RESERVED_TAG_KEYS:
            sec.bad(f"extra.{key}", value, "a key other than " + ", ".join(RESERVED_TAG_KEYS))
        elif not _TAG_KEY.match(key) or not _TAG_VALUE.match(value):
            sec.bad(f"extra.{key}", value, "a tag key (not aws:*) and a value of letters, digits, spaces, +-=._:/@")
    if owner is None or cost_center is None or extra is None:
        return None
    return Tags(owner=owner, cost_center=cost_center, extra=extra)


def _check_address_plan(sec: Section, plan: Mapping[str, Any]) -> dict[str, ipaddress.IPv4Network]:
    networks: dict[str, ipaddress.IPv4Network] = {}
    for env, cidr in plan.items():
        try:
            net = ipaddress.IPv4Network(cidr)
        except (ValueError, TypeError):
            sec.bad(f"addressPlan.{env}", cidr, "an IPv4 CIDR block such as 10.10.0.0/16")
            continue
        networks[env] = net
    for env, net in networks.items():
        for other, other_net in networks.items():
            if env < other and net.overlaps(other_net):
                sec.bad(f"addressPlan.{other}", str(other_net), f"a block that does not overlap {env} ({net})")
    return networks


def _parse_network(
    sec: Section, *, environment: str, region: str | None, plan: Mapping[str, ipaddress.IPv4Network]
) -> NetworkConfig | None:
    vpc_cidr = sec.string("vpcCidr", allowed="a private IPv4 /16 such as 10.10.0.0/16")
    azs = sec.string_list("availabilityZones", allowed="a list of availability zone names")
    nat = sec.choice("natGateways", NAT_MODES)
    extra_endpoints = sec.string_list("interfaceEndpoints", default=[])
    ipv6 = sec.boolean("enableIpv6", default=False)
    sec.finish()

    if vpc_cidr is not None:
        _check_vpc_cidr(sec, vpc_cidr, environment=environment, plan=plan)

    if azs is not None:
        strict = environment in STRICT_ENVIRONMENTS
        wanted = "exactly 3" if strict else "2 or 3"
        if (strict and len(azs) != 3) or not (2 <= len(azs) <= 3):
            sec.bad("availabilityZones", azs, f"{wanted} availability zones for environment {environment}")
        if len(set(azs)) != len(azs):
            sec.bad("availabilityZones", azs, "distinct availability zones")
        if region is not None:
            for az in azs:
                if not re.fullmatch(re.escape(region) + r"[a-z]", az):
                    sec.bad(
                        "availabilityZones", az, f"a zone of the stack's region {region} ({region}a, {region}b, ...)"
                    )

    if nat == "single" and environment in STRICT_ENVIRONMENTS:
        sec.bad("natGateways", nat, f"perAz (environment {environment} needs a NAT gateway in every AZ)")

    if extra_endpoints is not None:
        for name in extra_endpoints:
            if name in REQUIRED_INTERFACE_ENDPOINTS:
                sec.bad("interfaceEndpoints", name, "only extra services; ecr.api, ecr.dkr and sts are always created")
            elif name not in OPTIONAL_INTERFACE_ENDPOINTS:
                sec.bad("interfaceEndpoints", name, "one of " + ", ".join(OPTIONAL_INTERFACE_ENDPOINTS))
        if len(set(extra_endpoints)) != len(extra_endpoints):
            sec.bad("interfaceEndpoints", extra_endpoints, "each service listed once")

    if None in (vpc_cidr, azs, nat, extra_endpoints, ipv6):
        return None
    assert vpc_cidr is not None
    assert azs is not None
    assert nat is not None
    assert extra_endpoints is not None
    return NetworkConfig(
        vpc_cidr=vpc_cidr,
        availability_zones=tuple(azs),
        nat_gateways=nat,
        interface_endpoints=REQUIRED_INTERFACE_ENDPOINTS + tuple(extra_endpoints),
        enable_ipv6=bool(ipv6),
    )


def _check_vpc_cidr(
    sec: Section, vpc_cidr: str, *, environment: str, plan: Mapping[str, ipaddress.IPv4Network]
) -> None:
    try:
        net = ipaddress.IPv4Network(vpc_cidr)
    except ValueError:
        sec.bad("vpcCidr", vpc_cidr, "an IPv4 network address with prefix, such as 10.10.0.0/16")
        return
    if net.prefixlen != 16:
        sec.bad("vpcCidr", vpc_cidr, "a /16 block")
    if not any(net.subnet_of(p) for p in _PRIVATE_RANGES):
        sec.bad("vpcCidr", vpc_cidr, "a private (RFC 1918) block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    own = plan.get(environment)
    if own is None:
        sec.bad("vpcCidr", vpc_cidr, f"a block reserved for {environment} in addressPlan (it has no entry)")
    elif own != net:
        sec.bad("vpcCidr", vpc_cidr, f"{own}, the block addressPlan reserves for {environment}")
    for other, other_net in sorted(plan.items()):
        if other != environment and net.overlaps(other_net):
            sec.bad("vpcCidr", vpc_cidr, f"a block that does not overlap {other}'s {other_net}")


_PRIVATE_RANGES = tuple(ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def architecture_of_ami_type(ami_type: str) -> str:
    return "arm64" if "ARM_64" in ami_type else "amd64"


def architecture_of_instance_type(instance_type: str) -> str:
    """arm64 for Graviton types (a "g" among the letters after the generation digit: m7g, c6gn, t4g), else amd64."""
    family = instance_type.split(".", 1)[0]
    match = re.match(r"^[a-z-]+\d+([a-z-]*)", family)
    return "arm64" if match and "g" in match.group(1) else "amd64"


def _parse_node_group(sec: Section, *, environment: str) -> NodeGroupConfig | None:
    types = sec.string_list("instanceTypes", allowed="a list of EC2 instance types such as m7g.large")
    ami_type = sec.choice("amiType", AMI_TYPES)
    min_size = sec.integer("minSize", allowed="an integer >= 1")
    desired = sec.integer("desiredSize", allowed="an integer between minSize and maxSize")
    max_size = sec.integer("maxSize", allowed="an integer >= minSize")
    disk = sec.integer("diskSizeGiB", default=50, allowed="a root volume size in GiB, 20-1000")
    max_unavailable = sec.integer("maxUnavailable", default=1, allowed="an integer >= 1")
    monitoring = sec.boolean("detailedMonitoring", default=False)
    sec.finish()
    for instance_type in types or []:
        if not _INSTANCE_TYPE.match(instance_type):
            sec.bad("instanceTypes", instance_type, "EC2 instance type names such as m7g.large")
        elif ami_type and architecture_of_instance_type(instance_type) != architecture_of_ami_type(ami_type):
            sec.bad(
                "instanceTypes",
                instance_type,
                f"{architecture_of_ami_type(ami_type)} instance types, to match amiType {ami_type}",
            )
    if min_size is not None and max_size is not None and desired is not None:
        floor = 3 if environment in STRICT_ENVIRONMENTS else 1
        if min_size < floor:
            sec.bad("minSize", min_size, f">= {floor} for environment {environment} (one node per AZ)")
        if not min_size <= desired <= max_size:
            sec.bad("desiredSize", desired, f"between minSize ({min_size}) and maxSize ({max_size})")
    if disk is not None and not 20 <= disk <= 1000:
        sec.bad("diskSizeGiB", disk, "20-1000")
    if max_unavailable is not None and max_size is not None and not 1 <= max_unavailable <= max(max_size - 1, 1):
        sec.bad("maxUnavailable", max_unavailable, "at least 1 and fewer than maxSize")
    values = (types, ami_type, min_size, desired, max_size, disk, max_unavailable, monitoring)
    if any(v is None for v in values):
        return None
    assert types is not None and ami_type is not None and monitoring is not None
    assert min_size is not None and desired is not None and max_size is not None
    assert disk is not None and max_unavailable is not None
    return NodeGroupConfig(
        instance_types=tuple(types),
        ami_type=ami_type,
        min_size=min_size,
        desired_size=desired,
        max_size=max_size,
        disk_size_gib=disk,
        max_unavailable=max_unavailable,
        detailed_monitoring=monitoring,
    )


def _addon_versions(top: Section, version: str, table: Any) -> dict[str, str] | None:
    """The add-on pins of the project's addonVersions entry for this Kubernetes version, complete and well-formed."""
    if not isinstance(table, Mapping):
        top.bad("addonVersions", table, "an object: Kubernetes version -> {add-on name: version}")
        return None
    pins = table.get(version)
    if not isinstance(pins, Mapping):
        top.bad("addonVersions", sorted(table), f"an entry for Kubernetes {version} pinning " + ", ".join(EKS_ADDONS))
        return None
    ok = True
    for addon in EKS_ADDONS:
        pin = pins.get(addon, MISSING)
        if not isinstance(pin, str) or not _ADDON_VERSION.match(pin):
            top.bad(f"addonVersions.{version}.{addon}", pin, "an EKS add-on version such as v1.20.4-eksbuild.1")
            ok = False
    for addon in sorted(set(pins) - set(EKS_ADDONS)):
        top.bad(f"addonVersions.{version}.{addon}", pins[addon], "one of the managed add-ons " + ", ".join(EKS_ADDONS))
        ok = False
    return {addon: str(pins[addon]) for addon in EKS_ADDONS} if ok else None


def _parse_cluster(
    sec: Section, top: Section, *, environment: str, account_id: str | None, addon_table: Any
) -> ClusterConfig | None:
    version = sec.string("kubernetesVersion", allowed='a Kubernetes minor version such as "1.34"')
    upgrade_policy = sec.choice("upgradePolicy", UPGRADE_POLICIES, default="STANDARD")
    public = sec.boolean("endpointPublicAccess", default=False)
    cidrs = sec.string_list("publicAccessCidrs", default=[])
    allow_world = sec.boolean("allowWorldPublicEndpoint", default=False)
    deletion_protection = sec.boolean("deletionProtection", default=True)
    admins = sec.string_list("adminRoleArns", allowed="a list of IAM role ARNs that administer the cluster")
    ng_sec = sec.obj("systemNodeGroup")
    node_group = _parse_node_group(ng_sec, environment=environment) if ng_sec else None
    sec.finish()

    if version is not None:
        if not _K8S_VERSION.match(version):
            sec.bad("kubernetesVersion", version, 'a Kubernetes minor version string such as "1.34" (quote it in YAML)')
            version = None
        elif version not in SUPPORTED_KUBERNETES_VERSIONS:
            sec.bad("kubernetesVersion", version, "a supported version: " + ", ".join(SUPPORTED_KUBERNETES_VERSIONS))
            version = None
    if public and environment == "prod":
        sec.bad("endpointPublicAccess", public, "false (prod's API endpoint is private only)")
    if public and not cidrs:
        sec.bad("publicAccessCidrs", cidrs, "at least one CIDR when endpointPublicAccess is true")
    for cidr in cidrs or []:
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError:
            sec.bad("publicAccessCidrs", cidr, "CIDR blocks such as 203.0.113.0/24")
            continue
        if net.prefixlen == 0 and (not allow_world or environment == "prod"):
            reason = "never in prod" if environment == "prod" else "unless allowWorldPublicEndpoint is true"
            sec.bad("publicAccessCidrs", cidr, f"specific office/VPN ranges; the whole internet is refused ({reason})")
    if deletion_protection is False and environment == "prod":
        sec.bad("deletionProtection", deletion_protection, "true (prod clusters are protected from deletion)")
    if admins is not None:
        if not admins:
            sec.bad("adminRoleArns", admins, "at least one platform-admin role ARN")
        for arn in admins:
            match = _ROLE_ARN.match(arn)
            if match is None:
                sec.bad("adminRoleArns", arn, "IAM role ARNs (arn:aws:iam::<account>:role/<name>)")
            elif account_id is not None and match.group(2) != account_id:
                sec.bad("adminRoleArns", arn, f"roles of this stack's account {account_id}")
    addons = _addon_versions(top, version, addon_table) if version is not None else None

    parts = (version, upgrade_policy, public, cidrs, deletion_protection, admins, node_group, addons)
    if any(p is None for p in parts):
        return None
    assert version is not None and upgrade_policy is not None and cidrs is not None and admins is not None
    assert node_group is not None and addons is not None
    return ClusterConfig(
        kubernetes_version=version,
        upgrade_policy=upgrade_policy,
        endpoint_public_access=bool(public),
        public_access_cidrs=tuple(cidrs),
        deletion_protection=bool(deletion_protection),
        admin_role_arns=tuple(admins),
        system_node_group=node_group,
        addon_versions=addons,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Entry points


def parse(raw: Mapping[str, str], *, stack: str, project: str = PROJECT) -> StackConfig:
    """Parse a stack's raw configuration (fully qualified key -> raw string) into a `StackConfig`."""
    problems = Problems()
    if not _STACK_NAME.match(stack):
        problems.add("<stack name>", stack, "2-20 characters: lowercase letters, digits and hyphens")
    own = _split_namespaces(raw, project, problems)
    top = Section(problems, project, own, sep=":")

    environment = top.choice("environment", ENVIRONMENTS)
    account_id = top.string("accountId", allowed='a 12-digit AWS account id, quoted ("012345678901")')
    if account_id is not None and not _ACCOUNT_ID.match(account_id):
        top.bad("accountId", account_id, "exactly 12 digits")
        valid_account = None
    else:
        valid_account = account_id
    allowed_regions = top.string_list("allowedRegions", allowed="a list of AWS region names")
    for region_name in allowed_regions or []:
        if not _REGION.match(region_name):
            top.bad("allowedRegions", region_name, "AWS region names such as eu-west-1")
    region = top.string("region", allowed="an AWS region name such as eu-west-1")
    if region is not None and allowed_regions is not None and region not in allowed_regions:
        top.bad("region", region, "one of allowedRegions: " + ", ".join(allowed_regions))
    name_prefix = top.string("namePrefix", allowed="2-8 lowercase letters or digits, starting with a letter")
    if name_prefix is not None and not _NAME_PREFIX.match(name_prefix):
        top.bad("namePrefix", name_prefix, "2-8 lowercase letters or digits, starting with a letter")
    tags_sec = top.obj("tags")
    tags = _parse_tags(tags_sec) if tags_sec else None
    retention = top.integer("logRetentionDays", allowed="a CloudWatch Logs retention in days")
    if retention is not None and retention not in LOG_RETENTION_DAYS:
        top.bad("logRetentionDays", retention, "one of " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    protect = top.boolean("protectStatefulResources")
    if protect is False and environment == "prod":
        top.bad("protectStatefulResources", protect, "true (prod must protect databases, keys and log groups)")

    plan_raw = top.raw("addressPlan")
    plan: dict[str, ipaddress.IPv4Network] = {}
    if plan_raw is MISSING or not isinstance(plan_raw, Mapping):
        top.bad("addressPlan", plan_raw, "an object mapping each environment to its /16")
    else:
        plan = _check_address_plan(top, plan_raw)

    network = cluster = None
    if environment in WORKLOAD_ENVIRONMENTS:
        net_sec = top.obj("network")
        if net_sec is not None:
            network = _parse_network(net_sec, environment=environment or "", region=region, plan=plan)
        cl_sec = top.obj("cluster")
        addon_table = top.raw("addonVersions")
        if cl_sec is not None:
            cluster = _parse_cluster(
                cl_sec, top, environment=environment or "", account_id=valid_account, addon_table=addon_table
            )
    else:
        top.raw("addonVersions")  # project-wide, unused by stacks without a cluster
        for key in ("network", "cluster"):
            value = top.raw(key)
            if environment is not None and value is not MISSING:
                top.bad(key, value, f"nothing: {environment} runs no {key}")
    top.finish()
    problems.raise_if_any(stack)

    assert environment
    assert account_id
    assert region
    assert allowed_regions
    assert name_prefix
    assert tags
    assert retention is not None
    assert protect is not None
    return StackConfig(
        project=project,
        stack=stack,
        environment=environment,
        account_id=account_id,
        region=region,
        allowed_regions=tuple(allowed_regions),
        name_prefix=name_prefix,
        tags=tags,
        log_retention_days=retention,
        protect_stateful=protect,
        address_plan={env: str(net) for env, net in plan.items()},
        network=network,
        cluster=cluster,
    )


def load() -> StackConfig:
    """Read this stack's configuration from the Pulumi runtime and parse it. The only reader of Pulumi config."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, str] = {}
    raw.update(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    try:
        return parse(raw, stack=pulumi.get_stack(), project=pulumi.get_project())
    except ConfigError as err:
        # Raise a RunError: Pulumi prints its message alone, without a Python traceback.
        raise pulumi.RunError(str(err)) from None


__all__ = ["ClusterConfig", "ConfigError", "NetworkConfig", "StackConfig", "Tags", "decode", "load", "parse"]
