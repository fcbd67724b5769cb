"""Typed stack configuration: one pure parser and one loader.

`parse()` turns a stack's raw configuration (exactly what the Pulumi engine hands the program: fully qualified keys
mapped to strings, objects as JSON text) into a frozen `StackConfig`. It collects every problem and raises a single
`ConfigError` naming each key path, the bad value and what is allowed. Unknown keys are errors.

`load()` is the only code in the program that reads Pulumi configuration.

Section parsers live in `core/sections/` (one module per section). Defaults live in the parsers and nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.artifacts.config import ArtifactsConfig, parse_artifacts
from components.ci.config import CiConfig, parse_ci
from components.cluster.config import ClusterConfig, parse_cluster
from components.database.config import DatabaseConfig, parse_database
from components.delivery.config import DeliveryConfig, parse_delivery
from components.edge.config import EdgeConfig, parse_edge
from components.identity.config import IdentityConfig, parse_identity
from components.identity_center.config import IdentityCenterConfig, parse_identity_center
from components.network.config import NetworkConfig, check_address_plan, parse_network
from components.nodepools.config import KarpenterConfig, parse_karpenter
from components.observability.config import ObservabilityConfig, parse_observability
from components.organization.config import OrganizationConfig, parse_organization
from components.workloads.config import WorkloadsConfig, parse_workloads
from core.environments import ACCOUNT_ID, ENVIRONMENTS, WORKLOAD_ENVIRONMENTS
from core.loading import Problems as LoadingProblems
from core.loading import validate
from core.profiles import EnvironmentProfile, Profiles
from core.schema import ValidationContext
from core.validation import MISSING, ConfigError, Problems, Section

PROJECT = "aws-platform"


# Values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy). 0 ("never expire") is deliberately absent.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
# AWS tag values: letters, digits, spaces and + - = . _ : / @, up to 256 characters.
_TAG_VALUE = re.compile(r"^[\w\s+\-=.:/@]{1,256}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ROLE_NAME_KEYS = ("deployerRoleName", "previewerRoleName", "breakGlassRoleName")
_TAG_KEY = re.compile(r"^(?!aws:)[\w\s+\-=.:/@]{1,128}$")

RESERVED_TAG_KEYS = ("Project", "Environment", "Stack", "Owner", "CostCenter", "ManagedBy", "Name")
"""Tag keys the platform sets itself; `tags.extra` may not override them."""


@dataclass(frozen=True, kw_only=True)
class Tags:
    owner: str
    cost_center: str
    extra: Mapping[str, str] = field(default_factory=dict)


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
    github_repository: str
    """The platform repository (owner/name); deployer and previewer roles trust its GitHub environments."""
    deployer_role_name: str
    """Name of the CI deployer role in every account (exempt from the data-protection SCP's PAB rule)."""
    previewer_role_name: str
    break_glass_role_name: str
    environments: Mapping[str, EnvironmentProfile] = field(default_factory=dict)
    network: NetworkConfig | None = None
    cluster: ClusterConfig | None = None
    karpenter: KarpenterConfig | None = None
    workloads: WorkloadsConfig | None = None
    database: DatabaseConfig | None = None
    identity: IdentityConfig | None = None
    edge: EdgeConfig | None = None
    observability: ObservabilityConfig | None = None
    delivery: DeliveryConfig | None = None
    organization: OrganizationConfig | None = None
    identity_center: IdentityCenterConfig | None = None
    ci: CiConfig | None = None
    artifacts: ArtifactsConfig | None = None

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


def _refuse(top: Section, environment: str | None, keys: Sequence[str]) -> None:
    for key in keys:
        value = top.raw(key)
        if value is not MISSING:
            top.bad(key, value, f"nothing: {environment} runs no {key}")


def _workload_sections(
    top: Section,
    environment: str,
    region: str | None,
    plan: Mapping[str, ipaddress.IPv4Network],
    account_id: str | None,
    context: ValidationContext,
) -> dict[str, Any]:
    """The sections of an environment stack (prod, stg, sandbox), each parsed and cross-checked."""
    out: dict[str, Any] = {}
    parsers: dict[str, Callable[..., Any]] = {
        "network": parse_network,
        "cluster": parse_cluster,
        "karpenter": parse_karpenter,
        "workloads": parse_workloads,
        "database": parse_database,
        "identity": parse_identity,
        "edge": parse_edge,
        "observability": parse_observability,
        "delivery": parse_delivery,
    }
    for key, parser in parsers.items():
        sec = top.obj(key)
        if sec is not None:
            out[key] = parser(sec, context=context, top=top)
    database, workloads = out.get("database"), out.get("workloads")
    if database is not None and workloads is not None and database.app.namespace not in workloads.namespaces:
        top.bad(
            "database.app.namespace",
            database.app.namespace,
            "one of the application namespaces in workloads.namespaces: " + ", ".join(workloads.namespaces),
        )
    return out


def _shared_sections(top: Section, context: ValidationContext) -> dict[str, Any]:
    """The sections of the shared-services stack (organization, Identity Center, CI identity, artifacts)."""
    parsers: dict[str, Callable[..., Any]] = {
        "organization": parse_organization,
        "identityCenter": parse_identity_center,
        "ci": parse_ci,
        "artifacts": parse_artifacts,
    }
    out: dict[str, Any] = {}
    for key, parser in parsers.items():
        sec = top.obj(key)
        if sec is not None:
            out[key] = parser(sec, context=context, top=top)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Entry points


def parse(raw: Mapping[str, str], *, stack: str, project: str = PROJECT) -> StackConfig:
    """Parse a stack's raw configuration (fully qualified key -> raw string) into a `StackConfig`."""
    problems = Problems()
    new_problems = LoadingProblems()
    if not _STACK_NAME.match(stack):
        problems.add("<stack name>", stack, "2-20 characters: lowercase letters, digits and hyphens")
    own = _split_namespaces(raw, project, problems)
    top = Section(problems, project, own, sep=":")

    environment = top.choice("environment", ENVIRONMENTS)
    account_id = top.string("accountId", allowed='a 12-digit AWS account id, quoted ("012345678901")')
    if account_id is not None and not ACCOUNT_ID.match(account_id):
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
        plan = check_address_plan(top, plan_raw)

    profiles: dict[str, EnvironmentProfile] = {}
    table = validate(
        Profiles, {"environments": top.raw("environments")}, context=ValidationContext(), project=project,
        problems=new_problems,
    )  # fmt: skip
    if table is not None:
        profiles = dict(table.environments)
    workload_keys = ("network", "cluster", "karpenter", "workloads", "database", "identity", "edge", "observability",
                     "delivery")  # fmt: skip
    shared_keys = ("organization", "identityCenter", "ci", "artifacts")
    sections: dict[str, Any] = {}
    if environment in WORKLOAD_ENVIRONMENTS:
        context = ValidationContext(
            stack=stack,
            environment=environment,
            profile=profiles.get(environment or ""),
            profiles=profiles,
            region=region,
            account_id=valid_account,
            address_plan=plan,
            addon_versions=top.raw("addonVersions"),
        )
        sections = _workload_sections(top, environment or "", region, plan, valid_account, context)
        _refuse(top, environment, shared_keys)
    elif environment == "shared-services":
        top.raw("addonVersions")  # project-wide, unused by stacks without a cluster
        context = ValidationContext(
            stack=stack,
            environment=environment,
            profile=profiles.get(environment or ""),
            profiles=profiles,
            region=region,
            account_id=valid_account,
            address_plan=plan,
            addon_versions=top.raw("addonVersions"),
        )
        sections = _shared_sections(top, context)
        _refuse(top, environment, workload_keys)
    else:
        top.raw("addonVersions")
        for key in (*workload_keys, *shared_keys):
            top.raw(key)  # the environment is invalid: its sections cannot be judged
    roles = {key: top.string(key, allowed="an IAM role name") for key in _ROLE_NAME_KEYS}
    github_repository = top.string("githubRepository", allowed="the platform repository as owner/name")
    if github_repository is not None and not _GITHUB_REPOSITORY.match(github_repository):
        top.bad("githubRepository", github_repository, "owner/name of a GitHub repository")
    for key, name in roles.items():
        if name is not None and not _ROLE_NAME.match(name):
            top.bad(key, name, "an IAM role name: letters, digits and +=,.@_- up to 64 characters")
    cluster = sections.get("cluster")
    if cluster is not None and valid_account is not None and roles["deployerRoleName"] is not None:
        deployer = f":{valid_account}:role/{roles['deployerRoleName']}"
        if any(arn.endswith(deployer) for arn in cluster.admin_role_arns):
            top.bad(
                "cluster.adminRoleArns",
                list(cluster.admin_role_arns),
                "roles other than the CI deployer (the identity component gives it its own access entry)",
            )
    top.finish()
    for problem in new_problems.items:
        problems.add(problem.path, problem.value, problem.allowed)
    problems.raise_if_any(stack)

    assert environment
    assert account_id
    assert region
    assert allowed_regions
    assert name_prefix
    assert tags
    assert retention is not None
    assert protect is not None
    assert github_repository is not None
    assert all(roles.values())
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
        github_repository=github_repository,
        deployer_role_name=str(roles["deployerRoleName"]),
        previewer_role_name=str(roles["previewerRoleName"]),
        break_glass_role_name=str(roles["breakGlassRoleName"]),
        environments=profiles,
        network=sections.get("network"),
        cluster=cluster,
        karpenter=sections.get("karpenter"),
        workloads=sections.get("workloads"),
        database=sections.get("database"),
        identity=sections.get("identity"),
        edge=sections.get("edge"),
        observability=sections.get("observability"),
        delivery=sections.get("delivery"),
        organization=sections.get("organization"),
        identity_center=sections.get("identityCenter"),
        ci=sections.get("ci"),
        artifacts=sections.get("artifacts"),
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
