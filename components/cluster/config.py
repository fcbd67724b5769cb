"""The `cluster` section (and the project's `addonVersions`): EKS version, endpoint, access, system node group."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.environments import ROLE_ARN, STRICT_ENVIRONMENTS
from core.schema import ValidationContext
from core.validation import MISSING, Section

SUPPORTED_KUBERNETES_VERSIONS = ("1.34", "1.35", "1.36")
DEFAULT_KUBERNETES_VERSION = "1.34"
"""The tracked version (the platform's baseline); stacks pin theirs explicitly and move it up quarterly."""
"""Kubernetes versions in EKS standard support that this platform accepts (late 2026: 1.34 until 2026-12-02, then
1.35 and 1.36). A version also needs an addonVersions entry before a stack can use it."""

EKS_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver", "metrics-server")
"""Managed add-ons every cluster runs; each needs a pinned version per Kubernetes version (project addonVersions)."""

UPGRADE_POLICIES = ("STANDARD", "EXTENDED")
AMI_TYPES = ("AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64")

_K8S_VERSION = re.compile(r"^1\.(\d{2})$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$")


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


def parse_cluster(sec: Section, *, context: ValidationContext, top: Section) -> ClusterConfig | None:
    environment, account_id, addon_table = context.environment or "", context.account_id, context.addon_versions
    version = sec.string(
        "kubernetesVersion", default=DEFAULT_KUBERNETES_VERSION, allowed='a Kubernetes minor version such as "1.34"'
    )
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
            match = ROLE_ARN.match(arn)
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
