"""The `workloads` section: application namespaces with their resource policy, and the VPA chart."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from core.schema import ChartVersion, Int, Invalid, Model

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CPU = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi|Ti)?$")
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "argocd", "argo-rollouts")
_MEMORY_UNITS = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}

_CPU_TEXT = 'a CPU quantity such as "500m" or "2"'
_MEMORY_TEXT = 'a memory quantity such as "512Mi" or "4Gi"'


def cpu_millis(value: str) -> int:
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


def memory_bytes(value: str) -> int:
    match = re.match(r"^(\d+)(Ki|Mi|Gi|Ti)?$", value)
    assert match is not None
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2) or ""]


class Resources(Model):
    """A CPU and memory amount."""

    cpu: str
    """CPU as a Kubernetes quantity: whole or decimal cores (`"2"`, `"0.5"`) or millicores (`"500m"`), quoted."""
    memory: str
    """Memory as a Kubernetes quantity in bytes or Ki/Mi/Gi/Ti (`"512Mi"`, `"4Gi"`)."""

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu(cls, cpu: Any) -> Any:
        if not isinstance(cpu, str) or not _CPU.match(cpu):
            raise ValueError(_CPU_TEXT)
        return cpu

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, memory: Any) -> Any:
        if not isinstance(memory, str) or not _MEMORY.match(memory):
            raise ValueError(_MEMORY_TEXT)
        return memory


DEFAULT_REQUEST = Resources(cpu="100m", memory="128Mi")
DEFAULT_LIMIT = Resources(cpu="500m", memory="512Mi")


class NamespaceConfig(Model):
    """An application namespace: its ResourceQuota and the LimitRange defaults of its containers."""

    quota_requests: Resources
    """ResourceQuota: the most CPU and memory all pods of the namespace may request together."""
    quota_limits: Resources
    """ResourceQuota: the most CPU and memory limits all pods may declare together (at least quotaRequests)."""
    quota_pods: Int = 100
    """ResourceQuota: the most pods in the namespace, 1-10000."""
    default_request: Resources = DEFAULT_REQUEST
    """LimitRange: the requests of a container that declares none (at most defaultLimit)."""
    default_limit: Resources = DEFAULT_LIMIT
    """LimitRange: the limits of a container that declares none."""
    alb_target_ports: tuple[Int, ...] = (8080,)
    """Container ports the shared ALB may reach in this namespace (IP targets: its traffic comes from the public
    subnets' addresses); empty: nothing here is served through the ALB. 1-65535 each."""
    metrics_ports: tuple[Int, ...] = (8080,)
    """Container ports the platform's Prometheus scraper may reach in this namespace (pods annotated
    `prometheus.io/scrape`); empty: nothing here is scraped. 1-65535 each."""

    _name: str = PrivateAttr(default="")

    @property
    def name(self) -> str:
        """The namespace's name: its key under workloads.namespaces."""
        return self._name

    @field_validator("quota_pods")
    @classmethod
    def _pods(cls, pods: int) -> int:
        if not 1 <= pods <= 10000:
            raise ValueError("1-10000")
        return pods

    @field_validator("alb_target_ports", "metrics_ports")
    @classmethod
    def _ports(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        found = [(f"[{i}]", port, "a port number 1-65535") for i, port in enumerate(values) if not 1 <= port <= 65535]
        if found:
            raise Invalid(*found)
        if len(set(values)) != len(values):
            raise ValueError("distinct port numbers")
        return values

    @model_validator(mode="after")
    def _requests_within_limits(self) -> NamespaceConfig:
        found: list[tuple[str, Any, str]] = []
        pairs = (
            (self.quota_requests, self.quota_limits, "quotaRequests"),
            (self.default_request, self.default_limit, "defaultRequest"),
        )
        for low, high, key in pairs:
            if cpu_millis(low.cpu) > cpu_millis(high.cpu):
                found.append((f"{key}.cpu", low.cpu, f"no more than the matching limit ({high.cpu})"))
            if memory_bytes(low.memory) > memory_bytes(high.memory):
                found.append((f"{key}.memory", low.memory, f"no more than the matching limit ({high.memory})"))
        if found:
            raise Invalid(*found)
        return self


class WorkloadsConfig(Model):
    """The application namespaces and the Vertical Pod Autoscaler."""

    vpa_chart_version: ChartVersion
    """The Fairwinds vpa chart version, e.g. `"4.11.0"`."""
    namespaces: dict[str, NamespaceConfig] = Field(default_factory=dict)
    """Application namespaces by name: DNS-1123 labels other than the system namespaces (default, kube-*, argocd,
    argo-rollouts)."""

    @field_validator("namespaces")
    @classmethod
    def _names(cls, namespaces: dict[str, NamespaceConfig]) -> dict[str, NamespaceConfig]:
        reserved = ", ".join(RESERVED_NAMESPACES)
        found = [
            (name, name, f"a DNS-1123 label that is not a system namespace ({reserved})")
            for name in namespaces
            if not _NAMESPACE.match(name) or name in RESERVED_NAMESPACES
        ]
        if found:
            raise Invalid(*found)
        for name, namespace in namespaces.items():
            namespace._name = name
        return namespaces
