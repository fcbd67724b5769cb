"""The `workloads` section: application namespaces with their resource policy, and the VPA chart."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.schema import ValidationContext
from core.validation import Section

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CPU = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY = re.compile(r"^\d+(Ki|Mi|Gi|Ti)?$")
_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "argocd", "argo-rollouts")
_MEMORY_UNITS = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cpu_millis(value: str) -> int:
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


def memory_bytes(value: str) -> int:
    match = re.match(r"^(\d+)(Ki|Mi|Gi|Ti)?$", value)
    assert match is not None
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2) or ""]


@dataclass(frozen=True, kw_only=True)
class Resources:
    cpu: str
    memory: str


@dataclass(frozen=True, kw_only=True)
class NamespaceConfig:
    name: str
    quota_requests: Resources
    quota_limits: Resources
    quota_pods: int
    default_request: Resources
    default_limit: Resources


@dataclass(frozen=True, kw_only=True)
class WorkloadsConfig:
    vpa_chart_version: str
    namespaces: dict[str, NamespaceConfig]


def _resources(sec: Section, key: str, default: Resources | None = None) -> Resources | None:
    obj = sec.obj(key, default=None) if default is not None else sec.obj(key)
    if obj is None:
        return default
    cpu = obj.string("cpu", allowed='a CPU quantity such as "500m" or "2"')
    memory = obj.string("memory", allowed='a memory quantity such as "512Mi" or "4Gi"')
    obj.finish()
    if cpu is not None and not _CPU.match(cpu):
        obj.bad("cpu", cpu, 'a CPU quantity such as "500m" or "2"')
        cpu = None
    if memory is not None and not _MEMORY.match(memory):
        obj.bad("memory", memory, 'a memory quantity such as "512Mi" or "4Gi"')
        memory = None
    if cpu is None or memory is None:
        return None
    return Resources(cpu=cpu, memory=memory)


DEFAULT_REQUEST = Resources(cpu="100m", memory="128Mi")
DEFAULT_LIMIT = Resources(cpu="500m", memory="512Mi")


def _parse_namespace(sec: Section, name: str) -> NamespaceConfig | None:
    requests = _resources(sec, "quotaRequests")
    limits = _resources(sec, "quotaLimits")
    pods = sec.integer("quotaPods", default=100, allowed="a pod count between 1 and 10000")
    default_request = _resources(sec, "defaultRequest", DEFAULT_REQUEST)
    default_limit = _resources(sec, "defaultLimit", DEFAULT_LIMIT)
    sec.finish()
    if pods is not None and not 1 <= pods <= 10000:
        sec.bad("quotaPods", pods, "1-10000")
    for low, high, key in ((requests, limits, "quotaRequests"), (default_request, default_limit, "defaultRequest")):
        if low is None or high is None:
            continue
        if cpu_millis(low.cpu) > cpu_millis(high.cpu):
            sec.bad(f"{key}.cpu", low.cpu, f"no more than the matching limit ({high.cpu})")
        if memory_bytes(low.memory) > memory_bytes(high.memory):
            sec.bad(f"{key}.memory", low.memory, f"no more than the matching limit ({high.memory})")
    if None in (requests, limits, pods, default_request, default_limit):
        return None
    assert requests is not None and limits is not None and pods is not None
    assert default_request is not None and default_limit is not None
    return NamespaceConfig(
        name=name,
        quota_requests=requests,
        quota_limits=limits,
        quota_pods=pods,
        default_request=default_request,
        default_limit=default_limit,
    )


def parse_workloads(sec: Section, *, context: ValidationContext, top: Section) -> WorkloadsConfig | None:
    chart = sec.string("vpaChartVersion", allowed='the Fairwinds vpa chart version, e.g. "4.11.0"')
    ns_sec = sec.obj("namespaces", default={})
    namespaces: dict[str, NamespaceConfig] = {}
    ok = True
    if ns_sec is not None:
        for name in list(ns_sec.data):
            if not _NAMESPACE.match(name) or name in RESERVED_NAMESPACES:
                reserved = ", ".join(RESERVED_NAMESPACES)
                ns_sec.bad(name, name, f"a DNS-1123 label that is not a system namespace ({reserved})")
                ok = False
            one = ns_sec.obj(name)
            parsed = _parse_namespace(one, name) if one is not None else None
            if parsed is None:
                ok = False
            else:
                namespaces[name] = parsed
        ns_sec.finish()
    sec.finish()
    if chart is not None and not _CHART_VERSION.match(chart):
        sec.bad("vpaChartVersion", chart, 'a chart version such as "4.11.0"')
        chart = None
    if chart is None or not ok:
        return None
    return WorkloadsConfig(vpa_chart_version=chart, namespaces=namespaces)
