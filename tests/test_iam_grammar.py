"""Every IAM document of every stack passes the grammar of its kind (tests/iam_grammar.py), and the checker itself
refuses what IAM refuses."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import STACKS
from tests.iam_grammar import (
    IDENTITY_INLINE,
    PERMISSION_SET_INLINE,
    RESOURCE,
    ROLE_INLINE_AGGREGATE_MAX,
    SCP,
    TRUST,
    Document,
    documents,
    problems,
    role_inline_sizes,
)


@pytest.mark.parametrize("stack", STACKS)
def test_every_document_passes_the_grammar_of_its_kind(plans: dict[str, Plan], stack: str) -> None:
    found = {doc.where: problems(doc) for doc in documents(plans[stack].resources)}
    assert {where: p for where, p in found.items() if p} == {}
    assert len(found) > 20


@pytest.mark.parametrize("stack", STACKS)
def test_every_kind_of_document_is_checked(plans: dict[str, Plan], stack: str) -> None:
    kinds = Counter(doc.kind for doc in documents(plans[stack].resources))
    assert kinds[TRUST] >= 5
    assert kinds[IDENTITY_INLINE] >= 1
    assert kinds[RESOURCE] >= 3
    if stack == "shared-services":
        assert kinds[SCP] >= 3
        assert kinds[PERMISSION_SET_INLINE] >= 1
    else:
        assert kinds[IDENTITY_INLINE] >= 5


@pytest.mark.parametrize("stack", STACKS)
def test_inline_policies_of_a_role_stay_under_the_aggregate_quota(plans: dict[str, Plan], stack: str) -> None:
    sizes = role_inline_sizes(plans[stack].resources)
    assert sizes
    assert {role: size for role, size in sizes.items() if size > ROLE_INLINE_AGGREGATE_MAX} == {}


# --- the checker refuses what IAM refuses -----------------------------------------------------------------------------


def _doc(type_: str, key: str, kind: str, document: dict[str, Any], inputs: dict[str, Any] | None = None) -> Document:
    record = Recorded(
        urn=f"urn:pulumi:t::p::{type_}::x", type=type_, name="x", custom=True, remote=False, parent=None,
        provider=None, inputs=inputs or {}, outputs={}, id="x", protect=False, dependencies=[],
        property_dependencies={},
    )  # fmt: skip
    return Document(record, key, kind, json.dumps(document))


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TRUST_STATEMENT = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def test_a_trust_policy_with_resource_is_refused_as_iam_does() -> None:
    good = _doc(ROLE, "assumeRolePolicy", TRUST, _policy(TRUST_STATEMENT))
    bad = _doc(ROLE, "assumeRolePolicy", TRUST, _policy({**TRUST_STATEMENT, "Resource": "*"}))
    assert problems(good) == []
    assert problems(bad) == ["MalformedPolicyDocument: Has prohibited field Resource."]


def test_a_trust_policy_needs_a_principal_and_a_trust_action() -> None:
    no_principal = {k: v for k, v in TRUST_STATEMENT.items() if k != "Principal"}
    assert any("Principal" in p for p in problems(_doc(ROLE, "assumeRolePolicy", TRUST, _policy(no_principal))))
    wrong_action = {**TRUST_STATEMENT, "Action": "s3:GetObject"}
    assert any("Trust Policy" in p for p in problems(_doc(ROLE, "assumeRolePolicy", TRUST, _policy(wrong_action))))


def test_an_identity_policy_needs_resource_and_no_principal() -> None:
    allow = {"Effect": "Allow", "Action": "s3:GetObject"}
    assert problems(_doc(ROLE_POLICY, "policy", IDENTITY_INLINE, _policy(allow))) == [
        "MalformedPolicyDocument: Policy statement must contain resources."
    ]
    with_principal = {**allow, "Resource": "*", "Principal": {"AWS": "*"}}
    assert any(
        "Principal" in p for p in problems(_doc(ROLE_POLICY, "policy", IDENTITY_INLINE, _policy(with_principal)))
    )


def test_a_resource_policy_needs_a_principal() -> None:
    statement = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    doc = _doc("aws:sqs/queuePolicy:QueuePolicy", "policy", RESOURCE, _policy(statement))
    assert problems(doc) == ["a resource policy statement without Principal"]


def test_an_scp_has_no_principal_and_a_size_limit() -> None:
    deny = {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}
    scp = "aws:organizations/policy:Policy"
    assert problems(_doc(scp, "content", SCP, _policy(deny))) == []
    assert any("Principal" in p for p in problems(_doc(scp, "content", SCP, _policy({**deny, "Principal": "*"}))))
    huge = _policy(
        *({**deny, "Sid": f"S{i}", "Resource": f"arn:aws:ec2:*:*:instance/{'i' * 40}{i}"} for i in range(80))
    )
    assert any("> 5120" in p for p in problems(_doc(scp, "content", SCP, huge)))


def test_a_condition_key_the_action_does_not_support_is_refused() -> None:
    dead = {
        "Sid": "DenyUnencryptedRestore",
        "Effect": "Deny",
        "Action": "rds:RestoreDBClusterFromSnapshot",
        "Resource": "*",
        "Condition": {"Bool": {"rds:StorageEncrypted": "false"}},
    }
    live = {**dead, "Action": "rds:CreateDBCluster"}
    scp = "aws:organizations/policy:Policy"
    assert problems(_doc(scp, "content", SCP, _policy(dead))) == [
        "statement DenyUnencryptedRestore: rds:RestoreDBClusterFromSnapshot does not support condition key "
        "rds:StorageEncrypted"
    ]
    assert problems(_doc(scp, "content", SCP, _policy(live))) == []


def test_global_keys_and_identity_provider_keys_are_not_checked_per_action() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "aws:SourceAccount": "1"}
        },
    }
    assert problems(_doc(ROLE, "assumeRolePolicy", TRUST, _policy(statement))) == []


def test_made_up_actions_are_refused() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:GetObjects", "ec2:Launch*Rockets"], "Resource": "*"}
    assert problems(_doc(ROLE_POLICY, "policy", IDENTITY_INLINE, _policy(statement))) == [
        "'s3:GetObjects' is not an IAM action (nor a pattern matching one)",
        "'ec2:Launch*Rockets' is not an IAM action (nor a pattern matching one)",
    ]


def test_an_unclassified_document_fails_loudly() -> None:
    record = _doc("aws:glacier/vault:Vault", "accessPolicy", RESOURCE, _policy(TRUST_STATEMENT)).resource
    record.inputs["accessPolicy"] = json.dumps(_policy(TRUST_STATEMENT))
    with pytest.raises(AssertionError, match="unclassified policy document"):
        list(documents([record]))
