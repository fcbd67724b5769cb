"""The shared-services stack: organization, SCPs, Identity Center, CI identity, artifacts, state and the trail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.ci import github as access
from components.ci.component import member_preview_role_name
from components.organization import scp
from components.organization.config import OrganizationConfig
from core.naming import Namer
from core.profiles import ou_layout
from offline.mocks import Recorded
from offline.plan import Plan, render
from tests.iam_data import statements
from tests.support import shared_config

SHARED = "shared-services"
BREAK_GLASS = "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_BreakGlass_*"
PIPELINE = "arn:aws:iam::*:role/OrganizationAccountAccessRole"


INLINE = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"


def org() -> OrganizationConfig:
    cfg = shared_config().organization
    assert cfg is not None
    return cfg


def shared_plan(plans: dict[str, Plan]) -> Plan:
    return plans[SHARED]


def scps(plan: Plan) -> dict[str, Recorded]:
    return {r.name.removeprefix("organization-scp-"): r for r in plan.by_type("aws:organizations/policy:Policy")}


def account_of(plan: Plan, resource: Recorded) -> str:
    (provider,) = [r for r in plan.resources if r.urn == resource.provider_urn]
    return json.loads(provider.inputs["allowedAccountIds"])[0]


# ---------------------------------------------------------------------------------------------------------------------
# Service control policies


def test_scps_are_minified_json_under_the_size_limit(plans: dict[str, Plan]) -> None:
    policies = scps(shared_plan(plans))
    assert set(policies) == {
        "region-restriction",
        "data-protection",
        "account-baseline",
        "security-services",
        "sandbox-cost-guard",
    }
    for name, policy in policies.items():
        content = policy.inputs["content"]
        assert policy.inputs["type"] == "SERVICE_CONTROL_POLICY"
        assert content == json.dumps(json.loads(content), separators=(",", ":"), sort_keys=True), name
        assert len(content) <= scp.MAX_SCP_CHARACTERS, f"{name}: {len(content)} characters"
        assert all(st["Effect"] == "Deny" for st in statements(json.loads(content))), name


def test_at_most_five_scps_per_target_counting_full_aws_access(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    ous = {
        r.outputs["id"]: r.inputs["name"]
        for r in plan.by_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    per_target: dict[str, int] = dict.fromkeys(ous.values(), 1)  # FullAWSAccess is attached to every OU
    for attachment in plan.by_type("aws:organizations/policyAttachment:PolicyAttachment"):
        per_target[ous[attachment.inputs["targetId"]]] += 1
    assert max(per_target.values()) <= scp.MAX_SCPS_PER_TARGET, per_target
    profiles = shared_config().environments
    exemptions = scp.Exemptions(
        break_glass_permission_set="b", deployer_role="d", previewer_role="p", pipeline_role="o"
    )
    state = scp.ProtectedState(
        partition="aws", region="eu-west-1", account_id="1", bucket_name="b", secrets_alias_prefix="alias/s"
    )
    assert per_target == scp.attachments_per_target(
        scp.organization_scps(
            allowed_regions=["eu-west-1"],
            exemptions=exemptions,
            partition="aws",
            sandbox_denied_types=["p*"],
            profiles=profiles,
            state=state,
        ),
        ou_layout(profiles),
    )


def test_scps_are_attached_to_the_right_ous(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    ous = {
        r.outputs["id"]: r.inputs["name"]
        for r in plan.by_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    policy_names = {
        r.outputs["id"]: r.name.removeprefix("organization-scp-")
        for r in plan.by_type("aws:organizations/policy:Policy")
    }
    attached: dict[str, set[str]] = {}
    for a in plan.by_type("aws:organizations/policyAttachment:PolicyAttachment"):
        attached.setdefault(policy_names[a.inputs["policyId"]], set()).add(ous[a.inputs["targetId"]])
    for name in ("region-restriction", "data-protection", "account-baseline", "security-services"):
        assert attached[name] == {"workloads", "infrastructure"}
    assert attached["sandbox-cost-guard"] == {"sandbox"}
    parents = {
        r.inputs["name"]: r.inputs["parentId"]
        for r in plan.by_type("aws:organizations/organizationalUnit:OrganizationalUnit")
    }
    workloads_id = next(i for i, n in ous.items() if n == "workloads")
    assert {parents[e] for e in ("prod", "stg", "sandbox")} == {workloads_id}
    assert parents["workloads"] == parents["infrastructure"] == org().root_id


def _scp(plans: dict[str, Plan], name: str) -> dict[str, Any]:
    return json.loads(scps(shared_plan(plans))[name].inputs["content"])


def condition_matches(condition: dict[str, Any], request: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators the SCPs use (all blocks ANDed; values of one key ORed, except
    that negated operators match only when no value matches, and are true when the key is absent)."""

    def values(v: Any) -> list[str]:
        return v if isinstance(v, list) else [v]

    for operator, tests in condition.items():
        for key, expected in tests.items():
            present = key in request
            if operator == "Null":
                if (values(expected)[0] == "true") == present:
                    return False
            elif operator == "StringEquals":
                if not present or request[key] not in values(expected):
                    return False
            elif operator == "StringNotEquals":
                if present and request[key] in values(expected):
                    return False
            else:
                raise AssertionError(f"operator {operator} not modelled")
    return True


def test_condition_model_follows_iam_on_missing_keys() -> None:
    # The trap the S3 rule avoids: StringNotEquals alone also denies requests without the header.
    assert condition_matches({"StringNotEquals": {"k": ["a"]}}, {}) is True
    assert condition_matches({"StringNotEquals": {"k": ["a"]}, "Null": {"k": "false"}}, {}) is False


def test_region_scp_exempts_the_global_services_and_break_glass(plans: dict[str, Plan]) -> None:
    st, edge = statements(_scp(plans, "region-restriction"))
    assert set(scp.REQUIRED_GLOBAL_SERVICES) <= set(st["NotAction"])
    allowed = sorted(shared_config().allowed_regions)
    assert st["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == allowed
    # Only break-glass: the CI deployer needs no other region (global and us-east-1 edge actions are exempt).
    assert st["Condition"]["ArnNotLike"]["aws:PrincipalARN"] == [BREAK_GLASS]
    # CloudFront's log delivery is configured in us-east-1: those actions are allowed there too, and nowhere else.
    assert set(edge["Action"]) == set(scp.US_EAST_1_EDGE_ACTIONS) <= set(st["NotAction"])
    assert edge["Effect"] == "Deny"
    assert edge["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == sorted({*allowed, "us-east-1"})
    assert edge["Condition"]["ArnNotLike"] == st["Condition"]["ArnNotLike"]


def test_data_protection_denies_unencrypted_storage_and_public_s3(plans: dict[str, Plan]) -> None:
    by_sid = {st["Sid"]: st for st in statements(_scp(plans, "data-protection"))}
    assert by_sid["DenyUnencryptedRds"]["Condition"] == {"Bool": {"rds:StorageEncrypted": "false"}}
    assert by_sid["DenyUnencryptedEbs"]["Condition"] == {"Bool": {"ec2:Encrypted": "false"}}
    # Only uploads that ask for non-KMS encryption are denied; uploads without the header (relying on the bucket's
    # default encryption) are not. Evaluated with IAM's semantics: a negated operator is true on a missing key.
    s3 = by_sid["DenyNonKmsS3Uploads"]["Condition"]
    header = "s3:x-amz-server-side-encryption"
    assert condition_matches(s3, {header: "AES256"}) is True
    assert condition_matches(s3, {}) is False
    assert condition_matches(s3, {header: "aws:kms"}) is False
    assert condition_matches(s3, {header: "aws:kms:dsse"}) is False
    # Break-glass, the CI deployer, and the organization pipeline that bootstraps accounts (issue 13).
    assert by_sid["DenyChangingPublicAccessBlocks"]["Condition"]["ArnNotLike"]["aws:PrincipalARN"] == sorted(
        [BREAK_GLASS, "arn:aws:iam::*:role/pulumi-deployer", PIPELINE]
    )
    assert set(by_sid["DenyPublicAcls"]["Condition"]["StringEquals"]["s3:x-amz-acl"]) == set(scp.PUBLIC_ACLS)


def test_mfa_is_required_only_of_iam_users(plans: dict[str, Plan]) -> None:
    by_sid = {st["Sid"]: st for st in statements(_scp(plans, "account-baseline"))}
    mfa = by_sid["RequireMfaForIamUsers"]
    assert mfa["Condition"]["StringEquals"] == {"aws:PrincipalType": "User"}
    assert mfa["Condition"]["BoolIfExists"] == {"aws:MultiFactorAuthPresent": "false"}
    assert "*" not in mfa["Action"]
    assert by_sid["DenyLeavingOrganization"]["Action"] == "organizations:LeaveOrganization"
    assert by_sid["DenyRootUser"]["Condition"]["ArnLike"]["aws:PrincipalArn"] == "arn:aws:iam::*:root"


def test_security_services_and_sandbox_guard(plans: dict[str, Plan]) -> None:
    protections = {st["Sid"]: st for st in statements(_scp(plans, "security-services"))}
    assert set(protections) == {"ProtectCloudTrail", "ProtectGuardDuty", "ProtectConfig", "ProtectSecurityHub",
                                "ProtectAccessAnalyzer"}  # fmt: skip
    # Nobody but break-glass may switch CloudTrail or default encryption off: not even the CI deployer.
    ebs = {st["Sid"]: st for st in statements(_scp(plans, "data-protection"))}["DenyDisablingEbsEncryptionByDefault"]
    for st in [protections.pop("ProtectCloudTrail"), ebs]:
        assert st["Condition"]["ArnNotLike"]["aws:PrincipalARN"] == [BREAK_GLASS]
    # The other services: break-glass and the organization pipeline that configures them; not the CI deployer.
    for st in protections.values():
        assert st["Condition"]["ArnNotLike"]["aws:PrincipalARN"] == sorted([BREAK_GLASS, PIPELINE])
    guard = {st["Sid"]: st for st in statements(_scp(plans, "sandbox-cost-guard"))}
    types = guard["DenyExpensiveInstanceTypes"]["Condition"]["StringLike"]["ec2:InstanceType"]
    assert {"p*", "g*", "*.metal*"} <= set(types)


def test_accounts_are_not_created_unless_asked(plans: dict[str, Plan]) -> None:
    assert shared_plan(plans).by_type("aws:organizations/account:Account") == []


# ---------------------------------------------------------------------------------------------------------------------
# Organization trail


def test_organization_trail_is_multi_region_validated_and_encrypted(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    (trail,) = plan.by_type("aws:cloudtrail/trail:Trail")
    key = plan.one("aws:kms/key:Key", "organization-trail")
    assert trail.inputs["isOrganizationTrail"] is True
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    bucket = plan.one("aws:s3/bucket:Bucket", "organization-trail")
    assert trail.inputs["s3BucketName"] == bucket.inputs["bucket"]
    assert account_of(plan, bucket) == org().accounts["shared-services"].id
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "organization-trail").inputs["policy"])
    write = next(st for st in policy["Statement"] if st["Sid"] == "CloudTrailWrite")
    assert write["Condition"]["StringEquals"]["aws:SourceArn"].endswith(":trail/plat-shared-services-organization")
    assert plan.one("aws:s3/bucketPolicy:BucketPolicy", "organization-trail").urn in trail.dependencies


@pytest.mark.parametrize("bucket", ["organization-trail", "state-state"])
def test_buckets_are_versioned_encrypted_blocked_and_tls_only(plans: dict[str, Plan], bucket: str) -> None:
    plan = shared_plan(plans)
    resource = plan.one("aws:s3/bucket:Bucket", bucket)
    assert resource.protect is True

    def linked(typ: str) -> Recorded:
        (found,) = [r for r in plan.by_type(typ) if r.property_dependencies.get("bucket") == [resource.urn]]
        return found

    assert linked("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    sse = linked("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    block = linked("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[f] for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    policy = json.loads(linked("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    deny = next(st for st in policy["Statement"] if st["Sid"] == "DenyInsecureTransport")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ownership = linked("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


# ---------------------------------------------------------------------------------------------------------------------
# Identity Center


def test_permission_sets_get_exactly_the_policies_their_names_promise(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    sets = {r.inputs["name"]: r for r in plan.by_type("aws:ssoadmin/permissionSet:PermissionSet")}
    attached: dict[str, set[str]] = {}
    for a in plan.by_type("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"):
        owner = next(n for n, r in sets.items() if r.outputs["arn"] == a.inputs["permissionSetArn"])
        attached.setdefault(owner, set()).add(a.inputs["managedPolicyArn"].rsplit("/", 1)[-1])
    assert attached == {
        "PlatformAdmin": {"AdministratorAccess"},
        "PlatformEngineer": {"PowerUserAccess"},
        "Developer": {"ReadOnlyAccess"},
        "ReadOnly": {"ReadOnlyAccess"},
        "BreakGlass": {"AdministratorAccess"},
    }
    durations = {n: r.inputs["sessionDuration"] for n, r in sets.items()}
    assert durations == {"PlatformAdmin": "PT1H", "PlatformEngineer": "PT4H", "Developer": "PT8H",
                         "ReadOnly": "PT8H", "BreakGlass": "PT1H"}  # fmt: skip
    inline = {i.inputs["permissionSetArn"] for i in plan.by_type(INLINE)}
    # Developer: its sandbox grant and denies; PlatformEngineer: its denies (issue 13).
    assert inline == {sets["Developer"].outputs["arn"], sets["PlatformEngineer"].outputs["arn"]}


def inline_policy(plan: Plan, permission_set: str) -> dict[str, Any]:
    (ps,) = [r for r in plan.by_type("aws:ssoadmin/permissionSet:PermissionSet") if r.inputs["name"] == permission_set]
    (inline,) = [r for r in plan.by_type(INLINE) if r.inputs["permissionSetArn"] == ps.outputs["arn"]]
    return json.loads(inline.inputs["inlinePolicy"])


def test_developer_cannot_touch_iam_or_organizations_and_writes_only_in_sandbox(plans: dict[str, Plan]) -> None:
    doc = inline_policy(shared_plan(plans), "Developer")
    allowed = [st for st in statements(doc) if st["Effect"] == "Allow"]
    actions = [a for st in allowed for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])]
    assert not [a for a in actions if a.split(":")[0] in ("iam", "organizations", "account", "sts")]
    write = next(st for st in statements(doc) if st["Sid"] == "WriteInSandboxOnly")
    assert write["Condition"] == {"StringEquals": {"aws:PrincipalAccount": org().accounts["sandbox"].id}}


def test_groups_are_assigned_per_account_from_config(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    ic = shared_config().identity_center
    assert ic is not None
    assignments = plan.by_type("aws:ssoadmin/accountAssignment:AccountAssignment")
    expected = sum(len(ic.groups[n]) * len(ic.assignments[n]) for n in ic.assignments)
    assert len(assignments) == expected
    sandbox_only = {a.inputs["targetId"] for a in assignments if a.name.startswith("identity-center-Developer-")}
    assert sandbox_only == {org().accounts[k].id for k in ("prod", "stg", "sandbox")}
    assert all(a.inputs["principalType"] == "GROUP" for a in assignments)


# ---------------------------------------------------------------------------------------------------------------------
# CI identity


def _trust(role: Recorded) -> dict[str, Any]:
    (st,) = statements(json.loads(role.inputs["assumeRolePolicy"]))
    return st


def test_github_trusts_pin_audience_and_a_specific_subject(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    federated = [r for r in plan.by_type("aws:iam/role:Role") if "Federated" in _trust(r)["Principal"]]
    # deployer + previewer for 4 stacks, and one image publisher per ECR repository of ci.imagePublishers
    assert len(federated) == 8 + len(shared_config().ci.image_publishers)
    for role in federated:
        condition = _trust(role)["Condition"]
        assert condition["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        subjects = (condition.get("StringLike") or condition["StringEquals"])["token.actions.githubusercontent.com:sub"]
        subjects = [subjects] if isinstance(subjects, str) else subjects
        for subject in subjects:
            assert access.valid_subject(subject) is None, subject
            assert subject.split(":")[1] != "*"
            assert "/*" not in subject.split(":")[1]


def test_deployers_trust_only_their_github_environment(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    for stack in ("shared-services", "prod", "stg", "sandbox"):
        deployer = plan.one("aws:iam/role:Role", f"ci-deployer-{stack}")
        previewer = plan.one("aws:iam/role:Role", f"ci-previewer-{stack}")
        sub = "token.actions.githubusercontent.com:sub"
        # The environment and, since the subject is customised, the reviewed workflow on main (previews: a PR's ref).
        assert _trust(deployer)["Condition"]["StringEquals"][sub] == access.deploy_subject("acme/aws-platform", stack)
        assert _trust(deployer)["Condition"]["StringEquals"][sub].startswith(
            f"repo:acme/aws-platform:environment:{stack}:"
        )
        assert _trust(previewer)["Condition"]["StringLike"][sub] == access.preview_subject_pattern(
            "acme/aws-platform", stack
        )
        assert _trust(previewer)["Condition"]["StringLike"][sub].startswith(
            f"repo:acme/aws-platform:environment:{stack}-preview:"
        )
        expected = shared_config().account_id if stack == SHARED else org().accounts[stack].id
        assert account_of(plan, deployer) == expected
        assert deployer.inputs["name"] == "pulumi-deployer"


def test_image_publishers_push_only_to_their_own_repository(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    repos = {r.inputs["name"]: r.outputs["arn"] for r in plan.by_type("aws:ecr/repository:Repository")}
    for repository in shared_config().ci.image_publishers:
        publisher = plan.one("aws:iam/role:Role", f"ci-image-publisher-{repository}")
        assert account_of(plan, publisher) == org().accounts["shared-services"].id
        policy = json.loads(
            plan.one("aws:iam/rolePolicy:RolePolicy", f"ci-image-publisher-{repository}").inputs["policy"]
        )
        push = next(st for st in policy["Statement"] if st["Sid"] == "PushToItsRepository")
        assert push["Resource"] == repos[repository]
        token = next(st for st in policy["Statement"] if st["Sid"] == "GetAuthorizationToken")
        assert token["Action"] == "ecr:GetAuthorizationToken"


# ---------------------------------------------------------------------------------------------------------------------
# Artifacts and state


def test_repositories_are_immutable_scanned_encrypted_and_pullable_by_environments(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    key = plan.one("aws:kms/key:Key", "artifacts-registry")
    for repo in plan.by_type("aws:ecr/repository:Repository"):
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}]
        assert repo.protect is True
    for policy in plan.by_type("aws:ecr/repositoryPolicy:RepositoryPolicy"):
        (st,) = statements(json.loads(policy.inputs["policy"]))
        assert set(st["Principal"]["AWS"]) == {
            f"arn:aws:iam::{org().accounts[k].id}:root" for k in ("prod", "stg", "sandbox")
        }
        assert "Resource" not in st
    for lifecycle in plan.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        rules = json.loads(lifecycle.inputs["policy"])["rules"]
        assert {r["selection"]["tagStatus"] for r in rules} == {"untagged", "tagged"}
    (scanning,) = plan.by_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert scanning.inputs["scanType"] == "ENHANCED"


def test_state_backend_and_secrets_key(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    alias = plan.one("aws:kms/alias:Alias", "state-secrets")
    assert alias.inputs["name"] == "alias/plat/shared-services/pulumi-secrets"
    key = plan.one("aws:kms/key:Key", "state-secrets")
    assert key.protect is True
    # One secrets key per stack, each naming its own stack's deployer (tests/test_state_backend.py judges the grants).
    for stack, account in [(SHARED, shared_config().account_id),
                           *((k, a.id) for k, a in org().accounts.items() if k != SHARED)]:  # fmt: skip
        stack_key = key if stack == SHARED else plan.one("aws:kms/key:Key", f"state-secrets-{stack}")
        assert stack_key.protect is True
        assert f"arn:aws:iam::{account}:role/pulumi-deployer" in stack_key.inputs["policy"]
    state_bucket = plan.one("aws:s3/bucket:Bucket", "state-state")
    assert state_bucket.inputs["bucket"] == plan.exports["stateBackend"]["bucket"]
    # KMS refuses principals that do not exist yet: the keys name accounts and pin the CI roles by condition
    # (aws:PrincipalArn), so they need not wait for the roles (whose boundaries protect the keys).
    for k in plan.by_type("aws:kms/key:Key"):
        if k.name.startswith("state-"):
            for st in statements(json.loads(k.inputs["policy"])):
                principals = st["Principal"]["AWS"]
                for principal in [principals] if isinstance(principals, str) else principals:
                    assert principal == "*" or principal.endswith(":root"), (k.name, principal)


def test_a_previewer_session_reads_member_accounts_through_the_preview_reader() -> None:
    """A pull-request preview of shared-services runs as the previewer, which the SCPs and its own policy keep away
    from OrganizationAccountAccessRole: its member providers must assume the read-only preview reader instead."""
    cfg = shared_config()
    plan = render(cfg.stack, caller_role=cfg.previewer_role_name)
    providers = {p.name: p for p in plan.by_type("pulumi:providers:aws") if p.inputs.get("assumeRoles")}
    assert set(providers) == {f"aws-{key}" for key in org().accounts}
    reader = member_preview_role_name(Namer(cfg.name_prefix, cfg.stack))
    for key, account in org().accounts.items():
        (role,) = json.loads(providers[f"aws-{key}"].inputs["assumeRoles"])
        assert role["roleArn"] == f"arn:aws:iam::{account.id}:role/{reader}", key


def test_member_account_providers_assume_the_organization_role(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    providers = {p.name: p for p in plan.by_type("pulumi:providers:aws")}
    assert set(providers) == {"aws", "aws-shared-services", "aws-prod", "aws-stg", "aws-sandbox"}
    for key, account in org().accounts.items():
        provider = providers[f"aws-{key}"].inputs
        assert json.loads(provider["allowedAccountIds"]) == [account.id]
        (role,) = json.loads(provider["assumeRoles"])
        assert role["roleArn"] == f"arn:aws:iam::{account.id}:role/OrganizationAccountAccessRole"
