"""Issue 14, the database's isolation: who can read the master secret, which pods can reach 5432, what a config edit
can no longer destroy, and what the bootstrap trusts when it connects.

- the master secret: no Pod Identity role can read it; only the bootstrap function's role can, and the function runs
  outside the cluster, in the VPC's private subnets, as a Python runtime (no image);
- reachability: Security Groups for Pods (VPC CNI pod ENIs, the VPC resource controller's policy, a
  SecurityGroupPolicy valid against its CRD), and the database admits only the application's pod group and the
  bootstrap's;
- creation-time settings: the guard the engine runs at `check` refuses a change of databaseName/masterUsername; the
  instance is protected and retained where the stack is protected; the default StorageClass retains volumes there;
- the database key's service principals carry the conditions their services send;
- TLS: verify-full against the vendored RDS roots, exercised against a real PostgreSQL with TLS and SCRAM.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components.cluster.component import ADDON_CONFIGURATION, reclaim_policy
from components.database.bootstrap import handler
from components.database.component import RDS_ROOT_CAS, SECURITY_GROUP_POLICY_NAME, pod_security_group_rules
from components.database.config import CA_CERTIFICATES, DatabaseConfig
from components.database.guard import GUARDED, CreationTimeSettingsProvider
from core.kubernetes import DATABASE_CLIENT_LABEL
from offline.mocks import Recorded
from offline.plan import Plan
from offline.stackfiles import ROOT
from tests.conftest import WORKLOAD_STACKS
from tests.support import stack_config
from tests.test_config_database import accepted, refused
from tests.upstream import crd_dirs, crd_schemas, custom_object, pinned

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SGP = "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy"
GUARD = "pulumi-python:dynamic/database:CreationTimeGuard"
INSTANCE = "aws:rds/instance:Instance"


def _database(stack: str) -> DatabaseConfig:
    cfg = stack_config(stack).database
    assert cfg is not None
    return cfg


def _trust_services(role: Recorded) -> set[str]:
    trust = json.loads(role.inputs["assumeRolePolicy"])
    return {s["Principal"].get("Service") for s in trust["Statement"] if "Service" in s.get("Principal", {})}


def _grants(plan: Plan, role: Recorded) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies."""
    found = []
    for policy in plan.by_type(ROLE_POLICY):
        if policy.inputs["role"] in (role.outputs["id"], role.outputs.get("name")):
            found += json.loads(policy.inputs["policy"])["Statement"]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _resources(statement: dict[str, Any]) -> list[str]:
    resources = statement.get("Resource", [])
    return [resources] if isinstance(resources, str) else list(resources)


def _reads_secret(statement: dict[str, Any], secret_arn: str) -> bool:
    reads = any(a in ("secretsmanager:GetSecretValue", "secretsmanager:*", "*") for a in _actions(statement))
    return statement["Effect"] == "Allow" and reads and any(r in (secret_arn, "*") for r in _resources(statement))


# --- the master secret ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_no_pod_identity_role_can_read_the_master_secret(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    secret = plan.exports["database"]["masterSecretArn"]
    key = plan.one("aws:kms/key:Key", "database-database").outputs["arn"]
    pod_roles = [r for r in plan.by_type(ROLE) if "pods.eks.amazonaws.com" in _trust_services(r)]
    assert len(pod_roles) >= 5
    for role in pod_roles:
        for statement in _grants(plan, role):
            assert not _reads_secret(statement, secret), role.urn
            decrypts = any(a.startswith("kms:Decrypt") or a == "kms:*" for a in _actions(statement))
            assert not (decrypts and key in _resources(statement)), role.urn
            # Nor run the function that can: no workload may invoke it.
            assert not any(a.startswith("lambda:Invoke") or a == "lambda:*" for a in _actions(statement)), role.urn
    # Nothing of the old in-cluster bootstrap is left: no Job, no service account, no association for it.
    assert plan.by_type("kubernetes:batch/v1:Job") == []
    associations = plan.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert "db-bootstrap" not in {a.inputs["serviceAccount"] for a in associations}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_only_the_bootstrap_function_may_read_the_master_secret(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    secret = plan.exports["database"]["masterSecretArn"]
    readers = [r for r in plan.by_type(ROLE) if any(_reads_secret(s, secret) for s in _grants(plan, r))]
    assert [r.name for r in readers] == ["database-bootstrap"]
    (reader,) = readers
    assert _trust_services(reader) == {"lambda.amazonaws.com"}
    (function,) = plan.by_type("aws:lambda/function:Function")
    assert function.inputs["role"] == reader.outputs["arn"]
    # A Python runtime function, no container image to pin; in the private subnets, with a group of its own.
    assert function.inputs["runtime"].startswith("python3.")
    assert "imageUri" not in function.inputs
    assert function.inputs.get("packageType", "Zip") == "Zip"
    assert function.inputs["handler"] == "handler.handler"
    vpc = function.inputs["vpcConfig"]
    assert set(vpc["subnetIds"]) == set(plan.exports["network"]["privateSubnetIds"].values())
    assert vpc["securityGroupIds"] == [plan.one(SG, "database-bootstrap").outputs["id"]]
    # Its network: out to the database on 5432 and to HTTPS, nothing in.
    group = plan.one(SG, "database-bootstrap").outputs["id"]
    database = plan.exports["database"]["securityGroupId"]
    egress = {
        (r.inputs["fromPort"], r.inputs.get("referencedSecurityGroupId") or r.inputs.get("cidrIpv4"))
        for r in plan.by_type(EGRESS)
        if r.inputs["securityGroupId"] == group
    }
    assert egress == {(5432, database), (443, "0.0.0.0/0")}
    assert [r for r in plan.by_type(INGRESS) if r.inputs["securityGroupId"] == group] == []


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_stack_invokes_the_bootstrap_after_the_instance_and_its_path_exist(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    (invocation,) = plan.by_type("aws:lambda/invocation:Invocation")
    (function,) = plan.by_type("aws:lambda/function:Function")
    assert invocation.inputs["functionName"] == function.outputs["name"]
    after = set(invocation.dependencies)
    assert plan.one(INSTANCE).urn in after
    assert plan.one(INGRESS, "database-database-from-bootstrap").urn in after
    # A change of the function's code invokes it again.
    assert len(invocation.inputs["triggers"]["package"]) == 64
    event = handler.Desired.from_event(json.loads(invocation.inputs["input"]))
    assert event.secret_arn == plan.exports["database"]["masterSecretArn"]


def test_the_function_package_is_the_handler_and_the_trust_anchors(plans: dict[str, Plan]) -> None:
    (function,) = plans["prod"].by_type("aws:lambda/function:Function")
    assets = function.inputs["code"]["assets"]
    assert set(assets) == {"handler.py", "rds-ca-roots.pem"}
    assert assets["handler.py"]["text"] == Path(handler.__file__).read_text()
    # The handler imports nothing outside the standard library but the runtime's boto3, and that only lazily.
    source = assets["handler.py"]["text"]
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    assert {line.split()[1].split(".")[0] for line in top_level} <= stdlib


# --- reachability -----------------------------------------------------------------------------------------------------


def test_the_vpc_cni_runs_pod_enis_in_standard_mode() -> None:
    env = ADDON_CONFIGURATION["vpc-cni"]["env"]
    assert env == {"ENABLE_POD_ENI": "true", "POD_SECURITY_GROUP_ENFORCING_MODE": "standard"}
    assert ADDON_CONFIGURATION["vpc-cni"]["enableNetworkPolicy"] == "true"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_cluster_runs_security_groups_for_pods(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    (cni,) = [a for a in plan.by_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni"]
    assert json.loads(cni.inputs["configurationValues"])["env"]["ENABLE_POD_ENI"] == "true"
    cluster_role = plan.one(ROLE, "cluster-cluster")
    attached = {
        a.inputs["policyArn"]
        for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == cluster_role.outputs["name"]
    }
    assert "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController" in attached


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_a_security_group_policy_gives_the_application_its_pod_group(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    app = _database(stack).app
    (policy,) = plan.by_type(SGP)
    obj = custom_object(policy)
    assert obj["metadata"] == {"name": SECURITY_GROUP_POLICY_NAME, "namespace": app.namespace}
    label = dict([DATABASE_CLIENT_LABEL])
    assert obj["spec"] == {
        "podSelector": {"matchLabels": label},
        "serviceAccountSelector": {"matchLabels": label},
        "securityGroups": {"groupIds": [plan.exports["database"]["appSecurityGroupId"]]},
    }
    schemas = crd_schemas(crd_dirs(pinned(plan.resources)))
    schema = schemas[("vpcresources.k8s.aws/v1beta1", "SecurityGroupPolicy")]
    assert list(jsonschema.Draft7Validator(schema).iter_errors(obj)) == []
    # The vendored CRD is strict: a selector by name (not in the CRD) would be refused.
    bad = {**obj, "spec": {**obj["spec"], "serviceAccountSelector": {"matchNames": [app.service_account]}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad)) != []


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_pod_group_admits_the_alb_and_nodes_and_reaches_only_what_the_app_needs(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    port = _database(stack).app.port
    pods = plan.exports["database"]["appSecurityGroupId"]
    nodes = plan.exports["cluster"]["nodeSecurityGroupId"]
    alb = plan.exports["network"]["albSecurityGroupId"]
    database = plan.exports["database"]["securityGroupId"]

    def rules(kind: str, group: str) -> set[tuple[Any, Any, Any]]:
        return {
            (
                r.inputs["ipProtocol"],
                r.inputs.get("fromPort", -1),
                r.inputs.get("referencedSecurityGroupId") or r.inputs.get("cidrIpv4"),
            )
            for r in plan.by_type(kind)
            if r.inputs["securityGroupId"] == group
        }

    assert rules(INGRESS, pods) == {("tcp", port, alb), ("tcp", port, nodes)}
    assert rules(EGRESS, pods) == {
        ("tcp", 5432, database),
        ("udp", 53, nodes),
        ("tcp", 53, nodes),
        ("tcp", 443, "0.0.0.0/0"),
    }
    # CoreDNS on the nodes answers the pods: the node group admits DNS from the pod group.
    into_nodes = {(p, port_, peer) for p, port_, peer in rules(INGRESS, nodes) if peer == pods}
    assert into_nodes == {("udp", 53, pods), ("tcp", 53, pods)}
    names = {r.name for r in plan.resources if r.type in (INGRESS, EGRESS) and r.name.startswith("database-")}
    others = {"database-database-from-app", "database-database-from-bootstrap", "database-bootstrap-to-database",
              "database-bootstrap-https"}  # fmt: skip
    assert {f"database-{r.key}" for r in pod_security_group_rules(port)} == names - others


# --- creation-time settings -------------------------------------------------------------------------------------------


HOST_CHECK = """
import base64, json, sys, dill
provider = dill.loads(base64.b64decode(sys.argv[1]))
result = provider.check(json.loads(sys.argv[2]), json.loads(sys.argv[3]))
print(json.dumps([[f.property, f.reason] for f in result.failures]))
"""
"""What the engine's dynamic-provider host does with a guard's state: dill-load the provider, run its `check`."""


def _check_in_host(serialized: str, olds: dict[str, Any], news: dict[str, Any]) -> list[list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", HOST_CHECK, serialized, json.dumps(olds), json.dumps(news)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_engine_refuses_a_change_of_a_creation_time_setting(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    cfg = _database(stack)
    guard = plan.one(GUARD)
    recorded = {"databaseName": cfg.database_name, "masterUsername": cfg.master_username}
    assert {k: guard.inputs[k] for k in GUARDED} == recorded
    assert guard.urn in plan.one(INSTANCE).dependencies  # the refusal comes before the instance could be replaced
    serialized = guard.inputs["__provider"]
    olds = {**recorded, "__provider": serialized}
    # What the provider does once Pulumi has stored it (state -> dill -> the host's check), in a fresh interpreter.
    assert _check_in_host(serialized, olds, {**recorded, "__provider": serialized}) == []
    assert _check_in_host(serialized, {}, {**recorded, "databaseName": "orders"}) == []  # first deployment
    (failure,) = _check_in_host(serialized, olds, {**recorded, "databaseName": "orders"})
    assert failure[0] == "databaseName"
    assert "database.databaseName" in failure[1]
    assert repr(cfg.database_name) in failure[1]
    assert "'orders'" in failure[1]
    (failure,) = _check_in_host(serialized, olds, {**recorded, "masterUsername": "root_admin"})
    assert "database.masterUsername" in failure[1]


def test_the_guard_names_the_key_and_the_way_out() -> None:
    result = CreationTimeSettingsProvider().check({"databaseName": "shop"}, {"databaseName": "orders"})
    (failure,) = result.failures
    assert failure.property == "databaseName"
    assert failure.reason.startswith("database.databaseName is a creation-time setting")
    assert "replace the instance and delete its data" in failure.reason
    assert "pulumi state delete" in failure.reason


def test_the_instance_is_protected_and_retained_only_where_the_stack_is_protected(plans: dict[str, Plan]) -> None:
    for stack in WORKLOAD_STACKS:
        instance = plans[stack].one(INSTANCE)
        protected = stack_config(stack).protect_stateful
        assert instance.protect is protected
        assert instance.options["retainOnDelete"] is protected
    assert plans["prod"].one(INSTANCE).options["retainOnDelete"] is True
    assert plans["sandbox"].one(INSTANCE).options["retainOnDelete"] is False


def test_the_default_storage_class_retains_volumes_in_protected_stacks(plans: dict[str, Plan]) -> None:
    assert (reclaim_policy(True), reclaim_policy(False)) == ("Retain", "Delete")
    for stack in WORKLOAD_STACKS:
        (sc,) = plans[stack].by_type("kubernetes:storage.k8s.io/v1:StorageClass")
        expected = "Retain" if stack_config(stack).protect_stateful else "Delete"
        assert sc.inputs["reclaimPolicy"] == expected, stack
        # The API server refuses to update reclaimPolicy: a change is a replacement, the old class removed first.
        assert "reclaimPolicy" in sc.options["replaceOnChanges"]
        assert sc.options["deleteBeforeReplace"] is True
    (prod,) = plans["prod"].by_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert prod.inputs["reclaimPolicy"] == "Retain"


# --- the database key's service principals ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_service_principals_on_the_database_key_carry_their_confused_deputy_conditions(
    plans: dict[str, Plan], stack: str
) -> None:
    plan = plans[stack]
    account = plan.exports["accountId"]
    policy = json.loads(plan.one("aws:kms/key:Key", "database-database").inputs["policy"])
    services = {s["Sid"]: s for s in policy["Statement"] if "Service" in s["Principal"]}
    assert set(services) == {"CloudWatchLogsUsesKey", "CloudWatchAlarmsPublishToTopic"}
    alarms = services["CloudWatchAlarmsPublishToTopic"]["Condition"]
    assert alarms["StringEquals"] == {"aws:SourceAccount": account}
    assert alarms["ArnLike"] == {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{account}:alarm:*"}
    # CloudWatch Logs identifies itself by the log group in the encryption context, this account's groups only.
    groups = services["CloudWatchLogsUsesKey"]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert all(g.startswith(f"arn:aws:logs:eu-west-1:{account}:log-group:") for g in groups)
    assert f"arn:aws:logs:eu-west-1:{account}:log-group:/plat/{stack}/database/bootstrap" in groups
    for statement in policy["Statement"]:
        if statement["Principal"] == {"AWS": "*"}:
            assert statement["Condition"]["StringEquals"]["kms:CallerAccount"] == account


# --- config -----------------------------------------------------------------------------------------------------------


def test_the_application_port_and_user_are_checked() -> None:
    assert accepted().app.port == 8080
    assert accepted({"app.port": 9000}).app.port == 9000
    assert "1024-65535" in refused({"app.port": 80})
    assert "app.dbUser" in refused({"app.dbUser": "platform_admin"})


# --- the bootstrap's TLS: verify-full against the vendored RDS roots --------------------------------------------------


def _allowed_regions() -> tuple[str, ...]:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    return tuple(project["config"]["allowedRegions"]["value"])


def test_the_trust_anchors_are_exactly_the_pinned_rds_roots() -> None:
    data = handler.CA_FILE.read_bytes()
    certificates = x509.load_pem_x509_certificates(data)
    found = {}
    for cert in certificates:
        (cn,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        found[str(cn.value)] = cert.fingerprint(hashes.SHA256()).hex()
        assert cert.issuer == cert.subject  # roots, self-issued
        cert.verify_directly_issued_by(cert)  # and self-signed
        assert cert.not_valid_before_utc < datetime.datetime.now(datetime.UTC) < cert.not_valid_after_utc
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert found == dict(RDS_ROOT_CAS)
    # Every region the organisation allows, for every CA a stack may configure (rds-ca-<kind>-g1).
    for region in _allowed_regions():
        for identifier in CA_CERTIFICATES:
            kind = identifier.removeprefix("rds-ca-").removesuffix("-g1").upper()
            assert f"Amazon RDS {region} Root CA {kind} G1" in found, (region, identifier)


def test_the_function_trusts_only_its_roots_and_checks_the_host() -> None:
    context = handler.tls_context(handler.CA_FILE)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    anchors = context.get_ca_certs(binary_form=True)
    subjects = {
        str(x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        for der in anchors
    }
    assert subjects == set(RDS_ROOT_CAS)  # the system's store is not loaded


def test_the_event_is_validated_before_anything_connects() -> None:
    good = {"host": "db.example.com", "port": 5432, "database": "shop", "user": "shop_app",
            "secretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf"}  # fmt: skip
    assert handler.Desired.from_event(good).user == "shop_app"
    for key, bad in [("user", "x'; DROP ROLE admin; --"), ("database", 'shop"'), ("host", "db example"),
                     ("port", "5432"), ("secretArn", "arn:aws:s3:::bucket")]:  # fmt: skip
        with pytest.raises(handler.BootstrapError, match=key if key != "secretArn" else "secretArn"):
            handler.Desired.from_event({**good, key: bad})


def test_scram_proves_both_sides() -> None:
    # RFC 7677's test vector (user "user", password "pencil"), as PostgreSQL runs it (the user name is left empty, so
    # the client-first message differs from the RFC's and with it the proof): the server signature must verify.
    client = handler.Scram("pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert client.client_first() == b"n,,n=,r=rOprNGfwEbeRWgbNEkqO"
    salt = base64.b64encode(b"\x01" * 16).decode()
    server_first = f"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s={salt},i=4096".encode()
    final = client.client_final(server_first)
    assert final.startswith(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=")
    with pytest.raises(handler.BootstrapError, match="signature"):
        client.verify_server(b"v=" + base64.b64encode(b"\x00" * 32))
    assert client.verified is False
    weak = handler.Scram("pencil", nonce="abc")
    with pytest.raises(handler.BootstrapError, match="iterations"):
        weak.client_final(f"r=abcdef,s={salt},i=1".encode())
    with pytest.raises(handler.BootstrapError, match="nonce"):
        handler.Scram("pencil", nonce="abc").client_final(f"r=xyz123,s={salt},i=4096".encode())


def _pg_bin(name: str) -> str | None:
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else shutil.which(name)


def _certificate(
    subject: str, issuer_key: Any, issuer: x509.Name | None, *, ca: bool, dns: str | None = None
) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[dict[str, Any]]:
    """A throwaway PostgreSQL on 127.0.0.1 that speaks only TLS (a certificate for `localhost` from a test CA) and
    SCRAM-SHA-256, with an `rds_iam` role and a `shop` database, as RDS has them."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl and shutil.which("psql")):
        pytest.skip("no local PostgreSQL server binaries (initdb, pg_ctl, psql)")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            owner = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.skip("running as root without a postgres user")
        as_user = ["runuser", "-u", owner, "--"]
    root = Path(tempfile.mkdtemp(prefix="platform-pgtls-"))
    ca_key, ca = _certificate("test root", None, None, ca=True)
    server_key, server = _certificate("localhost", ca_key, ca.subject, ca=False, dns="localhost")
    _, other = _certificate("another root", None, None, ca=True)
    (root / "ca.pem").write_bytes(_pem(ca))
    (root / "other-ca.pem").write_bytes(_pem(other))
    (root / "server.crt").write_bytes(_pem(server))
    key_bytes = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (root / "server.key").write_bytes(key_bytes)
    (root / "server.key").chmod(0o600)
    password = base64.b64encode(os.urandom(18)).decode()
    (root / "pw").write_text(password + "\n")
    if owner is not None:
        for path in (root, root / "server.key", root / "server.crt", root / "pw"):
            shutil.chown(path, owner)
    data, port = root / "data", _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "admin", f"--pwfile={root / 'pw'}",
                    "--auth-local=trust", "--auth-host=scram-sha-256"], check=True, capture_output=True)  # fmt: skip
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 reject\n"
    )
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c ssl=on "
               f"-c ssl_cert_file={root / 'server.crt'} -c ssl_key_file={root / 'server.key'}")  # fmt: skip
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o", options, "start"],
                   check=True, capture_output=True)  # fmt: skip
    env = {**os.environ, "PGHOST": str(root), "PGPORT": str(port), "PGUSER": "admin", "PGDATABASE": "postgres"}
    try:
        subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-c", "CREATE ROLE rds_iam", "-c", "CREATE DATABASE shop"],
                       check=True, capture_output=True, env=env)  # fmt: skip
        yield {"port": port, "password": password, "ca": root / "ca.pem", "other_ca": root / "other-ca.pem", "env": env}
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _desired(server: dict[str, Any], host: str = "localhost") -> handler.Desired:
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf"
    return handler.Desired(host=host, port=server["port"], database="shop", user="shop_app", secret_arn=secret)


def test_the_bootstrap_creates_the_user_over_verified_tls_and_converges(tls_postgres: dict[str, Any]) -> None:
    credentials = ("admin", tls_postgres["password"])
    for _ in range(2):
        result = handler.apply(_desired(tls_postgres), credentials, cafile=tls_postgres["ca"])
        assert result == {"user": "shop_app", "database": "shop", "grants": list(handler.GRANTS), "verified": True}
        assert tls_postgres["password"] not in json.dumps(result)


def test_the_bootstrap_refuses_a_server_its_roots_did_not_sign(tls_postgres: dict[str, Any]) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handler.apply(_desired(tls_postgres), ("admin", tls_postgres["password"]), cafile=tls_postgres["other_ca"])
    with pytest.raises(ssl.SSLCertVerificationError):  # the RDS roots did not sign the test server either
        handler.apply(_desired(tls_postgres), ("admin", tls_postgres["password"]))


def test_the_bootstrap_refuses_a_certificate_for_another_host(tls_postgres: dict[str, Any]) -> None:
    # The certificate names `localhost`; connecting to 127.0.0.1 must fail the host check (verify-full, not verify-ca).
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Hh]ostname|IP address mismatch"):
        handler.apply(_desired(tls_postgres, host="127.0.0.1"), ("admin", tls_postgres["password"]),
                      cafile=tls_postgres["ca"])  # fmt: skip


def test_the_bootstrap_refuses_a_server_that_does_not_offer_tls() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(8)  # the SSLRequest
                connection.sendall(b"N")

        thread = threading.Thread(target=answer)
        thread.start()
        with pytest.raises(handler.BootstrapError, match="does not offer TLS"):
            handler.connect(host="localhost", port=port, user="admin", password="x", database="shop")
        thread.join()


def test_the_bootstrap_reports_a_wrong_password_without_echoing_it(tls_postgres: dict[str, Any]) -> None:
    wrong = "not-" + hashlib.sha256(b"x").hexdigest()[:12]
    with pytest.raises(handler.BootstrapError) as refusal:
        handler.apply(_desired(tls_postgres), ("admin", wrong), cafile=tls_postgres["ca"])
    assert "28P01" in str(refusal.value)
    assert wrong not in str(refusal.value)
