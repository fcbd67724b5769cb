"""What the program hands to Helm, the Kubernetes API and IAM, checked against the vendored upstream artefacts of
exactly the pinned versions (`vendor/`): a pin that was never published, a value no template reads, a custom resource
field the CRD does not know, or a controller policy that drifted from upstream fails here, not at `pulumi up`."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from components.edge import spec
from offline.plan import Plan
from offline.stackfiles import ROOT
from tests.conftest import WORKLOAD_STACKS
from tests.upstream import (
    VENDOR,
    chart_dir,
    chart_metadata,
    chart_name,
    crd_dirs,
    crd_schemas,
    custom_object,
    is_custom_resource,
    lb_controller_iam_policy,
    merged_values,
    permissions,
    pinned,
    published_versions,
    releases,
    strict,
    unknown_value_paths,
    values_schema,
)

CORE_GROUPS = {"core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "storage.k8s.io",
               "rbac.authorization.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io", "helm.sh",
               "apiextensions.k8s.io", "yaml", "kustomize.config.k8s.io"}  # fmt: skip
"""Kubernetes API groups the API server itself defines (kubernetes-validate checks those), the provider's own Helm and
YAML resource types, and kustomize's build file (never applied to a cluster); every other group is a custom resource
and needs a vendored CRD."""

APP_MANIFESTS = sorted((ROOT / "apps").glob("*/deploy/*.yaml"))


def _group(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else "core"


# --- charts -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_pinned_chart_is_published_and_vendored(plans: dict[str, Plan], stack: str) -> None:
    charts = pinned(plans[stack].resources)
    assert len(charts) >= 8
    for chart, version in sorted(charts):
        assert version in published_versions(chart), (
            f"{chart} {version} is not in its repository's index (vendor/charts/{chart}/index.yaml); published "
            f"versions include {sorted(published_versions(chart))[-5:]}"
        )
        assert chart_dir(chart, version).is_dir(), (
            f"no vendored artefacts for {chart} {version}: copy its Chart.yaml, values.yaml (and values.schema.json) "
            "into vendor/charts/<chart>/<version>/ as vendor/README.md describes"
        )
        assert chart_metadata(chart, version)["version"] == version


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_helm_value_is_one_the_chart_reads(plans: dict[str, Plan], stack: str) -> None:
    checked = 0
    for release in releases(plans[stack].resources):
        chart, version = chart_name(release.inputs["chart"]), release.inputs["version"]
        values = release.inputs.get("values") or {}
        assert unknown_value_paths(chart, version, values) == [], f"{release.name}: {chart} {version}"
        schema = values_schema(chart, version)
        if schema is not None:
            errors = sorted(
                f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in jsonschema.Draft7Validator(schema).iter_errors(merged_values(chart, version, values))
            )
            assert errors == [], f"{release.name}: {chart} {version} values.schema.json"
        checked += 1
    assert checked >= 8


def test_the_values_check_catches_a_value_no_template_reads() -> None:
    # argo-cd documents redis-ha.haproxy.tolerations, but redis-ha's templates only read redis-ha.tolerations.
    assert unknown_value_paths("argo-cd", "9.5.4", {"redis-ha": {"haproxy": {"tolerations": []}}}) == [
        "redis-ha.haproxy.tolerations"
    ]
    assert unknown_value_paths("argo-cd", "9.5.4", {"redis-ha": {"tolerations": [], "enabled": True}}) == []
    assert unknown_value_paths("kube-state-metrics", "7.0.1", {"replicas": 2, "replica": 2}) == ["replica"]
    # Free-form where the chart says so: empty defaults, Kubernetes objects rendered whole, keys templates read whole.
    assert unknown_value_paths("argo-cd", "9.5.4", {"configs": {"params": {"server.insecure": False}}}) == []
    assert unknown_value_paths("aws-for-fluent-bit", "0.2.0", {"updateStrategy": {"rollingUpdate": {}}}) == []


def test_the_schema_check_catches_a_wrong_type() -> None:
    schema = values_schema("opentelemetry-collector", "0.158.2")
    assert schema is not None
    bad = merged_values("opentelemetry-collector", "0.158.2", {"mode": "sidecar-ish"})
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))


# --- custom resources -------------------------------------------------------------------------------------------------


def _schemas_for(plan: Plan) -> dict[tuple[str, str], dict[str, Any]]:
    return crd_schemas(crd_dirs(pinned(plan.resources)))


def _errors(obj: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(obj)
    )


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_custom_resource_validates_against_its_pinned_crd(plans: dict[str, Plan], stack: str) -> None:
    schemas = _schemas_for(plans[stack])
    customs = [
        r for r in plans[stack].resources
        if r.type.startswith("kubernetes:") and r.custom and _group(r.type.split(":")[1]) not in CORE_GROUPS
    ]  # fmt: skip
    assert len(customs) >= 5
    for r in customs:
        assert is_custom_resource(r, schemas), f"{r.urn}: no vendored CRD serves {r.type}"
        obj = custom_object(r)
        assert _errors(obj, schemas[(obj["apiVersion"], obj["kind"])]) == [], r.urn


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_every_app_manifest_validates_against_the_pinned_crds(plans: dict[str, Plan], stack: str) -> None:
    schemas = _schemas_for(plans[stack])
    checked = 0
    for path in APP_MANIFESTS:
        for obj in yaml.safe_load_all(path.read_text()):
            if not obj or "apiVersion" not in obj or _group(obj["apiVersion"]) in CORE_GROUPS:
                continue
            key = (obj["apiVersion"], obj["kind"])
            assert key in schemas, f"{path.relative_to(ROOT)}: no vendored CRD serves {key}"
            assert _errors(obj, schemas[key]) == [], f"{path.relative_to(ROOT)}: {obj['kind']}"
            checked += 1
    assert checked >= 1


def test_strict_crd_schemas_refuse_unknown_fields_but_keep_preserved_ones() -> None:
    schemas = crd_schemas([VENDOR / "crds" / "argo-rollouts" / "1.9.0"])
    rollout = schemas[("argoproj.io/v1alpha1", "Rollout")]
    base = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "x"}}
    assert _errors({**base, "spec": {"replicas": 2}}, rollout) == []
    assert _errors({**base, "spec": {"replicas": 2, "replcas": 3}}, rollout) != []
    loose = {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {"type": "string"}}}
    assert _errors({"a": "x", "b": 1}, strict(loose)) == []


# --- the load balancer controller's IAM policy ------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_lb_controller_policy_equals_upstream_for_the_pinned_app_version(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    (release,) = [
        r for r in releases(plan.resources) if chart_name(r.inputs["chart"]) == "aws-load-balancer-controller"
    ]
    app_version = chart_metadata("aws-load-balancer-controller", release.inputs["version"])["appVersion"]
    upstream = lb_controller_iam_policy(app_version)
    (role,) = [r for r in plan.by_type("aws:iam/role:Role") if r.inputs.get("name", "").endswith("lb-controller")]
    (policy,) = [r for r in plan.by_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == role.outputs["id"]]
    ours = permissions(json.loads(policy.inputs["policy"]))
    removed, added = _deviations()
    assert removed <= permissions(upstream), "a listed deviation removes a grant upstream no longer has: drop it"
    assert not added & permissions(upstream), "a listed deviation adds a grant upstream already has: drop it"
    assert ours == (permissions(upstream) - removed) | added


def _deviations() -> tuple[set[tuple[str, str, str, str]], set[tuple[str, str, str, str]]]:
    """The deliberate deviations from upstream's policy (`spec.LB_CONTROLLER_POLICY_DEVIATIONS`), as grants."""

    def grants(entries: Any) -> set[tuple[str, str, str, str]]:
        return permissions(
            {"Statement": [{"Effect": e, "Action": a, "Resource": r, "Condition": c} for e, a, r, c in entries]}
        )

    removed: set[tuple[str, str, str, str]] = set()
    added: set[tuple[str, str, str, str]] = set()
    for deviation in spec.LB_CONTROLLER_POLICY_DEVIATIONS:
        assert deviation.reason.strip(), "every deviation says why"
        removed |= grants(deviation.removed)
        added |= grants(deviation.added)
    return removed, added


def test_the_policy_deviations_are_only_the_listed_ones() -> None:
    # Upstream's unconditioned security-group rule grant is the one deliberate deviation: the controller keeps the
    # tag-conditioned grant on the groups it created, and nothing else.
    removed, added = _deviations()
    assert {(action, resource, condition) for _, action, resource, condition in removed} == {
        ("ec2:AuthorizeSecurityGroupIngress", "*", "{}"),
        ("ec2:RevokeSecurityGroupIngress", "*", "{}"),
    }
    assert added == set()
    ours = permissions(json.loads(spec.lb_controller_policy("aws")))
    rule_changes = {g for g in ours if g[1] in ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress")}
    assert rule_changes
    assert all('"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"' in g[3] for g in rule_changes)


def test_the_policy_comparison_sees_a_missing_grant_but_not_a_regrouping() -> None:
    upstream = lb_controller_iam_policy("v2.17.1")
    statements = [dict(st) for st in upstream["Statement"]]
    regrouped = [{**st, "Action": [a]} for st in statements for a in _actions(st)]
    assert permissions({"Statement": regrouped}) == permissions(upstream)
    assert permissions({"Statement": regrouped[1:]}) != permissions(upstream)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


# --- the vendored folder itself ---------------------------------------------------------------------------------------


def test_every_vendored_file_is_listed_with_its_source() -> None:
    readme = (VENDOR / "README.md").read_text()
    files = [p for p in VENDOR.rglob("*") if p.is_file() and p.name not in ("README.md", "LICENSE")]
    missing = [str(p.relative_to(VENDOR)) for p in files if f"`{p.relative_to(VENDOR)}`" not in readme]
    assert missing == []
