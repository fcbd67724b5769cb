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

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
# AWS tag values: letters, digits, spaces and + - = . _ : / @, up to 256 characters.
_TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]{1,256}$")
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
class ClusterConfig:
    kubernetes_version: str


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


def _parse_cluster(sec: Section) -> ClusterConfig | None:
    version = sec.string("kubernetesVersion", allowed='a Kubernetes minor version such as "1.34"')
    sec.finish()
    if version is not None and not _K8S_VERSION.match(version):
        sec.bad("kubernetesVersion", version, 'a Kubernetes minor version string such as "1.34" (quote it in YAML)')
        return None
    if version is None:
        return None
    return ClusterConfig(kubernetes_version=version)


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
        if cl_sec is not None:
            cluster = _parse_cluster(cl_sec)
    else:
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
