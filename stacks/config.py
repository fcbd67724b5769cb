"""The configuration of each stack kind, composed from the capabilities' declared sections, and its one loader.

`parse()` turns the raw configuration the engine hands the program (fully qualified keys -> strings) into an
`EnvironmentConfig` or a `SharedServicesConfig`, the kind its profile names, or raises one `ConfigError` listing every
problem. An environment config has no optional section: a section that is missing is a problem, not a None. `load()`
is the only code that reads Pulumi configuration.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from components.access.config import IdentityConfig
from components.artifacts.config import ArtifactsConfig
from components.ci.config import CiConfig, publisher_problems
from components.cluster.config import ClusterConfig, addon_table_problems
from components.database.config import DatabaseConfig
from components.delivery.config import DeliveryConfig
from components.edge.config import EdgeConfig
from components.github.config import GithubConfig
from components.identity_center.config import IdentityCenterConfig
from components.network.config import NetworkConfig
from components.nodepools.config import KarpenterConfig
from components.observability.config import ObservabilityConfig
from components.organization.config import OrganizationConfig
from components.runners.config import RunnersConfig
from components.workloads.config import WorkloadsConfig
from core import yamlfile
from core.loading import MISSING, ConfigError, Problems, own_values, validate
from core.profiles import SHARED_SERVICES, EnvironmentProfile, Profiles
from core.schema import ORG_WIDE, Invalid, ValidationContext, context_of
from core.settings import CommonConfig

PROJECT = "aws-platform"
_STACK_NAME_RULE = "2-20 characters: lowercase letters, digits and hyphens"


class EnvironmentConfig(CommonConfig):
    """An environment stack (kind `workload`): the network, cluster, node pools, workloads, database, identity,
    edge, observability and delivery of one environment. Every section is required."""

    addon_versions: dict[str, Any] = Field(json_schema_extra=ORG_WIDE)
    """EKS managed add-on versions per Kubernetes minor: `"1.35": {vpc-cni: v1.x.y-eksbuild.n, ...}`. A cluster takes
    the entry of its kubernetesVersion; the upgrade adds the next minor's entry first."""
    network: NetworkConfig
    """The environment's VPC."""
    cluster: ClusterConfig
    """The EKS cluster and its system node group."""
    karpenter: KarpenterConfig
    """Karpenter and its node pools."""
    workloads: WorkloadsConfig
    """Application namespaces and VPA."""
    database: DatabaseConfig
    """The PostgreSQL database."""
    identity: IdentityConfig
    """Who may use the cluster: the Identity Center roles of this account."""
    edge: EdgeConfig
    """Ingress: load balancer controller, ALB, WAF, TLS, optional NLB and CloudFront."""
    observability: ObservabilityConfig
    """Logs, metrics, traces and alerts."""
    delivery: DeliveryConfig
    """Argo CD and Argo Rollouts."""
    runners: RunnersConfig
    """The in-VPC CI runners that deploy and preview the stack (its EKS endpoint is private)."""

    @field_validator("addon_versions")
    @classmethod
    def _addon_table(cls, table: dict[str, Any]) -> dict[str, Any]:
        problems = addon_table_problems(table)
        if problems:
            raise Invalid(*problems)
        return table

    @model_validator(mode="after")
    def _sections_agree(self, info: ValidationInfo) -> EnvironmentConfig:
        found: list[tuple[str, Any, str]] = []
        namespaces = list(self.workloads.namespaces)
        if self.database.app.namespace not in namespaces:
            wanted = "one of the application namespaces in workloads.namespaces: " + ", ".join(namespaces)
            found.append(("database.app.namespace", self.database.app.namespace, wanted))
        deployer = f":{self.account_id}:role/{self.deployer_role_name}"
        if any(arn.endswith(deployer) for arn in self.cluster.admin_role_arns):
            wanted = "roles other than the CI deployer (the access component gives it its own access entry)"
            found.append(("cluster.adminRoleArns", list(self.cluster.admin_role_arns), wanted))
        if found:
            raise Invalid(*found)
        return self


class SharedServicesConfig(CommonConfig):
    """The shared-services stack (kind `shared-services`): the organization, Identity Center, CI identities, image
    repositories and Pulumi state, for every environment of the table."""

    addon_versions: dict[str, Any] = Field(default_factory=dict, json_schema_extra=ORG_WIDE)
    """Set in Pulumi.yaml for every stack; this stack runs no cluster and ignores it."""
    organization: OrganizationConfig
    """The organization: root, OUs, SCPs and the organization trail."""
    identity_center: IdentityCenterConfig = Field(alias="identityCenter")
    """IAM Identity Center: the IdP groups of each permission set and where each set is assigned."""
    ci: CiConfig
    """The CI identities (GitHub OIDC)."""
    github: GithubConfig
    """The platform repository's GitHub side: deploy environments and their reviewers."""
    artifacts: ArtifactsConfig
    """Image repositories and the Pulumi state backend's retention."""

    @model_validator(mode="after")
    def _publishers_agree(self) -> SharedServicesConfig:
        found = publisher_problems(
            self.ci.image_publishers,
            repositories=self.artifacts.repositories,
            platform_repository=self.github_repository,
        )
        if found:
            raise Invalid(*found)
        return self


StackConfig = EnvironmentConfig | SharedServicesConfig

STACK_KINDS: list[tuple[str, str, type[CommonConfig]]] = [
    ("Environment stacks", "Stacks whose profile has `kind: workload` (prod, stg, sandbox, ...).", EnvironmentConfig),
    ("The shared-services stack", "The stack whose profile has `kind: shared-services`.", SharedServicesConfig),
]


def org_wide_keys() -> set[str]:
    keys: set[str] = set()
    for _, _, model in STACK_KINDS:
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if extra.get("orgWide"):
                keys.add(field.alias or name)
    return keys


def _keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _context(data: Mapping[str, Any], stack: str) -> ValidationContext:
    """What checks may consult, from the raw values that are themselves valid (the others report their own problem)."""
    quiet = Problems()
    profiles: dict[str, EnvironmentProfile] = {}
    table = validate(Profiles, {"environments": data.get("environments")}, context=ValidationContext(),
                     project=PROJECT, problems=quiet)  # fmt: skip
    if table is not None:
        profiles = dict(table.environments)
    # The stack's name is authoritative (`environment` must repeat it): its profile decides the rules, so a stack file
    # copied from another environment is judged by the rules of the environment it deploys, not of the one it claims.
    environment = stack
    plan: dict[str, ipaddress.IPv4Network] = {}
    raw_plan = data.get("addressPlan")
    if isinstance(raw_plan, Mapping):
        for env, cidr in raw_plan.items():
            try:
                plan[str(env)] = ipaddress.IPv4Network(cidr)
            except (ValueError, TypeError):
                continue
    region = data.get("region")
    account = data.get("accountId")
    return ValidationContext(
        stack=stack,
        environment=environment,
        profile=profiles.get(environment or ""),
        profiles=profiles,
        region=region if isinstance(region, str) and region in (data.get("allowedRegions") or ()) else None,
        account_id=account if isinstance(account, str) and account.isdigit() and len(account) == 12 else None,
        address_plan=plan,
        addon_versions=data.get("addonVersions"),
    )


def parse(
    raw: Mapping[str, str],
    *,
    stack: str,
    project: str = PROJECT,
    stack_file_keys: Iterable[str] = (),
    secret_keys: Iterable[str] = (),
) -> StackConfig:
    """Parse a stack's raw configuration into the config of its kind, or raise `ConfigError` with every problem.

    `stack_file_keys` are the keys the stack file itself sets (an organisation-wide one there is refused);
    `secret_keys` are redacted in messages like keys that look secret."""
    problems = Problems(secret_paths=list(secret_keys))
    if not _valid_stack_name(stack):
        problems.add("<stack name>", stack, _STACK_NAME_RULE)
    data = own_values(raw, project, problems)
    for key in stack_file_keys:
        name = key.split(":", 1)[1] if key.startswith(f"{project}:") else None
        if name in org_wide_keys():
            problems.add(
                key, data.get(name, MISSING), "no value here: it is organisation-wide, set once in Pulumi.yaml"
            )
    context = _context(data, stack)
    if isinstance(data.get("environment"), str) and data["environment"] != stack:
        problems.add(f"{project}:environment", data["environment"], f"{stack!r}, the stack's own name")

    common = validate(CommonConfig, {k: v for k, v in data.items() if k in _keys(CommonConfig)},
                      context=context, project=project, problems=problems)  # fmt: skip
    profile = context.profile
    model: type[CommonConfig]
    if profile is None:
        if common is not None:  # the common part is valid, so the environment must have been the problem
            problems.add(f"{project}:environment", data.get("environment", MISSING), "a row of environments")
        problems.raise_if_any(stack)
        raise ConfigError(stack, problems.items)
    model = SharedServicesConfig if profile.kind == SHARED_SERVICES else EnvironmentConfig
    for key in sorted(set(data) - _keys(model)):
        other = next((kind for _, kind, m in STACK_KINDS if m is not model and key in _keys(m)), None)
        if other is not None:
            problems.add(f"{project}:{key}", data[key], f"nothing: a {profile.kind} stack runs no {key}")
    config = validate(model, {k: v for k, v in data.items() if k in _keys(model)} | _unknown(data),
                      context=context, project=project, problems=problems)  # fmt: skip
    problems.raise_if_any(stack)
    assert config is not None
    config._project = project
    config._stack = stack
    return config


def _unknown(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keys no stack kind declares: passed on so the model reports them as unknown keys, with the known ones."""
    known = set().union(*(_keys(m) for _, _, m in STACK_KINDS))
    return {k: v for k, v in data.items() if k not in known}


def _valid_stack_name(stack: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9-]{0,18}[a-z0-9]", stack) is not None


def stack_file_problems(path: Path) -> tuple[list[str], list[str]]:
    """(keys the stack file sets, problems reading it) for a Pulumi.<stack>.yaml next to the program."""
    if not path.exists():
        return [], []
    try:
        data = yamlfile.load_file(path) or {}
    except yamlfile.YamlError as err:
        return [], [str(err)]
    return list((data.get("config") or {}).keys()), []


def load() -> StackConfig:
    """Read this stack's configuration from the Pulumi runtime and parse it. The only reader of Pulumi config."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, str] = {}
    raw.update(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    stack = pulumi.get_stack()
    keys, file_problems = stack_file_problems(Path(f"Pulumi.{stack}.yaml"))
    try:
        if file_problems:
            raise ConfigError(stack, [])
        return parse(
            raw,
            stack=stack,
            project=pulumi.get_project(),
            stack_file_keys=keys,
            secret_keys=runtime_config.SECRET_KEYS.get() if hasattr(runtime_config, "SECRET_KEYS") else (),
        )
    except ConfigError as err:
        # A RunError: Pulumi prints its message alone, without a Python traceback.
        message = "\n".join(file_problems) if file_problems else str(err)
        raise pulumi.RunError(message) from None


__all__ = ["PROJECT", "STACK_KINDS", "ConfigError", "EnvironmentConfig", "SharedServicesConfig", "StackConfig",
           "context_of", "load", "parse"]  # fmt: skip
