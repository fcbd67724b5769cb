"""Handles: what a component hands the components built on it, values and dependency together (pulumi-eks's habit).

The building blocks (`core.blocks`) type against these protocols, so the foundation never imports a capability; the
`Network` and `Cluster` components satisfy them. A consumer never writes `depends_on=[cluster]`: whatever needs the
cluster to exist takes `name` (an Output that resolves only once the control plane exists, so the dependency is
implicit) or `provider`, and whatever runs pods waits for `ready`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s


class NetworkHandle(Protocol):
    """One environment's VPC."""

    @property
    def vpc_id(self) -> pulumi.Output[str]: ...

    @property
    def cidr(self) -> str:
        """The VPC's IPv4 CIDR, literal (known before anything exists)."""
        ...

    @property
    def zones(self) -> Sequence[str]:
        """The availability zones, in configured order (subnet maps are keyed by them)."""
        ...

    @property
    def private_subnet_ids(self) -> Mapping[str, pulumi.Output[str]]: ...

    @property
    def public_subnet_ids(self) -> Mapping[str, pulumi.Output[str]]: ...

    @property
    def database_subnet_ids(self) -> Mapping[str, pulumi.Output[str]]: ...

    @property
    def alb_security_group_id(self) -> pulumi.Output[str]: ...

    @property
    def endpoint_security_group_id(self) -> pulumi.Output[str]: ...


class ClusterHandle(Protocol):
    """One environment's EKS cluster."""

    @property
    def cluster_name(self) -> str:
        """The cluster's name, literal: for policy documents and tags, which must stay plain strings so the policy
        pack can judge them at preview. Never for an API call that needs the cluster: that takes `name`."""
        ...

    @property
    def name(self) -> pulumi.Output[str]:
        """The same name as an Output that resolves only once the EKS control plane exists: every resource whose API
        call needs the cluster (access entries, Pod Identity associations, add-ons, node groups) takes this."""
        ...

    @property
    def provider(self) -> k8s.Provider:
        """The Kubernetes provider of the cluster (usable once the system node group exists)."""
        ...

    @property
    def ready(self) -> Sequence[pulumi.Resource]:
        """What must exist before pods can be scheduled: the system node group and the add-ons that run before
        workloads."""
        ...

    @property
    def endpoint(self) -> pulumi.Output[str]: ...

    @property
    def oidc_provider_arn(self) -> pulumi.Output[str]: ...

    @property
    def oidc_issuer(self) -> pulumi.Output[str]:
        """The OIDC issuer without `https://`."""
        ...

    @property
    def node_security_group_id(self) -> pulumi.Output[str]: ...

    @property
    def cluster_security_group_id(self) -> pulumi.Output[str]: ...

    @property
    def kms_key_arn(self) -> pulumi.Output[str]:
        """The cluster's customer key (secrets, control-plane logs, node volumes)."""
        ...
