"""Every Kubernetes object the platform applies itself, rendered from the plan and checked against the Kubernetes 1.34
OpenAPI schemas (`kubernetes-validate --strict`: unknown fields are errors). Custom resources are checked by their own
components' tests (Karpenter against the shipped CRD schemas; Argo CD, Argo Rollouts and IngressClassParams
structurally); Helm charts render inside the cluster and are checked through their pinned versions and values."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from offline.plan import Plan
from tests.conftest import WORKLOAD_STACKS

KUBERNETES_VERSION = "1.34"
CORE_GROUPS = ("core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "storage.k8s.io",
               "rbac.authorization.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io")  # fmt: skip
EXPECTED_KINDS = {
    "Namespace",
    "LimitRange",
    "ResourceQuota",
    "StorageClass",
    "IngressClass",
    "Ingress",
}


def _group(resource_type: str) -> str:
    # kubernetes:<group>/<version>:<Kind>, e.g. kubernetes:networking.k8s.io/v1:Ingress or kubernetes:core/v1:Namespace
    return resource_type.split(":")[1].rsplit("/", 1)[0]


def rendered(plan: Plan) -> list[dict[str, Any]]:
    objects = []
    for r in plan.resources:
        if r.type.startswith("kubernetes:") and r.custom and _group(r.type) in CORE_GROUPS:
            objects.append({k: v for k, v in r.inputs.items() if not k.startswith("__")})
    return objects


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_core_objects_validate_strictly_against_kubernetes_1_34(plans: dict[str, Plan], stack: str) -> None:
    objects = rendered(plans[stack])
    assert {o["kind"] for o in objects} >= EXPECTED_KINDS
    for obj in objects:
        name = f"{obj['kind']} {obj['metadata'].get('namespace', '')}/{obj['metadata'].get('name', '(auto-named)')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{stack}: {name}: {err.message} at {list(err.path)}")


def test_strict_validation_rejects_a_misspelled_field() -> None:
    bad = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "alb"},
        "spec": {"controler": "ingress.k8s.aws/alb"},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
