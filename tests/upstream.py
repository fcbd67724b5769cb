"""The vendored upstream artefacts (`vendor/`, see its README) as the tests use them: chart indexes, chart values and
schemas, CRD schemas and the load balancer controller's IAM policy, always of exactly the pinned version."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from offline.mocks import Recorded
from offline.stackfiles import ROOT

VENDOR = ROOT / "vendor"
RELEASE = "kubernetes:helm.sh/v3:Release"

KUBERNETES_PASS_THROUGH = frozenset(
    {
        "affinity", "annotations", "containerSecurityContext", "env", "extraArgs", "extraEnv", "labels",
        "nodeSelector", "podAnnotations", "podLabels", "podSecurityContext", "resources", "securityContext",
        "tolerations", "topologySpreadConstraints",
    }
)  # fmt: skip
"""Values keys that every chart here renders whole into a Kubernetes object (`toYaml .Values.<key>`), so any field the
Kubernetes API accepts may appear under them even where the chart's default shows only some (the objects themselves
are validated by the API server at install)."""

CRD_SOURCES: dict[str, tuple[str, str]] = {
    "karpenter-crd": ("karpenter", "version"),
    "aws-load-balancer-controller": ("aws-load-balancer-controller", "version"),
    "argo-cd": ("argo-cd", "appVersion"),
    "argo-rollouts": ("argo-rollouts", "appVersion"),
}
"""Chart -> (vendor/crds/<folder>, the Chart.yaml field naming its version folder): the CRDs a pinned chart installs."""

CONTROL_PLANE_CRDS: tuple[tuple[str, str], ...] = (("amazon-vpc-resource-controller-k8s", "1.7.19"),)
"""(vendor/crds/<folder>, version folder) of the CRDs EKS itself installs, which no chart pins: the VPC resource
controller's SecurityGroupPolicy (Security Groups for Pods; vendor/README.md, note 7). Every plan may use them."""


def chart_name(chart: str) -> str:
    """`argo-cd`, or the last segment of an OCI reference such as `oci://public.ecr.aws/karpenter/karpenter`."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def releases(resources: list[Recorded]) -> list[Recorded]:
    return [r for r in resources if r.type == RELEASE]


def pinned(resources: list[Recorded]) -> set[tuple[str, str]]:
    """(chart, version) of every Helm release in a plan."""
    return {(chart_name(r.inputs["chart"]), r.inputs["version"]) for r in releases(resources)}


def chart_dir(chart: str, version: str) -> Path:
    return VENDOR / "charts" / chart / version


@functools.cache
def published_versions(chart: str) -> frozenset[str]:
    index = yaml.safe_load((VENDOR / "charts" / chart / "index.yaml").read_text())
    return frozenset(str(entry["version"]) for entry in index["entries"][chart])


@functools.cache
def chart_metadata(chart: str, version: str) -> dict[str, Any]:
    return yaml.safe_load((chart_dir(chart, version) / "Chart.yaml").read_text())


@functools.cache
def chart_values(chart: str, version: str) -> dict[str, Any]:
    return yaml.safe_load((chart_dir(chart, version) / "values.yaml").read_text()) or {}


@functools.cache
def values_schema(chart: str, version: str) -> dict[str, Any] | None:
    path = chart_dir(chart, version) / "values.schema.json"
    return json.loads(path.read_text()) if path.exists() else None


@functools.cache
def _template_refs(directory: Path) -> frozenset[str]:
    """Every `.Values.<path>` the chart's templates mention (vendored as values-refs.txt, see vendor/README.md)."""
    return frozenset((directory / "values-refs.txt").read_text().split())


def _read_by_templates(path: str, refs: frozenset[str]) -> bool:
    """Whether a template reads `path` itself or a value containing it (e.g. `toYaml .Values.updateStrategy`)."""
    parts = path.split(".")
    return any(".".join(parts[:n]) in refs for n in range(1, len(parts) + 1))


def merged_values(chart: str, version: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values Helm renders with (and validates against values.schema.json): the chart's defaults coalesced with
    the release's values, maps merged key by key, a null removing the default."""
    return _coalesce(chart_values(chart, version), values)


def _coalesce(defaults: Any, values: Any) -> Any:
    if not isinstance(defaults, Mapping) or not isinstance(values, Mapping):
        return copy.deepcopy(values)
    out = copy.deepcopy(dict(defaults))
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _coalesce(out.get(key), value)
    return out


def _subcharts(chart: str, version: str) -> dict[str, tuple[Path | None, str | None]]:
    """Values key of each dependency -> (its vendored directory or None, the `<key>.<flag>` condition)."""
    out: dict[str, tuple[Path | None, str | None]] = {}
    for dep in chart_metadata(chart, version).get("dependencies") or []:
        key = dep.get("alias") or dep["name"]
        directory = chart_dir(chart, version) / "charts" / dep["name"]
        out[key] = (directory if directory.is_dir() else None, dep.get("condition"))
    return out


def unknown_value_paths(chart: str, version: str, values: Mapping[str, Any]) -> list[str]:
    """Paths set in `values` that the chart neither declares in its values.yaml nor reads in its templates.

    Under a default that is empty or null, and under `KUBERNETES_PASS_THROUGH` keys, anything is accepted. A
    subchart's keys are judged by the subchart's own values.yaml and templates, not by what the parent documents for
    it: only the subchart's templates read them (argo-cd documents `redis-ha.haproxy.tolerations`, which redis-ha
    never reads)."""
    found: list[str] = []
    subcharts = _subcharts(chart, version)
    defaults = chart_values(chart, version)
    for key, value in values.items():
        if key in subcharts:
            directory, condition = subcharts[key]
            flag = condition.split(".", 1)[1] if condition and condition.startswith(f"{key}.") else None
            rest = {k: v for k, v in value.items() if k != flag} if isinstance(value, Mapping) else value
            if directory is None:
                found += [f"{key}.{k} (subchart not vendored)" for k in rest] if isinstance(rest, Mapping) else [key]
            elif isinstance(rest, Mapping):
                sub = yaml.safe_load((directory / "values.yaml").read_text()) or {}
                refs = _template_refs(directory)
                found += [f"{key}.{p}" for p in _unknown(rest, sub, "") if not _read_by_templates(p, refs)]
        elif key == "global":
            continue  # Helm passes `global` to every chart and subchart
        else:
            refs = _template_refs(chart_dir(chart, version))
            found += [p for p in _unknown({key: value}, defaults, "") if not _read_by_templates(p, refs)]
    return found


def _unknown(values: Mapping[str, Any], defaults: Any, prefix: str) -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if not isinstance(defaults, Mapping) or key not in defaults:
            yield path
            continue
        default = defaults[key]
        if key in KUBERNETES_PASS_THROUGH or not default or not isinstance(default, Mapping):
            continue
        if isinstance(value, Mapping):
            yield from _unknown(value, default, f"{path}.")


# --- CRDs -------------------------------------------------------------------------------------------------------------


def crd_dirs(charts: set[tuple[str, str]]) -> list[Path]:
    """The vendored CRD folders of the given pinned charts, and those of the CRDs EKS installs itself."""
    dirs = [VENDOR / "crds" / folder / version for folder, version in CONTROL_PLANE_CRDS]
    for chart, version in sorted(charts):
        if chart not in CRD_SOURCES:
            continue
        folder, field = CRD_SOURCES[chart]
        dirs.append(VENDOR / "crds" / folder / str(chart_metadata(chart, version)[field]).removeprefix("v"))
    return dirs


def crd_schemas(dirs: list[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict JSON schema of every CRD version served in `dirs`."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.yaml")):
            for crd in yaml.safe_load_all(path.read_text()):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    if version.get("served", True):
                        schemas[(f"{group}/{version['name']}", kind)] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def strict(schema: Any) -> Any:
    """A CRD's structural schema as the API server applies it: unknown fields are errors (pruning would drop them
    silently; `kubectl --validate=strict` and server-side apply refuse them) unless the schema preserves them;
    `nullable` admits null and `x-kubernetes-int-or-string` admits both."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if node.get("x-kubernetes-int-or-string"):
            node.pop("type", None)
            node.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
        if node.get("nullable") and "type" in node:
            node["type"] = [node["type"], "null"]
        preserved = node.get("x-kubernetes-preserve-unknown-fields")
        if "properties" in node and "additionalProperties" not in node and not preserved:
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for child in (node.get(key) or {}).values():
                walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key) or []:
                walk(child)

    walk(schema)
    return schema


def custom_object(r: Recorded) -> dict[str, Any]:
    """The object a pulumi-kubernetes custom resource applies (its inputs, without Pulumi's internal keys)."""
    return {k: v for k, v in r.inputs.items() if not k.startswith("__")}


def is_custom_resource(r: Recorded, schemas: Mapping[tuple[str, str], Any]) -> bool:
    return r.type.startswith("kubernetes:") and (r.inputs.get("apiVersion"), r.inputs.get("kind")) in schemas


# --- IAM --------------------------------------------------------------------------------------------------------------


def lb_controller_iam_policy(app_version: str) -> dict[str, Any]:
    path = VENDOR / "iam" / "aws-load-balancer-controller" / app_version.removeprefix("v") / "iam_policy.json"
    return json.loads(path.read_text())


def permissions(document: Mapping[str, Any]) -> set[tuple[str, str, str, str]]:
    """A policy as a set of (effect, action, resource, condition) grants: statements may be split, merged, reordered
    or named differently and still grant exactly the same."""
    found: set[tuple[str, str, str, str]] = set()
    statements = document["Statement"]
    for st in [statements] if isinstance(statements, dict) else statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st.get("Resource", "*")
        condition = json.dumps(_sorted_lists(st.get("Condition") or {}), sort_keys=True)
        for action in actions:
            for resource in resources if isinstance(resources, list) else [resources]:
                found.add((st["Effect"], action, resource, condition))
    return found


def _sorted_lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted(_sorted_lists(v) for v in value)
    return value
