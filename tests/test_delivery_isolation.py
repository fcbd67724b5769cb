"""Delivery cannot be turned against the cluster (issue 14): what Git may make Argo CD do, what a canary analysis
concludes without data, what the golden path exposes to the internet, and what it builds on.

- Argo CD: every AppProject is the platform's (Pulumi's), none may be created or widened from Git, `default` allows
  nothing, each application namespace has its own project bounded to ordinary workloads in that namespace, commits
  must be signed when keys are configured, the root application prunes only by hand in production, and Argo CD's
  components are isolated by NetworkPolicies (the chart's, checked against the vendored chart).
- Argo Rollouts: the analysis measures the canary's pods only and calls missing data inconclusive, never a success.
- apps/hello: its Ingress routes only the service's paths; its base image is pinned by digest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest
import yaml

from components.delivery import component as delivery
from components.delivery.config import DeliveryConfig, GitOpsSource
from components.observability.component import scrape_configs
from core.loading import Problems, validate
from core.profiles import EnvironmentProfile
from core.schema import Model, ValidationContext
from offline.plan import Plan
from offline.stackfiles import ROOT
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config
from tests.upstream import VENDOR, chart_dir, chart_values, crd_schemas

APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APP_PROJECT_PATCH = "kubernetes:argoproj.io/v1alpha1:AppProjectPatch"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
ANALYSIS = "kubernetes:argoproj.io/v1alpha1:ClusterAnalysisTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
IN_CLUSTER = "https://kubernetes.default.svc"
HELLO = ROOT / "apps" / "hello"

ARGO_CD_OBJECTS = {"AppProject", "Application", "ApplicationSet"}
PLATFORM_OWNED_KINDS = {
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("", "Namespace"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("apps", "DaemonSet"),
}
"""What a team's project must never deploy: the namespace's guard rails and what runs on every node."""


def projects(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every AppProject the plan creates or patches, by its Kubernetes name."""
    found = [*plan.by_type(APP_PROJECT), *plan.by_type(APP_PROJECT_PATCH)]
    by_name = {r.inputs["metadata"]["name"]: r.inputs for r in found}
    assert len(by_name) == len(found), "one Pulumi resource per project"
    return by_name


def matches(entry: Mapping[str, str], group: str, kind: str) -> bool:
    """Whether a whitelist entry admits group/kind (Argo CD matches both fields as globs; `*` is what matters)."""
    return entry["group"] in ("*", group) and entry["kind"] in ("*", kind)


def admits(spec: Mapping[str, Any], group: str, kind: str) -> bool:
    """Whether a project lets an Application deploy the namespaced group/kind (Argo CD 3.3
    `IsGroupKindNamePermitted`: no whitelist at all admits every kind, an empty one none; the blacklist wins)."""
    whitelist = spec.get("namespaceResourceWhitelist")
    blacklist = spec.get("namespaceResourceBlacklist") or []
    listed = whitelist is None or any(matches(e, group, kind) for e in whitelist)
    return listed and not any(matches(e, group, kind) for e in blacklist)


def config(stack: str) -> DeliveryConfig:
    return stack_config(stack).delivery


def sample(**changes: Any) -> DeliveryConfig:
    base: dict[str, Any] = {
        "argoCdChartVersion": "9.5.4",
        "rollouts_chart_version": "2.41.0",
        "gitops": GitOpsSource(repo_url="https://github.com/acme/gitops.git", path="clusters/x"),
    }
    return DeliveryConfig.model_validate({**base, **changes})


# ---------------------------------------------------------------------------------------------------------------------
# Argo CD: projects


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_no_project_lets_git_create_or_widen_a_project(plans: dict[str, Plan], stack: str) -> None:
    """The escalation path of the finding: a commit creating an AppProject with clusterResourceWhitelist */*. No
    project the platform manages admits AppProject, and none admits any cluster-scoped kind."""
    found = projects(plans[stack])
    assert {"default", "platform"} <= set(found)
    for name, project in found.items():
        spec = project["spec"]
        assert not admits(spec, "argoproj.io", "AppProject"), f"{name} admits AppProject"
        assert not admits(spec, "argoproj.io", "ApplicationSet"), f"{name} admits ApplicationSet"
        assert spec.get("clusterResourceWhitelist") == [], f"{name} admits cluster-scoped kinds"
        assert not any(e["group"] == "*" or e["kind"] == "*" for e in spec.get("namespaceResourceWhitelist", []))
    # Only the root's project admits Applications, and only into argocd.
    creators = {name for name, p in found.items() if admits(p["spec"], "argoproj.io", "Application")}
    assert creators == {"platform"}
    assert found["platform"]["spec"]["destinations"] == [{"server": IN_CLUSTER, "namespace": "argocd"}]
    root = plans[stack].one(APPLICATION, "delivery-argocd-root").inputs
    assert root["spec"]["project"] == "platform"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_default_project_is_managed_and_allows_nothing(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    patch = plan.one(APP_PROJECT_PATCH, "delivery-argocd-project-default").inputs
    assert (patch["metadata"]["name"], patch["metadata"]["namespace"]) == ("default", "argocd")
    # Argo CD's server created it with every permission and owns those fields: the patch must take them over.
    assert patch["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
    spec = patch["spec"]
    assert spec["sourceRepos"] == []
    assert spec["destinations"] == []
    assert spec["sourceNamespaces"] == []
    assert spec["clusterResourceWhitelist"] == []
    for group, kind in [("", "Secret"), ("apps", "Deployment"), ("argoproj.io", "Application"), ("x.io", "Y")]:
        assert not admits(spec, group, kind), f"default admits {group}/{kind}"
    # After the chart: Argo CD creates the project at start; the patch never creates it.
    assert plan.one(RELEASE, "delivery-argocd").urn in plan.one(APP_PROJECT_PATCH).dependencies


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_each_application_namespace_has_a_bounded_team_project(plans: dict[str, Plan], stack: str) -> None:
    cfg, found = stack_config(stack), projects(plans[stack])
    namespaces = set(cfg.workloads.namespaces)
    assert namespaces
    assert set(found) == {"default", "platform"} | namespaces
    root = plans[stack].one(APPLICATION, "delivery-argocd-root")
    for namespace in namespaces:
        spec = found[namespace]["spec"]
        assert spec["destinations"] == [{"server": IN_CLUSTER, "namespace": namespace}]
        assert spec["sourceRepos"][0] == cfg.delivery.gitops.repo_url
        assert set(spec["sourceRepos"]) == {
            cfg.delivery.gitops.repo_url,
            *cfg.delivery.team_source_repos.get(namespace, ()),
        }
        assert "sourceNamespaces" not in spec
        kinds = {(e["group"], e["kind"]) for e in spec["namespaceResourceWhitelist"]}
        assert kinds == set(delivery.TEAM_KINDS)
        assert not {k for g, k in kinds if g == "argoproj.io"} & ARGO_CD_OBJECTS
        assert not kinds & PLATFORM_OWNED_KINDS
        # The project exists before the root creates the Applications that name it.
        assert plans[stack].one(APP_PROJECT, f"delivery-argocd-project-{namespace}").urn in root.dependencies


def golden_path_kinds() -> set[tuple[str, str]]:
    kustomization = yaml.safe_load((HELLO / "deploy" / "kustomization.yaml").read_text())
    kinds: set[tuple[str, str]] = set()
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((HELLO / "deploy" / name).read_text()):
            if doc:
                group = doc["apiVersion"].rsplit("/", 1)[0] if "/" in doc["apiVersion"] else ""
                kinds.add((group, doc["kind"]))
    return kinds


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_golden_path_fits_its_team_project(plans: dict[str, Plan], stack: str) -> None:
    """apps/hello deploys into `shop` from the platform repository: its project must admit exactly that."""
    kustomization = yaml.safe_load((HELLO / "deploy" / "kustomization.yaml").read_text())
    spec = projects(plans[stack])[kustomization["namespace"]]["spec"]
    for group, kind in golden_path_kinds():
        assert admits(spec, group, kind), f"{kind} of apps/hello is not admitted by its team project"
    platform_repository = f"https://github.com/{stack_config(stack).github_repository}.git"
    assert platform_repository in spec["sourceRepos"]


def test_team_source_repos_name_only_application_namespaces_and_no_namespace_takes_a_project_name() -> None:
    cfg = sample(teamSourceRepos={"shop": ["https://github.com/acme/shop.git"]})
    assert delivery.checked_team_namespaces(cfg, ["shop", "pay"]) == ["shop", "pay"]
    with pytest.raises(ValueError, match=r"delivery.teamSourceRepos: shop is not an application namespace"):
        delivery.checked_team_namespaces(cfg, ["pay"])
    with pytest.raises(ValueError, match=r"workloads.namespaces: platform is the name of an Argo CD project"):
        delivery.checked_team_namespaces(sample(), ["platform"])
    assert delivery.team_project(cfg, "shop")["spec"]["sourceRepos"] == [
        "https://github.com/acme/gitops.git",
        "https://github.com/acme/shop.git",
    ]
    assert delivery.team_project(cfg, "pay")["spec"]["sourceRepos"] == ["https://github.com/acme/gitops.git"]


def argo_cd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return crd_schemas([VENDOR / "crds" / "argo-cd" / "3.3.8"])


def test_signature_keys_bind_every_project_the_platform_uses() -> None:
    keys = ["4AEE18F83AFDEB23", "07e34825a909b250"]
    cfg = sample(signatureKeys=keys)
    assert cfg.signature_keys == ("4AEE18F83AFDEB23", "07E34825A909B250")  # Argo CD compares key ids as gpg prints them
    schema = argo_cd_schemas()[("argoproj.io/v1alpha1", "AppProject")]
    for project in (delivery.platform_project(cfg), delivery.team_project(cfg, "shop")):
        assert project["spec"]["signatureKeys"] == [{"keyID": "4AEE18F83AFDEB23"}, {"keyID": "07E34825A909B250"}]
        assert list(jsonschema.Draft7Validator(schema).iter_errors(project)) == []
    # Not configured: no signature required (an empty list would be the same, but stays out of the object).
    assert "signatureKeys" not in delivery.platform_project(sample())["spec"]
    assert list(jsonschema.Draft7Validator(schema).iter_errors(delivery.default_project())) == []


class _Stack(Model):
    delivery: DeliveryConfig


PRODUCTION = EnvironmentProfile(
    account_id="210987654321", account_email="aws+prod@example.com", ou="workloads/prod", production=True,
    highly_available=True,
)  # fmt: skip


def problems_of(changes: dict[str, Any], profile: EnvironmentProfile | None = None) -> str:
    data = {
        "argoCdChartVersion": "9.5.4",
        "rolloutsChartVersion": "2.41.0",
        "highAvailability": True,
        "gitops": {"repoUrl": "https://github.com/acme/gitops.git", "path": "clusters/prod"},
        **changes,
    }
    problems = Problems()
    validate(_Stack, {"delivery": data}, context=ValidationContext(environment="prod", profile=profile),
             project="aws-platform", problems=problems)  # fmt: skip
    return "\n".join(str(p) for p in problems.items)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"signatureKeys": ["4AEE18F8"]}, 'delivery.signatureKeys[0]: got "4AEE18F8"; allowed: a GnuPG key id'),
        ({"signatureKeys": ["4AEE18F83AFDEB23", "4aee18f83afdeb23"]}, "signatureKeys[1]"),
        ({"signatureKeys": "4AEE18F83AFDEB23"}, "delivery.signatureKeys"),
        ({"teamSourceRepos": {"shop": ["acme/shop"]}}, 'delivery.teamSourceRepos.shop[0]: got "acme/shop"'),
        ({"teamSourceRepos": {"Shop": ["https://github.com/acme/shop.git"]}}, "an application namespace"),
        ({"teamSourceRepos": {"shop": []}}, "at least one repository"),
    ],
)
def test_new_delivery_keys_are_validated(changes: dict[str, Any], fragment: str) -> None:
    assert fragment in problems_of(changes)


# ---------------------------------------------------------------------------------------------------------------------
# Argo CD: the root application prunes only by hand in production


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_production_root_application_never_prunes_on_its_own(plans: dict[str, Plan], stack: str) -> None:
    automated = plans[stack].one(APPLICATION, "delivery-argocd-root").inputs["spec"]["syncPolicy"]["automated"]
    assert automated["selfHeal"] is True
    if stack_config(stack).profile.production:
        assert automated["prune"] is False
    else:
        assert automated["prune"] is config(stack).root_auto_prune


def test_production_refuses_an_automatically_pruning_root() -> None:
    message = problems_of({"rootAutoPrune": True}, PRODUCTION)
    assert "delivery.rootAutoPrune: got true; allowed: false (prod prunes" in message
    # The default (true) is refused too (the loader names a defaulted key by its field name, as for highAvailability).
    assert "allowed: false (prod prunes" in problems_of({}, PRODUCTION)
    assert problems_of({"rootAutoPrune": False}, PRODUCTION) == ""
    assert problems_of({}) == ""  # outside production the root may prune


# ---------------------------------------------------------------------------------------------------------------------
# Argo CD: NetworkPolicies


def refs(directory: Any) -> set[str]:
    return set((directory / "values-refs.txt").read_text().split())


def values_path(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for key in path.split("."):
        node = node[key]
    return node


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_argo_cd_components_get_the_charts_network_policies(plans: dict[str, Plan], stack: str) -> None:
    release = plans[stack].one(RELEASE, "delivery-argocd").inputs
    values, version = release["values"], release["version"]
    assert values["global"]["networkPolicy"]["create"] is True
    # The values contract skips `global` (Helm passes it to every subchart): check the key here, against the vendored
    # chart: it is declared and its templates read it.
    assert "create" in chart_values("argo-cd", version)["global"]["networkPolicy"]
    assert "global.networkPolicy.create" in refs(chart_dir("argo-cd", version))
    assert "global.networkPolicy.defaultDenyIngress" in refs(chart_dir("argo-cd", version))
    if not config(stack).high_availability:
        return
    # The chart's Redis policy is skipped with Redis HA: the subchart's own policies take over.
    ha = values["redis-ha"]
    sub = chart_dir("argo-cd", version) / "charts" / "redis-ha"
    assert ha["networkPolicy"]["enabled"] is True
    assert ha["haproxy"]["networkPolicy"]["enabled"] is True
    assert {"networkPolicy.enabled", "haproxy.networkPolicy.enabled", "haproxy.networkPolicy.ingressRules"} <= refs(sub)
    (rule,) = ha["haproxy"]["networkPolicy"]["ingressRules"]
    clients = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in rule["selectors"]}
    assert clients == {"argocd-server", "argocd-repo-server", "argocd-application-controller"}
    for peer in rule["selectors"]:
        assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == release["name"]
        assert set(peer) == {"podSelector"}  # pods of argocd only


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_delivery_namespaces_deny_ingress_by_default(plans: dict[str, Plan], stack: str) -> None:
    policies = [r.inputs for r in plans[stack].by_type(NETWORK_POLICY)]
    for namespace in ("argocd", "argo-rollouts"):
        deny = [
            p for p in policies
            if p["metadata"]["namespace"] == namespace and p["spec"]["podSelector"] == {}
            and "Ingress" in p["spec"]["policyTypes"] and not p["spec"].get("ingress")
        ]  # fmt: skip
        assert deny, f"{namespace}: no default-deny ingress policy"
    metrics = [p for p in policies if p["metadata"]["namespace"] == "argo-rollouts" and p["spec"]["podSelector"]]
    (allow,) = metrics
    (rule,) = allow["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": delivery.ROLLOUTS_METRICS_PORT}]
    assert all("namespaceSelector" in peer for peer in rule["from"])  # the scraper, not the whole cluster


# ---------------------------------------------------------------------------------------------------------------------
# Argo Rollouts: the analysis fails closed


def template(plan: Plan) -> dict[str, Any]:
    return plan.one(ANALYSIS, "delivery-analysis-error-rate").inputs


def evaluate(condition: str, result: list[float]) -> bool:
    """A condition the way Argo Rollouts' expr evaluates it, for `&&`-joined clauses of the forms used (short-circuit:
    `result[0]` is read only once `len(result) == 1` held); an unknown clause fails the test."""
    for clause in (c.strip() for c in condition.split("&&")):
        if clause == "len(result) == 1":
            holds = len(result) == 1
        elif clause == "!isNaN(result[0])":
            holds = not math.isnan(result[0])
        elif match := re.fullmatch(r"result\[0\] (<=|>) ([0-9.e-]+)", clause):
            holds = result[0] <= float(match[2]) if match[1] == "<=" else result[0] > float(match[2])
        else:
            raise AssertionError(f"unexpected clause {clause!r}")
        if not holds:
            return False
    return True


def measurement(metric: Mapping[str, Any], result: list[float]) -> str:
    """Argo Rollouts 1.9 `EvaluateResult`: Failed if the failure condition holds; without a failure condition, Failed
    if the success condition does not; Inconclusive when both are set and neither holds."""
    success = evaluate(metric["successCondition"], result)
    if "failureCondition" not in metric:
        return "Successful" if success else "Failed"
    failure = evaluate(metric["failureCondition"], result)
    return "Failed" if failure else "Successful" if success else "Inconclusive"


def run_phase(metric: Mapping[str, Any], results: list[list[float]]) -> str:
    """The metric's phase after these measurements (`assessMetricStatus`: failed > failureLimit fails it,
    inconclusive > inconclusiveLimit makes it inconclusive; otherwise it keeps running, or succeeds at `count`)."""
    failed = inconclusive = 0
    for index, result in enumerate(results, start=1):
        phase = measurement(metric, result)
        failed += phase == "Failed"
        inconclusive += phase == "Inconclusive"
        if failed > int(metric.get("failureLimit", 0)):
            return "Failed"
        if inconclusive > int(metric.get("inconclusiveLimit", 0)):
            return "Inconclusive"
        if index >= int(metric["count"]):
            return "Successful"
    return "Running"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_missing_data_never_promotes_a_canary(plans: dict[str, Plan], stack: str) -> None:
    (metric,) = template(plans[stack])["spec"]["metrics"]
    limit = config(stack).canary_max_error_rate
    count = int(metric["count"])
    # A scraper outage or a label that matches nothing: every measurement is empty. The run never succeeds; it turns
    # Inconclusive (the rollout pauses) long before its count.
    assert run_phase(metric, [[]] * count) == "Inconclusive"
    assert run_phase(metric, [[float("nan")]] * count) == "Inconclusive"
    # One gap in the data (a missed scrape) is tolerated, a bad canary still fails, a good one succeeds.
    healthy = [[limit / 2]] * count
    assert run_phase(metric, [[], *healthy[1:]]) == "Successful"
    assert run_phase(metric, [[limit * 10]] * count) == "Failed"
    assert run_phase(metric, healthy) == "Successful"
    query = metric["provider"]["prometheus"]["query"]
    assert "vector(" not in query, "a constant turns missing data into a passing 0"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_analysis_measures_the_canary_pods_only(plans: dict[str, Plan], stack: str) -> None:
    tpl = template(plans[stack])
    (metric,) = tpl["spec"]["metrics"]
    arguments = {
        "service-name": "hello",
        "namespace": "shop",
        "canary-hash": "6d8f7c9b5d",
        "excluded-paths": "/healthz",
    }
    query = metric["provider"]["prometheus"]["query"]
    for name, value in arguments.items():
        query = query.replace(f"{{{{args.{name}}}}}", value)
    assert "{{" not in query, "an argument the template does not declare"
    selectors = re.findall(r"http_requests_total\{([^}]*)\}", query)
    assert len(selectors) == 3
    canary = 'pod=~".+-6d8f7c9b5d-[a-z0-9]+"'
    assert all(canary in s.split(",") for s in selectors), "a selector that also reads the stable pods"
    # A canary pod `hello-6d8f7c9b5d-x7k2p` matches, a stable one `hello-7f9c8d6b4a-q2w3e` does not.
    pod = re.compile(".+-6d8f7c9b5d-[a-z0-9]+")
    assert pod.fullmatch("hello-6d8f7c9b5d-x7k2p")
    assert not pod.fullmatch("hello-7f9c8d6b4a-q2w3e")
    # The numerator without 5xx series is 0 times the canary's own total: it exists only when the canary has data.
    total = selectors[-1]
    assert selectors[1] == total
    assert re.search(r"or\s+0 \* sum\(rate\(http_requests_total\{" + re.escape(total) + r"\}\[2m\]\)\)", query)
    args = {a["name"]: a for a in tpl["spec"]["args"]}
    assert "value" not in args[delivery.ARG_CANARY_HASH], "required: a default would measure the wrong pods"


def test_the_scraper_writes_the_labels_the_canary_query_selects() -> None:
    """The query selects the canary by `pod` and the service by `app`: the scrape job of annotated pods must write both
    (without them every canary would be inconclusive: never promoted, but every rollout stopped)."""
    (job,) = [j for j in scrape_configs() if j["job_name"] == "kubernetes-pods"]
    written = {r["target_label"]: r["source_labels"] for r in job["relabel_configs"] if "target_label" in r}
    assert written["pod"] == ["__meta_kubernetes_pod_name"]
    assert written[delivery.SERVICE_LABEL] == ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    assert written["namespace"] == ["__meta_kubernetes_namespace"]


def golden_path_rollout() -> dict[str, Any]:
    (rollout,) = [
        d for d in yaml.safe_load_all((HELLO / "deploy" / "rollout.yaml").read_text()) if d and d["kind"] == "Rollout"
    ]
    return rollout


def test_golden_path_passes_the_canary_hash_and_waits_for_a_verdict(plans: dict[str, Plan]) -> None:
    canary = golden_path_rollout()["spec"]["strategy"]["canary"]
    args = {a["name"]: a for a in canary["analysis"]["args"]}
    assert args[delivery.ARG_CANARY_HASH] == {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}
    # A background analysis cut short by the end of the rollout counts as a success: the canary must stay long enough
    # for a run without data to turn inconclusive first (initial delay, then inconclusiveLimit + 1 measurements).
    (metric,) = template(plans["prod"])["spec"]["metrics"]
    minutes = {"s": 1 / 60, "m": 1, "h": 60}

    def duration(text: str) -> float:
        return float(text[:-1]) * minutes[text[-1]]

    pauses = sum(
        duration(step["pause"]["duration"])
        for step in canary["steps"][canary["analysis"]["startingStep"] :]
        if "pause" in step
    )
    verdict = duration(metric["initialDelay"]) + (int(metric["inconclusiveLimit"]) + 1) * duration(metric["interval"])
    assert verdict < pauses


# ---------------------------------------------------------------------------------------------------------------------
# apps/hello: what the internet reaches, what the image builds on


def routed(path: str, rules: list[dict[str, Any]]) -> bool:
    """Whether an Ingress path rule sends a request for `path` to the backend (Kubernetes Ingress path semantics:
    Exact is the whole path, Prefix matches element by element)."""
    for rule in rules:
        if rule["pathType"] == "Exact" and path == rule["path"]:
            return True
        if rule["pathType"] == "Prefix":
            prefix = rule["path"].rstrip("/")
            if path == rule["path"] or path == prefix or path.startswith(prefix + "/"):
                return True
        if rule["pathType"] == "ImplementationSpecific":
            return True  # the ALB treats it as a wildcard pattern: assume the worst
    return False


def ingress_paths() -> Iterator[dict[str, Any]]:
    ingress = yaml.safe_load((HELLO / "deploy" / "ingress.yaml").read_text())
    for rule in ingress["spec"]["rules"]:
        yield from rule["http"]["paths"]


def test_hello_ingress_routes_only_the_app_paths() -> None:
    paths = list(ingress_paths())
    assert routed("/", paths)
    for internal in ("/metrics", "/healthz", "/readyz", "/metrics/", "/admin/.env"):
        assert not routed(internal, paths), f"{internal} is reachable from the internet"
    assert "defaultBackend" not in yaml.safe_load((HELLO / "deploy" / "ingress.yaml").read_text())["spec"]


def test_hello_base_image_is_pinned_by_digest() -> None:
    text = re.sub(r"\\\n", " ", (HELLO / "Dockerfile").read_text())
    bases = [
        next(t for t in line.split()[1:] if not t.startswith("--"))
        for line in text.splitlines()
        if line.strip().upper().startswith("FROM ")
    ]
    assert bases
    for base in bases:
        image, _, digest = base.partition("@")
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{base}: not pinned by digest"
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+[\w.-]*", image), f"{base}: keep the version tag next to the digest"
