"""The CI roles' own documents (pure functions): the deployers' permissions boundary, the previewers' inline policy and
the trust of the member accounts' preview readers.

Actions are spelled out (no `Describe*`-style families) so the grammar tests check each against IAM's action list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.iam import Statement, document, statement, trust_statement

DEPLOYER_ROLE_CHANGES = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:Update*Role*",
)
"""What would let a deployer widen its own role: its policies, its trust, its boundary, or deleting it to create it
again without one. (`iam:Update*Role*` covers UpdateRole, UpdateRoleDescription and UpdateAssumeRolePolicy; the
last is also named on its own so a reader need not expand the pattern.)"""

BOUNDARY_CHANGES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
"""What would change or remove the boundary policy itself (a new default version is a new document)."""

OIDC_PROVIDER_CHANGES = (
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
)
"""What would change who the GitHub OIDC provider vouches for (its audiences, its thumbprints, or deleting and creating
it again). Reading it (`Get`, `List`) stays allowed, so `pulumi refresh` still works; so does tagging, which changes
no trust."""

SCP_CHANGES = (
    "organizations:AttachPolicy",
    "organizations:CreatePolicy",
    "organizations:DeletePolicy",
    "organizations:DeleteResourcePolicy",
    "organizations:DetachPolicy",
    "organizations:DisablePolicyType",
    "organizations:EnablePolicyType",
    "organizations:PutResourcePolicy",
    "organizations:UpdatePolicy",
)
"""Writing, attaching or detaching organization policies (SCPs among them), switching a policy type off, and the
delegation policy that would let a member account manage them."""

STATE_POLICY_CHANGES = ("s3:DeleteBucketPolicy", "s3:PutBucketPolicy")


@dataclass(frozen=True, kw_only=True)
class Boundary:
    """What one account's deployer boundary protects."""

    deployer_role_arn: str
    boundary_arn: str
    oidc_provider_arn: str
    state_bucket_arn: str
    state_keys: str
    """The keys of the shared-services account, the state bucket's and every stack's secrets key among them
    (`arn:<partition>:kms:<region>:<account>:key/*`). A pattern, not the keys' ARNs: the boundary then does not change
    when an environment (and its secrets key) is added, which the management account's deployer could not apply to its
    own boundary. Nothing else is lost: PutKeyPolicy cannot be called across accounts anyway."""
    organization_pipeline: bool
    """The management account's deployer (the shared-services stack): it manages the SCPs, so it may change them."""


def deployer_boundary(boundary: Boundary) -> str:
    """The permissions boundary of a deployer: everything its AdministratorAccess grants, except changing the guard
    rails around it (its own role, this boundary, the GitHub OIDC provider, the SCPs, the state bucket's policy and the
    state keys' policies).

    A boundary only caps the role's own permissions: it does not stop the deployer from creating another role without
    one. The SCPs and the state policies (explicit Denies for everyone but the CI roles and break-glass) are what hold
    when it does."""
    statements: list[Statement] = [
        statement("AllowWhatTheRoleGrants", "*", "*"),
        statement("DenyChangingItsOwnRole", list(DEPLOYER_ROLE_CHANGES), boundary.deployer_role_arn, effect="Deny"),
        statement("DenyChangingThisBoundary", list(BOUNDARY_CHANGES), boundary.boundary_arn, effect="Deny"),
        statement(
            "DenyChangingTheGithubProvider", list(OIDC_PROVIDER_CHANGES), boundary.oidc_provider_arn, effect="Deny"
        ),
        statement(
            "DenyChangingTheStateBucketPolicy", list(STATE_POLICY_CHANGES), boundary.state_bucket_arn, effect="Deny"
        ),
        statement("DenyChangingTheStateKeyPolicies", "kms:PutKeyPolicy", boundary.state_keys, effect="Deny"),
    ]
    if not boundary.organization_pipeline:
        # Only the organization pipeline (the shared-services stack, in the management account) manages the SCPs, and
        # must: the management account's deployer therefore carries no such Deny. SCPs never apply to the management
        # account, so what guards that deployer is its trust (the reviewed workflow on main, in a reviewed
        # environment) and the rest of this boundary.
        statements.append(statement("DenyChangingScps", list(SCP_CHANGES), "*", effect="Deny"))
    return document(statements)


@dataclass(frozen=True, kw_only=True)
class PreviewNeeds:
    """What one stack's preview reads beyond ViewOnlyAccess."""

    state_bucket_arn: str
    state_object_arns: Sequence[str]
    """Its own stack's objects and the layout file every login reads."""
    decrypt_key_arns: Sequence[str]
    """The state bucket's key (to read the objects) and its stack's secrets key."""
    cluster_arn: str | None = None
    """Its EKS cluster (the Kubernetes provider describes it for its endpoint and certificate); None: no cluster."""
    identity_center: bool = False
    """The Identity Center lookups the shared-services program invokes."""
    member_reader_arns: Sequence[str] = ()
    """The member accounts' preview readers it may assume (the shared-services stack's providers)."""
    member_access_role_pattern: str | None = None
    """The organization's full-access role in every member account, which it may never assume."""


IDENTITY_CENTER_LOOKUPS = ("identitystore:DescribeGroup", "identitystore:GetGroupId", "sso:ListInstances")
"""`aws.ssoadmin.get_instances` (ListInstances) and `aws.identitystore.get_group` (GetGroupId by display name, then
DescribeGroup), as components/identity_center invokes them."""


def previewer_policy(needs: PreviewNeeds) -> str:
    """The previewer's inline policy: only what a `pulumi preview` of its stack reads that ViewOnlyAccess does not
    grant (ViewOnlyAccess lists and describes resources but reads no data: no object, no secret, no parameter)."""
    statements: list[Statement] = [
        statement("ListTheStateBucket", ["s3:GetBucketLocation", "s3:ListBucket"], needs.state_bucket_arn),
        statement("ReadItsState", "s3:GetObject", sorted(needs.state_object_arns)),
        statement("DecryptItsStateAndSecrets", "kms:Decrypt", sorted(needs.decrypt_key_arns)),
    ]
    if needs.cluster_arn is not None:
        statements.append(statement("DescribeItsCluster", "eks:DescribeCluster", needs.cluster_arn))
    if needs.identity_center:
        statements.append(statement("LookUpIdentityCenter", list(IDENTITY_CENTER_LOOKUPS), "*"))
    if needs.member_reader_arns:
        statements.append(statement("ReadMemberAccounts", "sts:AssumeRole", sorted(needs.member_reader_arns)))
    if needs.member_access_role_pattern is not None:
        statements.append(
            statement("NeverTheMemberAccessRole", "sts:AssumeRole", needs.member_access_role_pattern, effect="Deny")
        )
    return document(statements)


def assumed_by_role_trust(role_arn: str) -> str:
    """Trust of a role only the role `role_arn` (of another account) may assume."""
    return document([trust_statement("AssumedByOneRole", "sts:AssumeRole", principal={"AWS": role_arn})])
