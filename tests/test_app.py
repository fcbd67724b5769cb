"""The golden-path sample app (apps/hello): its server, its image, its manifests and its pipeline.

The server runs in a thread on an ephemeral port. Core Kubernetes kinds are validated strictly against the OpenAPI
schemas of every Kubernetes version the workload stacks run (kubernetes-validate); the Rollout is a CRD, so its pod
template is validated as a core PodTemplate and its strategy structurally. Facts that two files must agree on (the
image's user and port, the probe paths, the platform's ingress class and domain, the database's service account, the
architectures built and scheduled) are checked against each other, not against copies in this file.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.delivery.component import ARG_CANARY_HASH, ARG_NAMESPACE, ARG_SERVICE_NAME, ERROR_RATE_TEMPLATE
from components.edge.component import INGRESS_CLASS
from offline.stackfiles import ROOT
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config

APP = ROOT / "apps" / "hello"
DEPLOY = APP / "deploy"
WORKFLOW = ROOT / ".github" / "workflows" / "app-hello.yml"
ROLLOUTS_API = "argoproj.io/v1alpha1"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
SHA_PIN = re.compile(r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*(v\d+\.\d+\.\d+)\s*$")


def kubernetes_versions() -> list[str]:
    """Every Kubernetes minor the workload stacks run: the manifests must be valid on each."""
    versions: set[str] = set()
    for stack in WORKLOAD_STACKS:
        cluster = stack_config(stack).cluster
        assert cluster is not None
        versions.add(cluster.kubernetes_version)
    return sorted(versions)


KUBERNETES_VERSIONS = kubernetes_versions()


# ---------------------------------------------------------------------------------------------------------------------
# The server


def load_hello() -> ModuleType:
    """A fresh copy of apps/hello/src/hello.py (so each test starts with empty counters)."""
    spec = importlib.util.spec_from_file_location("hello", APP / "src" / "hello.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server() -> Iterator[tuple[ModuleType, str]]:
    hello = load_hello()
    httpd = hello.serve(0, host="127.0.0.1")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield hello, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, also for error statuses."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def parse_metrics(text: str) -> dict[tuple[str, str], float]:
    """http_requests_total samples of a Prometheus text exposition, keyed by (path, code)."""
    samples: dict[tuple[str, str], float] = {}
    sample = re.compile(r'^http_requests_total\{path="([^"]*)",code="(\d{3})"\} (\d+(?:\.\d+)?)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = sample.match(line)
        assert match, f"not a valid http_requests_total sample: {line!r}"
        samples[(match.group(1), match.group(2))] = float(match.group(3))
    return samples


def test_root_reports_the_service_its_version_and_architecture(
    server: tuple[ModuleType, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, base = server
    monkeypatch.setenv("VERSION", "0123abc")
    status, content_type, body = get(base + "/")
    assert (status, content_type) == (200, "application/json")
    doc = json.loads(body)
    assert doc["service"] == "hello"
    assert doc["version"] == "0123abc"
    assert doc["arch"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_ok(server: tuple[ModuleType, str], path: str) -> None:
    _, base = server
    assert get(base + path)[0::2] == (200, "ok")


def test_unknown_paths_are_404(server: tuple[ModuleType, str]) -> None:
    _, base = server
    status, content_type, body = get(base + "/admin/.env")
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body) == {"error": "not found"}


def test_metrics_count_requests_by_path_and_code(server: tuple[ModuleType, str]) -> None:
    _, base = server
    for path in ["/", "/", "/?utm=x", "/healthz", "/readyz", "/nope", "/wp-login.php?x=1"]:
        get(base + path)
    status, content_type, body = get(base + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    assert "# TYPE http_requests_total counter" in body
    # Query strings do not split a path; unknown paths share one label value, so probes cannot explode cardinality.
    assert parse_metrics(body) == {
        ("/", "200"): 3,
        ("/healthz", "200"): 1,
        ("/readyz", "200"): 1,
        ("other", "404"): 2,
    }
    # The scrape itself is counted once its response is sent.
    assert parse_metrics(get(base + "/metrics")[2])[("/metrics", "200")] == 1


def test_concurrent_requests_are_all_counted(server: tuple[ModuleType, str]) -> None:
    _, base = server
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: get(base + "/")[0], range(200)))
    assert statuses == [200] * 200
    assert parse_metrics(get(base + "/metrics")[2])[("/", "200")] == 200


def test_probe_requests_are_not_logged(server: tuple[ModuleType, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, base = server
    get(base + "/healthz")
    get(base + "/readyz")
    get(base + "/")
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["message"].split('"')[1] for entry in logged] == ["GET / HTTP/1.1"]


# ---------------------------------------------------------------------------------------------------------------------
# The image


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of apps/hello/Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (APP / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines]


def test_base_image_is_pinned_to_a_version_or_digest() -> None:
    # FROM [--platform=...] <image> [AS <stage>]
    bases = [next(t for t in args.split() if not t.startswith("--")) for op, args in dockerfile() if op == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        if "@" in base:
            assert DIGEST.fullmatch(base.split("@", 1)[1]), f"{base}: malformed digest"
            continue
        name, _, tag = base.rpartition(":")
        assert name, f"{base}: no image name"
        assert "/" not in tag, f"{base}: no tag (an implicit :latest)"
        assert re.match(r"\d+\.\d+", tag), f"{base}: tag {tag!r} is not a version"


def test_image_runs_as_the_numeric_non_root_user_the_pod_expects() -> None:
    users = [args for op, args in dockerfile() if op == "USER"]
    assert users, "the image runs as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), "runAsNonRoot can only verify a numeric USER"
    assert gid.isdigit(), "a numeric group as well"
    assert int(uid) > 0
    assert int(gid) > 0
    pod = rollout()["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"]) == (int(uid), int(gid))


def test_image_port_and_entrypoint_match_the_container() -> None:
    instructions = dict(dockerfile())
    env = [pair for op, args in dockerfile() if op == "ENV" for pair in args.split()]
    (container,) = rollout()["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    assert instructions["EXPOSE"] == str(port["containerPort"])
    assert f"PORT={port['containerPort']}" in env
    assert {"name": "PORT", "value": str(port["containerPort"])} in container["env"]
    # Exec form: python is PID 1 and gets SIGTERM, which hello.py handles.
    assert json.loads(instructions["ENTRYPOINT"]) == ["python", "/app/hello.py"]


def test_build_context_sends_only_the_source() -> None:
    lines = [ln.strip() for ln in (APP / ".dockerignore").read_text().splitlines() if ln.strip()]
    assert lines[0] == "*", "exclude everything by default"
    included = [ln[1:] for ln in lines[1:]]
    assert all(ln.startswith("!") for ln in lines[1:])
    copied = [args.split()[0] for op, args in dockerfile() if op == "COPY"]
    assert copied
    assert set(copied) <= set(included)
    assert all((APP / path).is_file() for path in included)


# ---------------------------------------------------------------------------------------------------------------------
# The manifests


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())


def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in kustomization()["resources"]:
        docs.extend(doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc)
    return docs


def one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in manifests() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def rollout() -> dict[str, Any]:
    return one("Rollout")


def pod_labels() -> dict[str, str]:
    return rollout()["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def test_kustomization_lists_every_manifest_and_nothing_else() -> None:
    on_disk = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization()["resources"]) == sorted(on_disk)
    assert not (DEPLOY / "analysis-template.yaml").exists(), "the analysis template is the platform's"


def test_kustomization_pins_the_image_by_digest_in_the_platform_registry() -> None:
    doc = kustomization()
    assert doc["namespace"] == "shop"
    (image,) = doc["images"]
    assert image["name"] == "hello"
    assert re.fullmatch(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/hello", image["newName"])
    assert DIGEST.fullmatch(image["digest"]), "pin the image by digest"
    assert "newTag" not in image
    (container,) = rollout()["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image["name"], "the container's image is what kustomize rewrites"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_kinds_are_valid_for_the_clusters(version: str) -> None:
    core = [d for d in manifests() if d["apiVersion"] != ROLLOUTS_API]
    assert {d["kind"] for d in core} == {
        "ServiceAccount",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    for doc in core:
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rollout_pod_template_is_a_valid_pod_template(version: str) -> None:
    template = rollout()["spec"]["template"]
    wrapped = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "hello"}, "template": template}
    kubernetes_validate.validate(wrapped, version, strict=True)


def test_strict_validation_catches_a_misspelled_field() -> None:
    template = copy.deepcopy(rollout()["spec"]["template"])
    template["spec"]["containers"][0]["resource"] = template["spec"]["containers"][0].pop("resources")
    wrapped = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "hello"}, "template": template}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrapped, KUBERNETES_VERSIONS[0], strict=True)


def test_rollout_is_a_canary_with_steps_and_the_platforms_analysis() -> None:
    spec = rollout()["spec"]
    assert spec["selector"]["matchLabels"]
    assert selects(spec["selector"]["matchLabels"], pod_labels())
    assert "replicas" not in spec, "the HPA owns the replica count"
    canary = spec["strategy"]["canary"]
    weights = [step["setWeight"] for step in canary["steps"] if "setWeight" in step]
    assert weights == sorted(weights)
    assert 0 < weights[0] <= 25
    assert weights[-1] < 100
    assert any("pause" in step for step in canary["steps"])
    analysis = canary["analysis"]
    assert analysis["templates"] == [{"templateName": ERROR_RATE_TEMPLATE, "clusterScope": True}]
    # The template selects series by the pods' app.kubernetes.io/name, (a regex on) the namespace, and the canary
    # ReplicaSet's pod-template hash, which Argo Rollouts supplies.
    args = {a["name"]: a.get("value", a.get("valueFrom")) for a in analysis["args"]}
    assert args == {
        ARG_SERVICE_NAME: pod_labels()["app.kubernetes.io/name"],
        ARG_NAMESPACE: kustomization()["namespace"],
        ARG_CANARY_HASH: {"podTemplateHashValue": "Latest"},
    }
    # Measured from the first pause on, while the canary takes traffic.
    assert 0 < analysis["startingStep"] < len(canary["steps"])


def test_canary_traffic_goes_through_the_alb_ingress() -> None:
    canary = rollout()["spec"]["strategy"]["canary"]
    alb = canary["trafficRouting"]["alb"]
    ingress = one("Ingress", alb["ingress"])
    root = one("Service", alb["rootService"])
    assert {canary["stableService"], canary["canaryService"], alb["rootService"]} == {
        s["metadata"]["name"] for s in manifests() if s["kind"] == "Service"
    }
    assert len({canary["stableService"], canary["canaryService"], alb["rootService"]}) == 3
    assert alb["servicePort"] in {p["port"] for p in root["spec"]["ports"]}
    backends = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    # The ALB action Argo Rollouts writes is named after the root service; the backend must point at it.
    assert backends == [{"name": alb["rootService"], "port": {"name": "use-annotation"}}]
    assert not any(key.startswith("alb.ingress.kubernetes.io/actions.") for key in ingress["metadata"]["annotations"])


def test_services_select_the_pods_on_a_named_container_port() -> None:
    (container,) = rollout()["spec"]["template"]["spec"]["containers"]
    port_names = {p["name"] for p in container["ports"]}
    for service in (d for d in manifests() if d["kind"] == "Service"):
        assert selects(service["spec"]["selector"], pod_labels()), service["metadata"]["name"]
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names


def test_ingress_uses_the_platform_class_and_only_per_app_annotations() -> None:
    ingress = one("Ingress")
    assert ingress["spec"]["ingressClassName"] == INGRESS_CLASS
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    readiness = rollout()["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == readiness
    # What the IngressClassParams fix for every app must not be overridden per Ingress.
    platform_owned = {"scheme", "subnets", "security-groups", "certificate-arn", "ssl-policy", "wafv2-acl-arn",
                      "group.name", "load-balancer-attributes", "inbound-cidrs", "ip-address-type"}  # fmt: skip
    assert not {f"alb.ingress.kubernetes.io/{key}" for key in platform_owned} & set(annotations)


def test_ingress_host_is_under_the_platform_domain() -> None:
    edge = stack_config("prod").edge
    assert edge is not None
    hosts = [rule["host"] for rule in one("Ingress")["spec"]["rules"]]
    assert hosts
    assert all(host.endswith("." + edge.domain) for host in hosts)


def test_probes_hit_paths_the_server_answers() -> None:
    hello = load_hello()
    (container,) = rollout()["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in hello.PROBES
        assert container[probe]["httpGet"]["port"] in {p["name"] for p in container["ports"]}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What Pod Security `restricted` (the namespaces' enforced level) would reject in a pod spec."""
    problems = []
    pod_ctx = pod.get("securityContext", {})
    allowed_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                       "projected", "secret"}  # fmt: skip
    for volume in pod.get("volumes", []):
        if not set(volume) - {"name"} <= allowed_volumes:
            problems.append(f"volume {volume['name']}")
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.append(flag)
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        ctx = container.get("securityContext", {})
        name = container["name"]
        if ctx.get("privileged"):
            problems.append(f"{name}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in ctx.get("capabilities", {}).get("drop", []):
            problems.append(f"{name}: capabilities must drop ALL")
        if set(ctx.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities")
        if not ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            problems.append(f"{name}: runAsUser 0")
        seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            problems.append(f"{name}: hostPort")
    return problems


def test_pod_meets_pod_security_restricted_with_a_read_only_root() -> None:
    pod = rollout()["spec"]["template"]["spec"]
    assert restricted_violations(pod) == []
    assert all(c["securityContext"]["readOnlyRootFilesystem"] is True for c in pod["containers"])
    # The check itself can fail.
    weakened = copy.deepcopy(pod)
    weakened["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    weakened["securityContext"]["seccompProfile"] = {"type": "Unconfined"}
    assert len(restricted_violations(weakened)) == 2


def test_every_container_has_requests_and_limits() -> None:
    for container in rollout()["spec"]["template"]["spec"]["containers"]:
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) >= {"cpu", "memory"}, f"{container['name']}: {kind}"


def test_pods_spread_over_zones_and_run_on_both_built_architectures() -> None:
    pod = rollout()["spec"]["template"]["spec"]
    zone = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert len(zone) == 1
    assert zone[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone[0]["maxSkew"] == 1
    assert selects(zone[0]["labelSelector"]["matchLabels"], pod_labels())
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    (arch,) = [e for e in term["matchExpressions"] if e["key"] == "kubernetes.io/arch"]
    assert arch["operator"] == "In"
    # The scheduler may place a pod only where the pipeline built an image for.
    assert {f"linux/{a}" for a in arch["values"]} == built_platforms()
    assert {"key": "node-role/workload", "operator": "In", "values": ["true"]} in term["matchExpressions"]


def test_pods_use_the_identity_the_database_trusts() -> None:
    pod = rollout()["spec"]["template"]["spec"]
    account = one("ServiceAccount")
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    for stack in WORKLOAD_STACKS:
        database = stack_config(stack).database
        assert database is not None
        assert (database.app.namespace, database.app.service_account) == (
            kustomization()["namespace"],
            account["metadata"]["name"],
        ), stack


def test_hpa_scales_the_rollout_and_the_pdb_protects_its_pods() -> None:
    hpa = one("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": ROLLOUTS_API, "kind": "Rollout", "name": rollout()["metadata"]["name"]}
    assert hpa["spec"]["minReplicas"] >= 3, "one pod per AZ at least"
    pdb = one("PodDisruptionBudget")
    assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels())
    assert pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]


def test_kustomize_renders_the_rollout_with_the_pinned_image() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("HELLO_REQUIRE_KUSTOMIZE"):
            pytest.fail("kubectl (kustomize) is required here")
        pytest.skip("kubectl is not installed")
    out = subprocess.run([kubectl, "kustomize", str(DEPLOY)], check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert all(d["metadata"].get("namespace") == "shop" for d in docs)
    (rendered,) = [d for d in docs if d["kind"] == "Rollout"]
    image = kustomization()["images"][0]
    (container,) = rendered["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{image['newName']}@{image['digest']}"


# ---------------------------------------------------------------------------------------------------------------------
# The pipeline


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job: str) -> list[dict[str, Any]]:
    return workflow()["jobs"][job]["steps"]


def uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


def built_platforms() -> set[str]:
    """Every platform a build step of the pipeline produces (matrix values resolved)."""
    platforms: set[str] = set()
    for name, job in workflow()["jobs"].items():
        matrix = job.get("strategy", {}).get("matrix", {}).get("include", [])
        for step in job["steps"]:
            if uses(step) != "docker/build-push-action":
                continue
            value = str(step["with"]["platforms"])
            if "${{ matrix.platform }}" in value:
                assert matrix, f"{name}: matrix platform without a matrix"
                platforms.update(entry["platform"] for entry in matrix)
            else:
                platforms.update(p.strip() for p in value.split(","))
    return platforms


def test_every_action_is_pinned_by_sha_with_its_version() -> None:
    lines = [ln for ln in WORKFLOW.read_text().splitlines() if re.search(r"\buses:", ln)]
    assert lines
    for line in lines:
        assert SHA_PIN.search(line), f"not pinned by a full commit SHA with a # vX.Y.Z comment: {line.strip()}"


def test_shared_actions_use_the_same_pins_as_the_platform_workflows() -> None:
    def pins(path: Path) -> dict[str, str]:
        found = (SHA_PIN.search(ln) for ln in path.read_text().splitlines())
        return {m.group(1): m.group(2) for m in found if m}

    ours = pins(WORKFLOW)
    theirs = pins(ROOT / ".github/workflows/platform.yml") | pins(ROOT / ".github/workflows/pulumi.yml")
    shared = set(ours) & set(theirs)
    assert {"actions/checkout", "actions/setup-python", "aws-actions/configure-aws-credentials"} <= shared
    assert {action: ours[action] for action in shared} == {action: theirs[action] for action in shared}


def test_both_architectures_are_built() -> None:
    assert built_platforms() == {"linux/amd64", "linux/arm64"}
    (publish,) = [s for s in steps("publish") if uses(s) == "docker/build-push-action"]
    assert publish["with"]["platforms"] == "linux/amd64,linux/arm64"


def test_every_trivy_scan_fails_on_high_and_critical() -> None:
    scans = [(job, s) for job in workflow()["jobs"] for s in steps(job) if uses(s) == "aquasecurity/trivy-action"]
    assert {job for job, _ in scans} == {"test", "image", "publish"}
    for job, scan in scans:
        assert scan["with"]["severity"] == "HIGH,CRITICAL", job
        assert str(scan["with"]["exit-code"]) == "1", job


def test_nothing_is_tagged_before_the_pushed_digest_is_scanned() -> None:
    publish = steps("publish")
    (build,) = [i for i, s in enumerate(publish) if uses(s) == "docker/build-push-action"]
    outputs = publish[build]["with"]["outputs"]
    assert "push-by-digest=true" in outputs
    assert "push=true" in outputs
    assert "tags" not in publish[build]["with"], "the build pushes no tag"
    scans = [i for i, s in enumerate(publish) if uses(s) == "aquasecurity/trivy-action"]
    assert {publish[i]["env"]["TRIVY_PLATFORM"] for i in scans} == built_platforms()
    assert all("steps.build.outputs.digest" in publish[i]["with"]["image-ref"] for i in scans)
    (tag,) = [i for i, s in enumerate(publish) if "imagetools create" in s.get("run", "")]
    assert build < min(scans)
    assert max(scans) < tag
    assert "${GITHUB_SHA}" in publish[tag]["run"], "tagged with the full commit SHA"


def test_image_scans_run_for_every_built_platform_before_publishing() -> None:
    jobs = workflow()["jobs"]
    assert jobs["image"]["needs"] == "test"
    assert jobs["publish"]["needs"] == "image"
    (scan,) = [s for s in steps("image") if uses(s) == "aquasecurity/trivy-action"]
    assert scan["with"]["input"].endswith("hello.tar")


def test_permissions_are_least_per_job() -> None:
    jobs = workflow()["jobs"]
    assert workflow()["permissions"] == {}
    for name, job in jobs.items():
        permissions = job["permissions"]
        oidc = any(uses(s) == "aws-actions/configure-aws-credentials" for s in job["steps"])
        assert ("id-token" in permissions) == oidc, f"{name}: id-token only where OIDC is used"
        assert permissions.get("id-token", "write") == "write"
        writes = {scope for scope, level in permissions.items() if level == "write" and scope != "id-token"}
        # The deploy pull request is written by a GitHub App's token (tests/test_github.py), never the job token.
        assert writes == set(), name
    assert {name for name, job in jobs.items() if "id-token" in job["permissions"]} == {"publish"}


def test_aws_access_is_oidc_only_with_role_and_region_from_variables() -> None:
    text = WORKFLOW.read_text()
    # No stored AWS secret: AWS through OIDC. The one secret is the deploy-pull-request App's key, in the gitops job.
    assert re.findall(r"secrets\.\w+", text) == ["secrets.DEPLOY_PR_APP_PRIVATE_KEY"]
    assert "DEPLOY_PR_APP_PRIVATE_KEY" not in str(workflow()["jobs"]["publish"])
    (login,) = [s for s in steps("publish") if uses(s) == "aws-actions/configure-aws-credentials"]
    assert login["with"]["role-to-assume"].startswith("${{ vars.")
    assert login["with"]["aws-region"].startswith("${{ vars.")
    for job in ("publish", "gitops"):
        assert workflow()["jobs"][job]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"


def test_trigger_paths_cover_the_app_but_not_its_deploy_manifests() -> None:
    triggers = workflow().get("on") or workflow()[True]  # PyYAML reads the key `on` as a boolean
    assert set(triggers) == {"pull_request", "push"}
    assert triggers["push"]["branches"] == ["main"]
    for event in ("pull_request", "push"):
        paths = triggers[event]["paths"]
        assert {"apps/hello/**", ".github/workflows/app-hello.yml"} <= set(paths)
        # Merging the deploy pull request must not start another build and another deploy pull request.
        assert paths.index("!apps/hello/deploy/**") > paths.index("apps/hello/**")


def test_gitops_update_pins_the_published_digest() -> None:
    (edit,) = [s for s in steps("gitops") if "yq" in s.get("run", "")]
    assert edit["env"]["DIGEST"] == "${{ needs.publish.outputs.digest }}"
    assert "apps/hello/deploy/kustomization.yaml" in edit["env"]["KUSTOMIZATION"]
    assert ".digest = strenv(DIGEST)" in edit["run"]
    outputs = workflow()["jobs"]["publish"]["outputs"]
    assert outputs["digest"] == "${{ steps.result.outputs.digest }}"
