"""The Pulumi state backend (issue 13, "State"): each stack's state under its own keys, one secrets key per stack,
grants scoped to each stack's own CI roles, and an explicit Deny for every other principal but break-glass.

The policies are judged by evaluating them (`decide`, a small model of IAM's evaluation for the operators these
documents use) for every CI role against every stack's objects and keys, not by reading their text.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest

from components.state.layout import META, stack_key_patterns, stack_object_arns
from components.state.policies import StackRoles, bucket_statements
from core.iam import break_glass_arn_pattern, document
from core.profiles import shared_services, workloads
from offline.mocks import Recorded
from offline.plan import Plan
from tests.iam_data import statements
from tests.iam_grammar import RESOURCE_POLICY_MAX
from tests.support import shared_config

SHARED = "shared-services"
PROJECT = "aws-platform"

# ---------------------------------------------------------------------------------------------------------------------
# A model of IAM's evaluation, for the elements and operators these documents use


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, value, 0 if case else re.IGNORECASE) is not None


def _values(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], request: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = request.get(key)
            if operator in ("ArnEquals", "ArnLike", "StringLike"):
                if actual is None or not any(_glob(e, actual) for e in _values(expected)):
                    return False
            elif operator in ("StringEquals", "Bool"):
                if actual is None or actual not in _values(expected):
                    return False
            elif operator == "StringNotEquals":
                if actual is not None and actual in _values(expected):
                    return False
            elif operator == "ArnNotLike":
                if actual is not None and any(_glob(e, actual) for e in _values(expected)):
                    return False
            else:
                raise AssertionError(f"operator {operator} not modelled")
    return True


def _principal_matches(principal: Any, arn: str) -> bool:
    if principal == "*":
        return True
    for value in _values(principal.get("AWS", [])):
        if value == "*" or value == arn:
            return True
        if value.endswith(":root") and value.split(":")[4] == arn.split(":")[4]:
            return True
    return False


def decide(
    policy: dict[str, Any],
    *,
    action: str,
    resource: str,
    principal: str | None = None,
    request: dict[str, str] | None = None,
) -> str:
    """'deny' (an explicit Deny applies), 'allow' (an Allow applies and no Deny) or 'implicit' (neither). A resource
    policy is evaluated for `principal`; an identity policy (no Principal elements) with `principal` None. Requests
    come over TLS unless `request` says otherwise."""
    context = {"aws:SecureTransport": "true", **(request or {})}
    if principal is not None:
        context |= {"aws:PrincipalArn": principal, "aws:PrincipalAccount": principal.split(":")[4]}
    allowed = False
    for st in statements(policy):
        if "Principal" in st and (principal is None or not _principal_matches(st["Principal"], principal)):
            continue
        if not any(_glob(a, action, case=False) for a in _values(st.get("Action", []))):
            continue
        if "Resource" in st and not any(_glob(r, resource) for r in _values(st["Resource"])):
            continue
        if not _condition_holds(st.get("Condition", {}), context):
            continue
        if st["Effect"] == "Deny":
            return "deny"
        allowed = True
    return "allow" if allowed else "implicit"


def test_the_evaluation_model_denies_over_allows_and_reads_negated_arn_conditions() -> None:
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::1:role/r"]}}}  # fmt: skip
    allow = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:Get*", "Resource": "*"}
    policy = {"Statement": [allow, deny]}
    assert (
        decide(policy, action="s3:GetObject", resource="arn:aws:s3:::b/k", principal="arn:aws:iam::1:role/r") == "allow"
    )
    assert (
        decide(policy, action="s3:GetObject", resource="arn:aws:s3:::b/k", principal="arn:aws:iam::1:role/x") == "deny"
    )
    assert decide(policy, action="s3:PutObject", resource="arn:aws:s3:::b/k", principal="arn:aws:iam::2:role/r") == (
        "implicit"
    )


# ---------------------------------------------------------------------------------------------------------------------
# The plan's state backend


def stacks() -> dict[str, str]:
    """Every stack -> the account of its CI roles: the shared-services stack's in the management account."""
    cfg = shared_config()
    return {cfg.stack: cfg.account_id} | {name: p.account_id for name, p in workloads(cfg.environments).items()}


def role(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def deployer(stack: str) -> str:
    return role(stacks()[stack], "pulumi-deployer")


def previewer(stack: str) -> str:
    return role(stacks()[stack], "pulumi-previewer")


def break_glass(account: str) -> str:
    """The Identity Center role of the break-glass permission set (`breakGlassRoleName`) in `account`."""
    permission_set = shared_config().break_glass_role_name
    return role(account, f"aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_{permission_set}_0123456789abcdef")


def shared_account() -> str:
    return shared_services(shared_config().environments)[1].account_id


def plan_of(plans: dict[str, Plan]) -> Plan:
    return plans[SHARED]


def bucket(plan: Plan) -> Recorded:
    return plan.one("aws:s3/bucket:Bucket", "state-state")


def bucket_arn(plan: Plan) -> str:
    return f"arn:aws:s3:::{bucket(plan).inputs['bucket']}"


def bucket_policy(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "state-state").inputs["policy"])


def objects_of(plan: Plan, stack: str) -> list[str]:
    """Object ARNs Pulumi writes for `stack` (one per kind of object of the DIY layout)."""
    base = f"{bucket_arn(plan)}/.pulumi"
    return [
        f"{base}/stacks/{PROJECT}/{stack}.json",
        f"{base}/stacks/{PROJECT}/{stack}.json.bak",
        f"{base}/stacks/{PROJECT}/{stack}.json.gz",
        f"{base}/history/{PROJECT}/{stack}/{stack}-1700000000000000000.history.json",
        f"{base}/history/{PROJECT}/{stack}/{stack}-1700000000000000000.checkpoint.json",
        f"{base}/backups/{PROJECT}/{stack}/{stack}.1700000000000000000.json",
        f"{base}/locks/organization/{PROJECT}/{stack}/0b5c7a1e-1d1b-4f5e-9d8f-2f0c1a2b3c4d.json",
    ]


def test_each_stack_writes_only_its_own_state_and_previewers_only_read_theirs(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    policy = bucket_policy(plan)
    for owner in stacks():
        for obj in objects_of(plan, owner):
            for other in stacks():
                for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                    got_deployer = decide(policy, action=action, resource=obj, principal=deployer(other))
                    got_previewer = decide(policy, action=action, resource=obj, principal=previewer(other))
                    assert got_deployer == ("allow" if other == owner else "implicit"), (other, action, obj)
                    reads = other == owner and action == "s3:GetObject"
                    assert got_previewer == ("allow" if reads else "implicit"), (other, action, obj)


def test_a_workload_stacks_bootstrap_role_writes_its_state_and_key_only(plans: dict[str, Plan]) -> None:
    """The first `up` of a workload stack runs by hand as its account's member access role (the bootstrap runbook):
    that role writes its own stack's state and uses its own secrets key, never another stack's; the management
    account's role of that name (the organization stack's account) gets nothing."""
    plan = plan_of(plans)
    policy = bucket_policy(plan)
    keys = secrets_keys(plan)
    access = shared_config().organization.member_access_role
    workload = [s for s in stacks() if s != SHARED]
    for stack in workload:
        bootstrap = role(stacks()[stack], access)
        for owner in stacks():
            for obj in objects_of(plan, owner):
                for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                    got = decide(policy, action=action, resource=obj, principal=bootstrap)
                    assert got == ("allow" if owner == stack else "implicit"), (stack, owner, action)
            key = keys[owner]
            key_policy = json.loads(key.inputs["policy"])
            for action in ("kms:Encrypt", "kms:Decrypt"):
                got = decide(key_policy, action=action, resource=key.outputs["arn"], principal=bootstrap)
                assert got == ("allow" if owner == stack else "deny"), (stack, owner, action)
    management = role(stacks()[SHARED], access)
    for owner in stacks():
        for obj in objects_of(plan, owner):
            assert decide(policy, action="s3:GetObject", resource=obj, principal=management) == "deny", owner


def test_everyone_else_but_break_glass_is_denied_the_state(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    policy = bucket_policy(plan)
    account = shared_account()
    others = [
        role(account, "OrganizationAccountAccessRole"),  # the shared-services account's own administrators
        role(account, "aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformEngineer_0123456789abcdef"),
        role(stacks()["prod"], "some-app-role"),
        role(shared_config().account_id, "OrganizationAccountAccessRole"),
        role(account, "platform-break-glass"),  # a role merely named like break-glass is not break-glass
    ]
    key = f"{bucket_arn(plan)}/.pulumi/stacks/{PROJECT}/prod.json"
    for principal in others:
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion"):
            assert decide(policy, action=action, resource=key, principal=principal) == "deny", (principal, action)
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert decide(policy, action=action, resource=key, principal=break_glass(account)) != "deny"
        assert decide(policy, action=action, resource=key, principal=break_glass(stacks()["prod"])) != "deny"


def test_the_bucket_policy_leaves_its_administration_to_the_scps(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    policy = bucket_policy(plan)
    principal = role(shared_account(), "OrganizationAccountAccessRole")
    # HeadBucket, which the provider reads the bucket with, is authorised as s3:ListBucket.
    for action in (
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutLifecycleConfiguration",
        "s3:ListBucket",
    ):
        assert decide(policy, action=action, resource=bucket_arn(plan), principal=principal) != "deny", action


def test_every_ci_role_reads_the_layout_file_and_lists_the_bucket(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    policy = bucket_policy(plan)
    meta = f"{bucket_arn(plan)}/{META}"
    for stack in stacks():
        for principal in (deployer(stack), previewer(stack)):
            assert decide(policy, action="s3:GetObject", resource=meta, principal=principal) == "allow"
            assert decide(policy, action="s3:PutObject", resource=meta, principal=principal) == "implicit"
            assert decide(policy, action="s3:ListBucket", resource=bucket_arn(plan), principal=principal) == "allow"


def secrets_keys(plan: Plan) -> dict[str, Recorded]:
    """Stack -> its secrets key, found through its alias."""
    keys = {k.outputs["keyId"]: k for k in plan.by_type("aws:kms/key:Key")}
    found = {}
    for alias in plan.by_type("aws:kms/alias:Alias"):
        name = alias.inputs["name"]
        if name.startswith("alias/plat/shared-services/pulumi-secrets"):
            stack = name.removeprefix("alias/plat/shared-services/pulumi-secrets").lstrip("/") or SHARED
            found[stack] = keys[alias.inputs["targetKeyId"]]
    return found


def test_one_secrets_key_per_stack_the_original_alias_unchanged(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    keys = secrets_keys(plan)
    assert set(keys) == set(stacks())
    assert len({k.urn for k in keys.values()}) == len(stacks())
    # The shared-services stack keeps the key (and alias) it has always had: no re-encryption of its secrets.
    assert keys[SHARED].name == "state-secrets"
    assert (
        plan.one("aws:kms/alias:Alias", "state-secrets").inputs["name"] == "alias/plat/shared-services/pulumi-secrets"
    )
    for stack, key in keys.items():
        assert key.protect is True
        assert key.inputs["enableKeyRotation"] is True
        if stack != SHARED:
            alias = plan.one("aws:kms/alias:Alias", f"state-secrets-{stack}")
            assert alias.inputs["name"] == f"alias/plat/shared-services/pulumi-secrets/{stack}"


def test_each_secrets_key_serves_only_its_stack(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    keys = secrets_keys(plan)
    for owner, key in keys.items():
        policy = json.loads(key.inputs["policy"])
        arn = key.outputs["arn"]
        for other in stacks():
            for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"):
                got = decide(policy, action=action, resource=arn, principal=deployer(other))
                assert got == ("allow" if other == owner else "deny"), (owner, other, action)
            assert decide(policy, action="kms:Decrypt", resource=arn, principal=previewer(other)) == (
                "allow" if other == owner else "deny"
            )
            assert decide(policy, action="kms:Encrypt", resource=arn, principal=previewer(other)) != "allow"
        # The account's own principals (IAM delegation through the key policy's account statement) are denied the
        # cryptographic operations, but may still administer the key; break-glass may do both.
        admin = role(shared_account(), "OrganizationAccountAccessRole")
        for action in ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:CreateGrant"):
            assert decide(policy, action=action, resource=arn, principal=admin) == "deny", action
            assert decide(policy, action=action, resource=arn, principal=break_glass(shared_account())) == "allow"
        for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:TagResource", "kms:DescribeKey"):
            assert decide(policy, action=action, resource=arn, principal=admin) == "allow", action


def test_the_bucket_key_is_used_through_s3_by_the_ci_roles_only(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    key = plan.one("aws:kms/key:Key", "state-state")
    policy = json.loads(key.inputs["policy"])
    arn = key.outputs["arn"]
    through_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    for stack in stacks():
        got = decide(policy, action="kms:GenerateDataKey", resource=arn, principal=deployer(stack), request=through_s3)
        assert got == "allow"
        assert decide(policy, action="kms:Decrypt", resource=arn, principal=previewer(stack), request=through_s3) == (
            "allow"
        )
        assert decide(policy, action="kms:Decrypt", resource=arn, principal=deployer(stack)) == "implicit"  # not via S3
    admin = role(shared_account(), "OrganizationAccountAccessRole")
    assert decide(policy, action="kms:Decrypt", resource=arn, principal=admin, request=through_s3) == "deny"
    assert decide(policy, action="kms:PutKeyPolicy", resource=arn, principal=admin) == "allow"


def test_the_policies_name_roles_by_condition_so_they_wait_for_no_role(plans: dict[str, Plan]) -> None:
    """KMS and S3 refuse a policy whose Principal names a role that does not exist yet; these name accounts, and pin
    the role with aws:PrincipalArn, so the CI roles can be created after them (their boundaries protect the keys)."""
    plan = plan_of(plans)
    documents = [bucket_policy(plan), *(json.loads(k.inputs["policy"]) for k in secrets_keys(plan).values())]
    documents.append(json.loads(plan.one("aws:kms/key:Key", "state-state").inputs["policy"]))
    for policy in documents:
        for st in statements(policy):
            for principal in _values(st["Principal"].get("AWS", [])):
                assert principal == "*" or principal.endswith(":root"), principal
    roles = {r.urn for r in plan.by_type("aws:iam/role:Role")}
    for key in [*secrets_keys(plan).values(), plan.one("aws:kms/key:Key", "state-state")]:
        assert not roles & set(key.dependencies)


def test_the_state_bucket_and_keys_are_exported_for_the_organization(plans: dict[str, Plan]) -> None:
    plan = plan_of(plans)
    exported = plan.exports["stateBackend"]
    assert exported["bucket"] == bucket(plan).inputs["bucket"]
    assert exported["secretsKeyArns"] == {stack: key.outputs["arn"] for stack, key in secrets_keys(plan).items()}
    assert exported["secretsKeyAliases"][SHARED] == exported["secretsKeyAlias"]


# ---------------------------------------------------------------------------------------------------------------------
# The layout (pure)


def test_the_layout_keys_of_a_stack_reach_no_other_stack() -> None:
    prefix = "arn:aws:s3:::b"
    keys = {
        stack: [f"{prefix}/.pulumi/stacks/{PROJECT}/{stack}.json", f"{prefix}/.pulumi/history/{PROJECT}/{stack}/x",
                f"{prefix}/.pulumi/locks/organization/{PROJECT}/{stack}/l.json"]
        for stack in ("prod", "prod-eu", "stg", "stg2")
    }  # fmt: skip
    for stack in keys:
        patterns = stack_object_arns(prefix, PROJECT, stack)
        for other, objects in keys.items():
            for obj in objects:
                assert any(fnmatch.fnmatchcase(obj, p) for p in patterns) == (other == stack), (stack, obj)


def test_the_layout_is_pulumis_project_scoped_one() -> None:
    assert stack_key_patterns("aws-platform", "prod") == (
        ".pulumi/stacks/aws-platform/prod.json*",
        ".pulumi/history/aws-platform/prod/*",
        ".pulumi/backups/aws-platform/prod/*",
        ".pulumi/locks/organization/aws-platform/prod/*",  # lock.go: named after organization/<project>/<stack>
    )
    with pytest.raises(ValueError, match="not a Pulumi stack name"):
        stack_key_patterns("aws-platform", "prod*")


def test_the_bucket_policy_fits_s3s_limit_with_many_more_environments() -> None:
    """Only two statements grow with the stacks (S3 caps a bucket policy at 20 KB): ten stacks, more than twice
    today's, still fit."""
    many = {
        f"env{i:02d}": StackRoles(deployer=f"arn:aws:iam::{i:012d}:role/pulumi-deployer",
                                  previewer=f"arn:aws:iam::{i:012d}:role/pulumi-previewer")
        for i in range(10)
    }  # fmt: skip
    arn = "arn:aws:s3:::plat-shared-services-pulumi-state-111122223333-eu-west-1"
    glass = break_glass_arn_pattern("aws", "BreakGlass")
    text = document(bucket_statements(arn, project=PROJECT, stacks=many, break_glass=glass))
    assert len(text.encode()) <= RESOURCE_POLICY_MAX["aws:s3/bucketPolicy:BucketPolicy"]
