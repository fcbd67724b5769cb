"""The state bucket's and the state keys' policies (pure functions).

Who may do what with a stack's state is decided here, per stack:
- its deployer reads, writes and deletes its own objects (components/state/layout.py) and encrypts and decrypts with its
  own secrets key; its previewer only reads those objects and only decrypts;
- every CI role may list the bucket and read the layout file (`.pulumi/meta.yaml`), and use the bucket's key through
  S3 (the objects are encrypted with it; which objects a role reaches is the bucket policy's business);
- everyone else, break-glass excepted, is explicitly denied the data actions: the bucket's objects (reading, writing,
  deleting, their versions, tags and ACLs) and the keys' cryptographic operations. An explicit Deny also holds
  against the IAM policies of the shared-services account itself (PowerUser engineers, the organization's access
  role), which a key policy's account statement and a bucket's same-account access would otherwise honour.
  Administering the bucket and keys (their policies, rotation, tags, listing the bucket) is not denied here: that is
  the SCPs' job, so the account can still manage them.

Principals are named by account and pinned with `aws:PrincipalArn` (core/iam.py `roles_statement`), so the policies do
not wait for the roles to exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from components.state.layout import META, stack_object_arns
from core.iam import Statement, account_of_arn, deny_others_statement, partition_of_arn, roles_statement, statement

OBJECT_DATA_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject*",
    "s3:GetObject*",
    "s3:ListMultipartUploadParts",
    "s3:PutObject*",
    "s3:RestoreObject",
)
"""Reading, writing and deleting objects, their versions, tags and ACLs."""
# Listing the bucket is not denied: it shows key names (stack names), never state, and the provider that administers
# the bucket needs it (HeadBucket is authorised as s3:ListBucket, and the bucket resource reads itself with it).
KEY_DATA_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
"""The cryptographic operations, and grants (which hand them to another principal)."""
DEPLOYER_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
DEPLOYER_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*")


@dataclass(frozen=True, kw_only=True)
class StackRoles:
    """The CI roles of one stack."""

    deployer: str
    previewer: str
    bootstrap: str | None = None
    """The role that runs a workload stack's first `up` by hand (the organization's member access role of its
    account, assumable only from the management account): it writes the state like the deployer until CI takes over."""

    @property
    def writers(self) -> list[str]:
        return [self.deployer, *([self.bootstrap] if self.bootstrap else [])]

    @property
    def both(self) -> list[str]:
        """Every role of the stack: its writers and its previewer."""
        return [*self.writers, self.previewer]


def _sid(stack: str) -> str:
    return "".join(part.capitalize() for part in stack.split("-"))


def ci_roles(stacks: Mapping[str, StackRoles]) -> list[str]:
    return sorted({arn for roles in stacks.values() for arn in roles.both})


def _accounts(stacks: Mapping[str, StackRoles]) -> list[str]:
    return sorted({account_of_arn(arn) for arn in ci_roles(stacks)})


def _name_patterns(stacks: Mapping[str, StackRoles]) -> list[str]:
    """The deployers' and previewers' ARNs in any account (`arn:<partition>:iam::*:role/<name>`): exact once the
    account is pinned. The bootstrap roles are named exactly instead: their name exists in accounts (the management
    account's, if any) whose role must stay denied."""
    named = {arn for roles in stacks.values() for arn in (roles.deployer, roles.previewer)}
    patterns = {re.sub(r"^(arn:[^:]+:iam::)\d{12}(:role/.+)$", r"\1*\2", arn) for arn in named}
    return sorted(patterns | {roles.bootstrap for roles in stacks.values() if roles.bootstrap})


def bucket_statements(
    bucket_arn: str, *, project: str, stacks: Mapping[str, StackRoles], break_glass: str
) -> list[Statement]:
    """The state bucket's statements (besides the TLS-only Deny every bucket has).

    What every CI role may do is granted once, to the CI accounts with the roles' names (`pulumi-deployer` in an account
    that is a CI account is that account's deployer); the Deny is two statements whose exemptions intersect to exactly
    the CI roles (a CI role name AND a CI account) plus break-glass. So the policy grows by the two per-stack statements
    only: S3 caps a bucket policy at 20 KB."""
    accounts, names = _accounts(stacks), _name_patterns(stacks)
    roots = sorted(f"arn:{partition_of_arn(bucket_arn)}:iam::{account}:root" for account in accounts)
    ci = {"ArnLike": {"aws:PrincipalArn": names}}
    found: list[Statement] = [
        statement("CiRolesList", ["s3:GetBucketLocation", "s3:ListBucket"], bucket_arn, principal={"AWS": roots},
                  condition=ci),
        statement("CiRolesReadTheLayout", "s3:GetObject", f"{bucket_arn}/{META}", principal={"AWS": roots},
                  condition=ci),
    ]  # fmt: skip
    for stack, roles in stacks.items():
        objects = stack_object_arns(bucket_arn, project, stack)
        writes = list(DEPLOYER_OBJECT_ACTIONS)
        found.append(roles_statement(f"{_sid(stack)}DeployerWrites", writes, objects, roles.writers))
        found.append(roles_statement(f"{_sid(stack)}PreviewerReads", "s3:GetObject", objects, [roles.previewer]))
    data, objects = list(OBJECT_DATA_ACTIONS), f"{bucket_arn}/*"
    found += [
        deny_others_statement("DenyDataToOtherRoles", data, objects, [*names, break_glass]),
        statement(
            "DenyDataToOtherAccounts",
            data,
            objects,
            effect="Deny",
            principal={"AWS": "*"},
            condition={
                "StringNotEquals": {"aws:PrincipalAccount": accounts},
                "ArnNotLike": {"aws:PrincipalArn": break_glass},
            },
        ),
    ]
    return found


def bucket_key_statements(*, stacks: Mapping[str, StackRoles], break_glass: str, s3_service: str) -> list[Statement]:
    """The bucket key's statements (besides the account's administration): the CI roles use it through S3 only."""
    deployers = sorted(arn for roles in stacks.values() for arn in roles.writers)
    previewers = sorted(roles.previewer for roles in stacks.values())
    via_s3 = {"StringEquals": {"kms:ViaService": s3_service}}
    return [
        roles_statement("DeployersUseKeyThroughS3", list(DEPLOYER_KEY_ACTIONS), "*", deployers, condition=via_s3),
        roles_statement("PreviewersDecryptThroughS3", "kms:Decrypt", "*", previewers, condition=via_s3),
        deny_others_statement("DenyKeyUseToOthers", list(KEY_DATA_ACTIONS), "*", [*ci_roles(stacks), break_glass]),
    ]


def secrets_key_statements(roles: StackRoles, *, break_glass: str) -> list[Statement]:
    """One stack's secrets key (the `awskms://` secrets provider): its deployer encrypts and decrypts, its previewer
    decrypts, nobody else but break-glass uses it."""
    return [
        roles_statement("DeployerEncryptsSecrets", list(DEPLOYER_KEY_ACTIONS), "*", roles.writers),
        roles_statement("PreviewerDecryptsSecrets", "kms:Decrypt", "*", [roles.previewer]),
        deny_others_statement("DenySecretsToOthers", list(KEY_DATA_ACTIONS), "*", [*roles.both, break_glass]),
    ]
