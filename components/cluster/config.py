"""The `cluster` section (and the project's `addonVersions`): EKS version, endpoint, access, system node group."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from core.ec2types import architecture_of_instance_type, instance_types
from core.loading import MISSING
from core.schema import Bool, Int, Invalid, Model, context_of

__all__ = [
    "AMI_TYPES",
    "DEFAULT_KUBERNETES_VERSION",
    "EKS_ADDONS",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "UPGRADE_POLICIES",
    "ClusterConfig",
    "NodeGroupConfig",
    "addon_table_problems",
    "architecture_of_ami_type",
    "architecture_of_instance_type",
]

SUPPORTED_KUBERNETES_VERSIONS = ("1.34", "1.35", "1.36")
"""Kubernetes versions in EKS standard support that this platform accepts (late 2026: 1.34 until 2026-12-02, then
1.35 and 1.36). A version also needs an addonVersions entry before a stack can use it."""
DEFAULT_KUBERNETES_VERSION = "1.34"
"""The tracked version (the platform's baseline); stacks pin theirs explicitly and move it up quarterly."""

EKS_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver", "metrics-server")
"""Managed add-ons every cluster runs; each needs a pinned version per Kubernetes version (project addonVersions)."""

UPGRADE_POLICIES = ("STANDARD", "EXTENDED")
AMI_TYPES = ("AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64")

_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$")

_VERSION_TEXT = 'a Kubernetes minor version string such as "1.34" (quote it in YAML)'
_TABLE_TEXT = "an object: Kubernetes version -> {add-on name: version}"
_PIN_TEXT = "an EKS add-on version such as v1.20.4-eksbuild.1"


def architecture_of_ami_type(ami_type: str) -> str:
    return "arm64" if "ARM_64" in ami_type else "amd64"


def _entry_text(version: str) -> str:
    return f"an entry for Kubernetes {version} pinning " + ", ".join(EKS_ADDONS)


def addon_table_problems(table: Any) -> list[tuple[str, Any, str]]:
    """Every problem of the organisation-wide addonVersions table (Kubernetes minor -> {add-on: version}), as
    (path relative to addonVersions, value, allowed); empty when the table is well-formed. Each entry must pin
    exactly the managed add-ons every cluster runs (EKS_ADDONS). A missing pin's value is `core.loading.MISSING`."""
    if not isinstance(table, Mapping):
        return [("", table, _TABLE_TEXT)]
    found: list[tuple[str, Any, str]] = []
    for version, pins in table.items():
        if not isinstance(version, str) or not _K8S_VERSION.match(version):
            found.append((str(version), version, _VERSION_TEXT))
            continue
        if not isinstance(pins, Mapping):
            found.append((version, pins, _entry_text(version)))
            continue
        for addon in EKS_ADDONS:
            pin = pins.get(addon, MISSING)
            if not isinstance(pin, str) or not _ADDON_VERSION.match(pin):
                found.append((f"{version}.{addon}", pin, _PIN_TEXT))
        for addon in sorted(set(pins) - set(EKS_ADDONS), key=str):
            found.append((f"{version}.{addon}", pins[addon], "one of the managed add-ons " + ", ".join(EKS_ADDONS)))
    return found


ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/[\w+=,.@/-]+$")


class NodeGroupConfig(Model):
    """The EKS managed node group that runs the system pods (CoreDNS, Karpenter, controllers): On-Demand, tainted."""

    instance_types: tuple[str, ...]
    """EC2 instance types of the group (at least one, each existing in EC2 and of amiType's architecture), e.g.
    `[m7g.large, m6g.large]`."""
    ami_type: Literal["AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64"]
    """The EKS-optimised AMI family and architecture of the nodes."""
    min_size: Int
    """Fewest nodes: at least 3 where the environment is highly available (one per AZ), otherwise at least 1."""
    desired_size: Int
    """Nodes to start with, between minSize and maxSize."""
    max_size: Int
    """Most nodes, at least minSize."""
    disk_size_gib: Int = Field(default=50, alias="diskSizeGiB")
    """Root volume size of each node in GiB (encrypted gp3), 20-1000."""
    max_unavailable: Int = 1
    """Nodes replaced at once during an update: at least 1 and fewer than maxSize."""
    detailed_monitoring: Bool = False
    """EC2 detailed (1-minute) monitoring of the nodes."""

    @property
    def architecture(self) -> str:
        return architecture_of_ami_type(self.ami_type)

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, types: tuple[str, ...]) -> tuple[str, ...]:
        if not types:
            raise ValueError("at least one EC2 instance type, such as m7g.large")
        found: list[tuple[str, Any, str]] = []
        known = instance_types()
        for index, name in enumerate(types):
            if not _INSTANCE_TYPE.match(name):
                found.append((f"[{index}]", name, "EC2 instance type names such as m7g.large"))
            elif name not in known:
                found.append(
                    (f"[{index}]", name, "an EC2 instance type that exists (botocore's EC2 InstanceType list)")
                )
        if found:
            raise Invalid(*found)
        return types

    @field_validator("min_size")
    @classmethod
    def _min_size(cls, min_size: int, info: ValidationInfo) -> int:
        ctx = context_of(info)
        floor = 3 if ctx.profile is not None and ctx.profile.highly_available else 1
        if min_size < floor:
            where = f" for environment {ctx.environment}" if ctx.environment else ""
            raise ValueError(f">= {floor}{where} (one node per AZ)")
        return min_size

    @field_validator("disk_size_gib")
    @classmethod
    def _disk(cls, disk: int) -> int:
        if not 20 <= disk <= 1000:
            raise ValueError("20-1000")
        return disk

    @model_validator(mode="after")
    def _sizes_and_architecture(self) -> NodeGroupConfig:
        found: list[tuple[str, Any, str]] = []
        if not self.min_size <= self.desired_size <= self.max_size:
            found.append(
                ("desiredSize", self.desired_size, f"between minSize ({self.min_size}) and maxSize ({self.max_size})")
            )
        if not 1 <= self.max_unavailable <= max(self.max_size - 1, 1):
            found.append(("maxUnavailable", self.max_unavailable, "at least 1 and fewer than maxSize"))
        for index, name in enumerate(self.instance_types):
            if architecture_of_instance_type(name) != self.architecture:
                found.append(
                    (
                        f"instanceTypes[{index}]",
                        name,
                        f"{self.architecture} instance types, to match amiType {self.ami_type}",
                    )
                )
        if found:
            raise Invalid(*found)
        return self


class ClusterConfig(Model):
    """The environment's EKS cluster: version, API endpoint, administrators and the system node group."""

    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    """Kubernetes minor version, quoted (`"1.34"`): one EKS supports in standard support (1.34, 1.35, 1.36) and
    addonVersions has an entry for."""
    upgrade_policy: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """`STANDARD`, or `EXTENDED` to let the cluster run into paid extended support."""
    endpoint_public_access: Bool = False
    """Whether the API endpoint is reachable from the internet (from publicAccessCidrs); never in production."""
    public_access_cidrs: tuple[str, ...] = ()
    """Office/VPN ranges that may reach a public API endpoint (at least one when endpointPublicAccess is true)."""
    allow_world_public_endpoint: Bool = False
    """Opt-in for 0.0.0.0/0 in publicAccessCidrs (never honoured in production)."""
    deletion_protection: Bool = True
    """EKS deletion protection; must stay true in production."""
    admin_role_arns: tuple[str, ...] = ()
    """Extra roles of this stack's account that get cluster-admin through an EKS access entry. Usually none: the
    PlatformAdmin role of Identity Center already has it (the access component), and a role named here must exist."""
    cluster_creator: Literal["bootstrap", "deployer"] = "bootstrap"
    """Who runs the stack's first `pulumi up`. EKS gives the cluster's creator an admin access entry of its own
    (pulumi-eks cannot turn that off): `bootstrap` (the bootstrap role, docs/runbooks/bootstrap.md) keeps the CI
    deployer's access entry; `deployer` (CI created the cluster) skips it, which would collide with EKS's."""
    system_node_group: NodeGroupConfig
    """The managed node group of the system pods."""

    _addon_versions: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def addon_versions(self) -> Mapping[str, str]:
        """EKS managed add-on name -> version: the organisation's addonVersions entry for this Kubernetes version
        (empty when the model was validated without the table)."""
        return self._addon_versions

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _kubernetes_version(cls, version: Any) -> Any:
        if not isinstance(version, str) or not _K8S_VERSION.match(version):
            raise ValueError(_VERSION_TEXT)
        if version not in SUPPORTED_KUBERNETES_VERSIONS:
            raise ValueError("a supported version: " + ", ".join(SUPPORTED_KUBERNETES_VERSIONS))
        return version

    @field_validator("endpoint_public_access")
    @classmethod
    def _private_in_production(cls, public: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if public and ctx.profile is not None and ctx.profile.production:
            raise ValueError(f"false ({ctx.environment}'s API endpoint is private only)")
        return public

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        ctx = context_of(info)
        production = ctx.profile is not None and ctx.profile.production
        found: list[tuple[str, Any, str]] = []
        for index, cidr in enumerate(cidrs):
            try:
                net = ipaddress.ip_network(cidr)
            except ValueError:
                found.append((f"[{index}]", cidr, "CIDR blocks such as 203.0.113.0/24"))
                continue
            if net.prefixlen == 0 and production:
                found.append(
                    (
                        f"[{index}]",
                        cidr,
                        f"specific office/VPN ranges; the whole internet is refused (never in {ctx.environment})",
                    )
                )
        if found:
            raise Invalid(*found)
        return cidrs

    @field_validator("deletion_protection")
    @classmethod
    def _protected_in_production(cls, protected: bool, info: ValidationInfo) -> bool:
        ctx = context_of(info)
        if not protected and ctx.profile is not None and ctx.profile.production:
            raise ValueError(f"true ({ctx.environment} clusters are protected from deletion)")
        return protected

    @field_validator("admin_role_arns")
    @classmethod
    def _admins(cls, arns: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        account_id = context_of(info).account_id
        found: list[tuple[str, Any, str]] = []
        for index, arn in enumerate(arns):
            match = ROLE_ARN.match(arn)
            if match is None:
                found.append((f"[{index}]", arn, "IAM role ARNs (arn:aws:iam::<account>:role/<name>)"))
            elif account_id is not None and match.group(2) != account_id:
                found.append((f"[{index}]", arn, f"roles of this stack's account {account_id}"))
        if found:
            raise Invalid(*found)
        return arns

    @model_validator(mode="after")
    def _endpoint_and_addons(self, info: ValidationInfo) -> ClusterConfig:
        ctx = context_of(info)
        production = ctx.profile is not None and ctx.profile.production
        found: list[tuple[str, Any, str]] = []
        if self.endpoint_public_access and not self.public_access_cidrs:
            found.append(
                ("publicAccessCidrs", [], "at least one CIDR when endpointPublicAccess is true"),
            )
        if not self.allow_world_public_endpoint and not production:
            for index, cidr in enumerate(self.public_access_cidrs):
                if ipaddress.ip_network(cidr).prefixlen == 0:
                    found.append(
                        (
                            f"publicAccessCidrs[{index}]",
                            cidr,
                            "specific office/VPN ranges; the whole internet is refused "
                            "(unless allowWorldPublicEndpoint is true)",
                        )
                    )
        table = ctx.addon_versions
        version = self.kubernetes_version
        if isinstance(table, Mapping):  # otherwise the table reports its own problem (addon_table_problems)
            if version not in table:
                entries = ", ".join(sorted(str(v) for v in table)) or "none"
                found.append(
                    ("kubernetesVersion", version, f"{_entry_text(version)} in addonVersions (it has: {entries})")
                )
            elif not addon_table_problems({version: table[version]}):
                self._addon_versions = {addon: str(table[version][addon]) for addon in EKS_ADDONS}
        if found:
            raise Invalid(*found)
        return self
