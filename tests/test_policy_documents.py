"""Every IAM, KMS, S3, SQS, ECR and SCP policy document the platform renders, in every stack."""

from __future__ import annotations

import pytest

from offline.plan import Plan
from tests.conftest import STACKS
from tests.iam_data import (
    action_exists,
    actions_of,
    is_wildcard_principal,
    parse,
    policy_documents,
    statements,
)

# Service quotas on document size (characters as uploaded).
SIZE_LIMITS = {
    "aws:organizations/policy:Policy": 5120,
    "aws:iam/rolePolicy:RolePolicy": 10240,
    "aws:iam/role:Role": 2048,  # trust policies (default quota)
    "aws:iam/policy:Policy": 6144,
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": 32768,
    "aws:kms/key:Key": 32768,
    "aws:s3/bucketPolicy:BucketPolicy": 20480,
}


@pytest.mark.parametrize("stack", STACKS)
def test_documents_are_valid_json_with_real_actions(plans: dict[str, Plan], stack: str) -> None:
    checked = 0
    for resource, key, text in policy_documents(plans[stack].resources):
        doc = parse(text)
        assert doc["Version"] == "2012-10-17", resource.urn
        for st in statements(doc):
            assert st["Effect"] in ("Allow", "Deny"), resource.urn
            unknown = [a for a in actions_of(st) if not action_exists(a)]
            assert unknown == [], f"{resource.urn} {key}: {unknown} are not IAM actions"
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("stack", STACKS)
def test_no_allow_statement_has_a_bare_wildcard_principal(plans: dict[str, Plan], stack: str) -> None:
    for resource, key, text in policy_documents(plans[stack].resources):
        for st in statements(parse(text)):
            if st["Effect"] == "Allow" and is_wildcard_principal(st.get("Principal")):
                assert st.get("Condition"), f"{resource.urn} {key} {st.get('Sid')}: '*' principal without condition"


@pytest.mark.parametrize("stack", STACKS)
def test_documents_stay_under_their_size_limits(plans: dict[str, Plan], stack: str) -> None:
    for resource, key, text in policy_documents(plans[stack].resources):
        limit = SIZE_LIMITS.get(resource.type)
        if limit is not None:
            assert len(text) <= limit, f"{resource.urn} {key}: {len(text)} > {limit}"


def test_action_check_rejects_made_up_actions() -> None:
    assert action_exists("s3:GetObject")
    assert action_exists("s3:GetAccountPublic*")
    assert not action_exists("s3:GetObjects")
    assert not action_exists("ec2:Launch*Rockets")
