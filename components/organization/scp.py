"""Service control policies of the organization, as plain documents (pure functions, minified for upload).

SCPs are deny lists on top of the FullAWSAccess policy AWS attaches to every root and OU. They never affect the
management account, nor service-linked roles (GuardDuty, Config, Security Hub and Identity Center act through those).
The limits they must respect (Organizations quotas): 5,120 characters per document as uploaded (API saves keep
whitespace, so documents are minified) and 5 SCPs attached directly to one target, FullAWSAccess included;
`attachments_per_target()` counts them.

Who the guardrails let through (`Exemptions`), always by role ARN pattern on `aws:PrincipalArn`:
- break-glass: the Identity Center roles of the break-glass permission set
  (`role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_<set>_*`). Only Identity Center (through its service-linked
  role) creates roles under `aws-reserved/`; a `ProtectPlatformRoles` deny stops anyone else creating one there.
- the organization pipeline: the shared-services stack acts in member accounts through the role Organizations
  creates there (`memberAccessRoleName`, OrganizationAccountAccessRole), which only the management account can
  assume. It bootstraps accounts, configures the security services and owns the Pulumi state's bucket and keys.
- the CI deployer, for the public access blocks only.
Every role named in an exemption (and the previewer) is protected: no IAM change to it except by the pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.iam import break_glass_arn_pattern
from core.profiles import EnvironmentProfile, ou_layout
from core.settings import LEGACY_BREAK_GLASS_ROLE

if TYPE_CHECKING:
    from core.context import StackContext

MAX_SCP_CHARACTERS = 5120
MAX_SCPS_PER_TARGET = 5

# Global services exempted from the region restriction: the AWS reference example's list
# (aws-samples/service-control-policy-examples, Region-controls/Deny-access-to-AWS-based-on-the-requested-AWS-region)
# plus account:*.
GLOBAL_SERVICES = (
    "a4b:*", "account:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*", "budgets:*",
    "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*", "directconnect:*", "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "fms:*", "globalaccelerator:*", "health:*", "iam:*",
    "importexport:*", "kms:*", "mobileanalytics:*", "networkmanager:*", "organizations:*", "pricing:*", "route53:*",
    "route53domains:*", "route53-recovery-cluster:*", "route53-recovery-control-config:*",
    "route53-recovery-readiness:*", "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*", "shield:*", "sts:*", "support:*", "trustedadvisor:*", "waf-regional:*", "waf:*",
    "wafv2:*", "wellarchitected:*",
)  # fmt: skip

# CloudFront's access-log delivery (CloudWatch Logs v2 vended logs) is configured in us-east-1 whatever the workload
# region. These actions are allowed there as well as in the allowed regions, and nowhere else.
US_EAST_1_EDGE_ACTIONS = ("logs:*Deliver*", "logs:ListTagsForResource", "logs:TagResource", "logs:UntagResource")

# The global services the reference example requires: tests assert the region SCP exempts every one.
REQUIRED_GLOBAL_SERVICES = ("cloudfront:*", "iam:*", "organizations:*", "route53:*", "sts:*", "support:*", "kms:*")

# IAM-user actions that require MFA (sensitive: credentials, policies, users, the organization).
MFA_PROTECTED_ACTIONS = (
    "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:ChangePassword",
    "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:CreateRole",
    "iam:CreateUser", "iam:DeactivateMFADevice", "iam:DeleteAccessKey", "iam:DeleteRole", "iam:DeleteUser",
    "iam:DeleteVirtualMFADevice", "iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy",
    "iam:UpdateAccessKey", "iam:UpdateAssumeRolePolicy", "iam:UpdateLoginProfile", "organizations:*",
    "kms:ScheduleKeyDeletion", "kms:DisableKey", "s3:DeleteBucket", "ec2:TerminateInstances", "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
)  # fmt: skip

CLOUDTRAIL_ACTIONS = ("cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors", "cloudtrail:StopLogging",
                      "cloudtrail:UpdateTrail")  # fmt: skip
GUARDDUTY_ACTIONS = (
    "guardduty:CreateFilter", "guardduty:CreateIPSet", "guardduty:CreatePublishingDestination",
    "guardduty:CreateThreatIntelSet", "guardduty:DeleteDetector", "guardduty:DeleteFilter", "guardduty:DeleteIPSet",
    "guardduty:DeleteInvitations", "guardduty:DeleteMembers", "guardduty:DeletePublishingDestination",
    "guardduty:DeleteThreatIntelSet", "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount", "guardduty:DisassociateMembers", "guardduty:StopMonitoringMembers",
    "guardduty:UpdateDetector", "guardduty:UpdateFilter", "guardduty:UpdateIPSet", "guardduty:UpdateMemberDetectors",
    "guardduty:UpdateOrganizationConfiguration", "guardduty:UpdatePublishingDestination",
    "guardduty:UpdateThreatIntelSet",
)  # fmt: skip
CONFIG_ACTIONS = (
    "config:DeleteAggregationAuthorization", "config:DeleteConfigRule", "config:DeleteConfigurationAggregator",
    "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel", "config:DeleteEvaluationResults",
    "config:DeleteRetentionConfiguration", "config:DeleteServiceLinkedConfigurationRecorder",
    "config:PutConfigurationAggregator", "config:PutConfigurationRecorder", "config:PutDeliveryChannel",
    "config:PutRetentionConfiguration", "config:StopConfigurationRecorder",
)  # fmt: skip
SECURITY_HUB_ACTIONS = (
    "securityhub:BatchDisableStandards", "securityhub:DeleteMembers", "securityhub:DisableSecurityHub",
    "securityhub:DisableSecurityHubV2", "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount", "securityhub:DisassociateMembers",
    "securityhub:UpdateOrganizationConfiguration", "securityhub:UpdateSecurityHubConfiguration",
    "securityhub:UpdateStandardsControl",
)  # fmt: skip
ACCESS_ANALYZER_ACTIONS = (
    "access-analyzer:ApplyArchiveRule", "access-analyzer:CreateArchiveRule", "access-analyzer:DeleteAnalyzer",
    "access-analyzer:DeleteArchiveRule", "access-analyzer:UpdateArchiveRule",
)  # fmt: skip
"""Archive rules hide findings: creating or changing one is switching the analyzer off for what it matches."""
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")

ROLE_CHANGE_ACTIONS = (
    "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
    "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)  # fmt: skip
"""Every change to a role, its policies, its trust and its permissions boundary (creating one with the name, too)."""
POLICY_CHANGE_ACTIONS = (
    "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
)  # fmt: skip
"""Every change to a customer managed policy: a permissions boundary is changed through its policy, too."""
STATE_BUCKET_ACTIONS = ("s3:DeleteBucketPolicy", "s3:PutBucketPolicy")
STATE_KEY_ACTIONS = ("kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")
STATE_ALIAS_ACTIONS = ("kms:DeleteAlias", "kms:UpdateAlias")
"""Moving or deleting the alias would take a key out of the `kms:ResourceAliases` condition that protects it."""

_PERMISSION_SET_NAME = re.compile(r"^[\w+=,.@-]{1,32}$")


def break_glass_problem(permission_set: str) -> str | None:
    """Why `permission_set` cannot be the break-glass permission set (`breakGlassRoleName`), or None."""
    if permission_set == LEGACY_BREAK_GLASS_ROLE:
        return (
            f"breakGlassRoleName: got {permission_set!r}; allowed: the name of the IAM Identity Center permission set "
            "whose roles are the break-glass access (BreakGlass). The key used to name an IAM role no stack creates, "
            "which the SCPs exempted, so whoever could create that role escaped them; it now names the permission set "
            "(the SCPs exempt its roles, aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_<name>_*, and the alerting "
            "watches their sign-ins). Set `breakGlassRoleName: BreakGlass` in Pulumi.yaml"
        )
    if not _PERMISSION_SET_NAME.match(permission_set):
        return (
            f"breakGlassRoleName: got {permission_set!r}; allowed: an IAM Identity Center permission set name "
            "(1-32 letters, digits and +=,.@_-), the set whose roles are the break-glass access (BreakGlass)"
        )
    return None


@dataclass(frozen=True, kw_only=True)
class Exemptions:
    """Who the guardrails let through, and the roles nobody but the organization pipeline may change."""

    break_glass_permission_set: str
    """The Identity Center permission set whose roles are the emergency access (Pulumi.yaml `breakGlassRoleName`)."""
    deployer_role: str
    """The CI deployer role of every account (`deployerRoleName`)."""
    previewer_role: str
    """The read-only CI role of every account (`previewerRoleName`): protected, never exempt."""
    pipeline_role: str
    """The role the shared-services stack assumes in member accounts (`organization.memberAccessRoleName`)."""
    also_protected_roles: tuple[str, ...] = ()
    """More roles (by name) only the pipeline may change: the member accounts' preview reader."""
    protected_policies: tuple[str, ...] = ()
    """Customer managed policies (by name) only the pipeline may change: the deployers' permissions boundary."""

    def __post_init__(self) -> None:
        problem = break_glass_problem(self.break_glass_permission_set)
        if problem is not None:
            raise ValueError(problem)

    def break_glass_arn(self, partition: str) -> str:
        """Every account's Identity Center role of the break-glass permission set (`core.iam.break_glass_arn_pattern`,
        the pattern the state backend's policies use too)."""
        return break_glass_arn_pattern(partition, self.break_glass_permission_set)

    @staticmethod
    def role_arn(name: str, partition: str) -> str:
        return f"arn:{partition}:iam::*:role/{name}"

    def pipeline_arn(self, partition: str) -> str:
        return self.role_arn(self.pipeline_role, partition)

    def protected_role_arns(self, partition: str) -> list[str]:
        """The roles the exemptions name (and the previewer), in every account: only the pipeline changes them."""
        names = (self.deployer_role, self.previewer_role, self.pipeline_role, *self.also_protected_roles)
        return sorted({*(self.role_arn(n, partition) for n in names), self.break_glass_arn(partition)})

    def protected_policy_arns(self, partition: str) -> list[str]:
        return sorted({f"arn:{partition}:iam::*:policy/{name}" for name in self.protected_policies})


@dataclass(frozen=True, kw_only=True)
class ProtectedState:
    """The Pulumi state backend in the shared-services account: its bucket and the secrets keys (by alias)."""

    partition: str
    region: str
    account_id: str
    bucket_name: str
    secrets_alias_prefix: str
    """`alias/<prefix>/<stack>/pulumi-secrets`: every key whose alias starts so is a Pulumi secrets key."""

    @classmethod
    def of_state_backend(cls, shared: StackContext) -> ProtectedState:
        """The names the state backend uses (components/state), derived the same way from the shared-services
        account's context."""
        return cls(
            partition=shared.partition,
            region=shared.region,
            account_id=shared.account_id,
            bucket_name=shared.namer.physical("pulumi-state", shared.account_id, shared.region, service="s3-bucket"),
            secrets_alias_prefix=shared.namer.alias("pulumi-secrets"),
        )

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket_name}"

    @property
    def key_arn_pattern(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/*"

    @property
    def alias_pattern(self) -> str:
        return f"{self.secrets_alias_prefix}*"

    @property
    def alias_arn_pattern(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account_id}:{self.alias_pattern}"


def minify(document: Mapping[str, Any]) -> str:
    """The exact text uploaded: no whitespace, stable key order (the 5,120-character limit counts it)."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def _doc(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _except(arns: Iterable[str]) -> dict[str, Any]:
    """The condition that lets the principals of `arns` through (role ARN patterns on aws:PrincipalArn)."""
    return {"ArnNotLike": {"aws:PrincipalARN": sorted(set(arns))}}


def _except_break_glass(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """Only break-glass: the CI deployer needs no region outside the allowed ones (global services and us-east-1 edge
    actions are exempt already) and never switches CloudTrail or default encryption off."""
    return _except([exemptions.break_glass_arn(partition)])


def _except_break_glass_and_pipeline(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """Break-glass and the organization pipeline, which configures the security services and the state backend."""
    return _except([exemptions.break_glass_arn(partition), exemptions.pipeline_arn(partition)])


def region_restriction(allowed_regions: Sequence[str], exemptions: Exemptions, partition: str) -> dict[str, Any]:
    return _doc(
        [
            {
                "Sid": "DenyOutsideAllowedRegions",
                "Effect": "Deny",
                "NotAction": sorted((*GLOBAL_SERVICES, *US_EAST_1_EDGE_ACTIONS)),
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": sorted(allowed_regions)},
                    **_except_break_glass(exemptions, partition),
                },
            },
            {
                "Sid": "DenyEdgeLogDeliveryOutsideAllowedRegionsAndUsEast1",
                "Effect": "Deny",
                "Action": sorted(US_EAST_1_EDGE_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": sorted({*allowed_regions, "us-east-1"})},
                    **_except_break_glass(exemptions, partition),
                },
            },
        ]
    )


def data_protection(exemptions: Exemptions, partition: str, state: ProtectedState) -> dict[str, Any]:
    """Deny unencrypted RDS, EBS and S3 writes, and public S3: encryption at rest and no public buckets; and keep the
    Pulumi state's bucket policy and secrets keys out of everyone's hands but break-glass and the pipeline.

    The public access blocks are set by the CI deployer (environment stacks) and by the organization pipeline, which
    bootstraps accounts as the member access role (`memberAccessRoleName`) before any deployer exists.

    `rds:StorageEncrypted` exists only on the create and restore-from-S3 actions (Service Authorization Reference).
    Restores from a snapshot or to a point in time carry no such key, so a deny on them would never match: they
    inherit the source's encryption, and the platform's databases and their snapshots are always encrypted."""
    return _doc(
        [
            {
                "Sid": "DenyUnencryptedRds",
                "Effect": "Deny",
                "Action": [
                    "rds:CreateDBCluster",
                    "rds:CreateDBInstance",
                    "rds:RestoreDBClusterFromS3",
                    "rds:RestoreDBInstanceFromS3",
                ],
                "Resource": "*",
                "Condition": {"Bool": {"rds:StorageEncrypted": "false"}},
            },
            {
                "Sid": "DenyUnencryptedEbs",
                "Effect": "Deny",
                "Action": "ec2:CreateVolume",
                "Resource": "*",
                "Condition": {"Bool": {"ec2:Encrypted": "false"}},
            },
            {
                "Sid": "DenyDisablingEbsEncryptionByDefault",
                "Effect": "Deny",
                "Action": "ec2:DisableEbsEncryptionByDefault",
                "Resource": "*",
                "Condition": _except_break_glass(exemptions, partition),
            },
            {
                # Only uploads that explicitly ask for something else than KMS. A negated operator is true when the
                # key is absent, so the Null test (header present) is what keeps uploads that send no header, and
                # rely on the bucket's default encryption, working.
                "Sid": "DenyNonKmsS3Uploads",
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": ["aws:kms", "aws:kms:dsse"]},
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                },
            },
            {
                "Sid": "DenyChangingPublicAccessBlocks",
                "Effect": "Deny",
                "Action": ["s3:PutAccountPublicAccessBlock", "s3:PutBucketPublicAccessBlock"],
                "Resource": "*",
                "Condition": _except(
                    [
                        exemptions.break_glass_arn(partition),
                        exemptions.role_arn(exemptions.deployer_role, partition),
                        exemptions.pipeline_arn(partition),
                    ]
                ),
            },
            {
                "Sid": "DenyPublicAcls",
                "Effect": "Deny",
                "Action": ["s3:CreateBucket", "s3:PutBucketAcl", "s3:PutObject", "s3:PutObjectAcl"],
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": list(PUBLIC_ACLS)}},
            },
            {
                "Sid": "ProtectStateBucketPolicy",
                "Effect": "Deny",
                "Action": list(STATE_BUCKET_ACTIONS),
                "Resource": state.bucket_arn,
                "Condition": _except_break_glass_and_pipeline(exemptions, partition),
            },
            {
                # kms:ResourceAliases (PutKeyPolicy, DisableKey, ScheduleKeyDeletion all support it): every key one of
                # whose aliases is a Pulumi secrets alias, however many stacks have one.
                "Sid": "ProtectStateKeys",
                "Effect": "Deny",
                "Action": list(STATE_KEY_ACTIONS),
                "Resource": state.key_arn_pattern,
                "Condition": {
                    "ForAnyValue:StringLike": {"kms:ResourceAliases": state.alias_pattern},
                    **_except_break_glass_and_pipeline(exemptions, partition),
                },
            },
            {
                "Sid": "ProtectStateKeyAliases",
                "Effect": "Deny",
                "Action": list(STATE_ALIAS_ACTIONS),
                "Resource": state.alias_arn_pattern,
                "Condition": _except_break_glass_and_pipeline(exemptions, partition),
            },
        ]
    )


def account_baseline(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """Stay in the organization, no root user, MFA for IAM users' sensitive actions, and the platform's roles changed
    only by the organization pipeline.

    `ProtectPlatformRoles` covers every role an exemption names (deployer, break-glass, the pipeline's own), the
    previewer and the roles of `also_protected_roles`: nobody creates, changes, re-trusts, re-bounds or deletes one of
    them but the pipeline, so an exemption cannot be obtained by creating or editing a role of that name.
    `ProtectPlatformPolicies` does the same for the customer managed policies of `protected_policies` (the deployers'
    permissions boundary: editing it is changing the boundary). Identity Center manages its AWSReservedSSO roles
    through a service-linked role, which SCPs do not restrict.

    The MFA statement applies only to principals of type User (IAM users): Identity Center sessions and CI roles are
    assumed roles, whose sessions carry no aws:MultiFactorAuthPresent key, so a blanket BoolIfExists deny would lock
    them out. People get MFA at the IdP and in Identity Center; IAM users, which should not exist, need it here.
    """
    return _doc(
        [
            {"Sid": "DenyLeavingOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization",
             "Resource": "*"},
            {
                "Sid": "DenyRootUser",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:{partition}:iam::*:root"}},
            },
            {
                "Sid": "RequireMfaForIamUsers",
                "Effect": "Deny",
                "Action": sorted(MFA_PROTECTED_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                    "StringEquals": {"aws:PrincipalType": "User"},
                },
            },
            {
                "Sid": "ProtectPlatformRoles",
                "Effect": "Deny",
                "Action": sorted(ROLE_CHANGE_ACTIONS),
                "Resource": exemptions.protected_role_arns(partition),
                "Condition": _except([exemptions.pipeline_arn(partition)]),
            },
            *(
                [
                    {
                        "Sid": "ProtectPlatformPolicies",
                        "Effect": "Deny",
                        "Action": sorted(POLICY_CHANGE_ACTIONS),
                        "Resource": exemptions.protected_policy_arns(partition),
                        "Condition": _except([exemptions.pipeline_arn(partition)]),
                    }
                ]
                if exemptions.protected_policies
                else []
            ),
        ]
    )  # fmt: skip


def security_services(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """CloudTrail, GuardDuty, Config, Security Hub and IAM Access Analyzer cannot be switched off or changed.

    CloudTrail: nobody but break-glass (the organization trail lives in the management account). The others: nobody
    but break-glass and the organization pipeline, which configures them (Config recorders in every account, the
    delegated administrator's detector, organization configuration, standards and analyzer). What the services do on
    their own (enabling members, the GuardDuty EKS agent) runs as their service-linked roles, outside SCPs."""
    services = _except_break_glass_and_pipeline(exemptions, partition)
    return _doc(
        [
            {"Sid": "ProtectCloudTrail", "Effect": "Deny", "Action": list(CLOUDTRAIL_ACTIONS), "Resource": "*",
             "Condition": _except_break_glass(exemptions, partition)},
            {"Sid": "ProtectGuardDuty", "Effect": "Deny", "Action": list(GUARDDUTY_ACTIONS), "Resource": "*",
             "Condition": services},
            {"Sid": "ProtectConfig", "Effect": "Deny", "Action": list(CONFIG_ACTIONS), "Resource": "*",
             "Condition": services},
            {"Sid": "ProtectSecurityHub", "Effect": "Deny", "Action": list(SECURITY_HUB_ACTIONS), "Resource": "*",
             "Condition": services},
            {"Sid": "ProtectAccessAnalyzer", "Effect": "Deny", "Action": list(ACCESS_ANALYZER_ACTIONS),
             "Resource": "*", "Condition": services},
        ]
    )  # fmt: skip


def sandbox_cost_guard(denied_instance_types: Sequence[str]) -> dict[str, Any]:
    """Sandbox only: no expensive instance families (GPU, accelerators, very large memory).

    `ec2:InstanceType` exists on RunInstances and CreateFleet but not on the legacy RequestSpotInstances, whose
    instances the EC2 Spot service-linked role launches (out of the SCP's reach). That API is denied outright in the
    sandbox: Karpenter uses CreateFleet, and AWS recommends against RequestSpotInstances."""
    return _doc(
        [
            {
                "Sid": "DenyExpensiveInstanceTypes",
                "Effect": "Deny",
                "Action": ["ec2:CreateFleet", "ec2:RunInstances"],
                "Resource": "*",
                "Condition": {"StringLike": {"ec2:InstanceType": sorted(denied_instance_types)}},
            },
            {"Sid": "DenyLegacySpotRequests", "Effect": "Deny", "Action": "ec2:RequestSpotInstances", "Resource": "*"},
            {
                "Sid": "DenyExpensiveDatabases",
                "Effect": "Deny",
                "Action": ["rds:CreateDBInstance", "rds:ModifyDBInstance"],
                "Resource": "*",
                "Condition": {"StringLike": {"rds:DatabaseClass": ["db.*.8xlarge", "db.*.12xlarge", "db.*.16xlarge",
                                                                  "db.*.24xlarge", "db.*.32xlarge", "db.*.48xlarge"]}},
            },
        ]
    )  # fmt: skip


@dataclass(frozen=True)
class Scp:
    name: str
    description: str
    document: dict[str, Any]
    targets: tuple[str, ...]
    """Organizational units (by name, see `core.profiles.ou_layout`) the policy is attached to directly."""

    @property
    def content(self) -> str:
        return minify(self.document)


def top_level_ous(profiles: Mapping[str, EnvironmentProfile]) -> tuple[str, ...]:
    """The OUs directly under the organization root, from the profiles' OU paths."""
    return tuple(name for name, parent in ou_layout(profiles).items() if parent is None)


def sandbox_ous(profiles: Mapping[str, EnvironmentProfile]) -> tuple[str, ...]:
    """The OUs of the environments whose profile says `sandbox: true`: the sandbox cost guard's targets."""
    return tuple(dict.fromkeys(p.ou_name for p in profiles.values() if p.sandbox))


def organization_scps(
    *,
    allowed_regions: Sequence[str],
    exemptions: Exemptions,
    partition: str,
    sandbox_denied_types: Sequence[str],
    profiles: Mapping[str, EnvironmentProfile],
    state: ProtectedState,
) -> list[Scp]:
    """The SCPs and the OUs each is attached to: the guardrails on every top-level OU (so on every account below),
    the cost guard on the OUs of sandbox environments. `profiles`: the environment table (Pulumi.yaml
    `environments`, as the stack's configuration holds it); `state`: the Pulumi state backend to protect."""
    top = top_level_ous(profiles)
    return [
        Scp("region-restriction", "Deny requests outside the allowed regions (global services exempt)",
            region_restriction(allowed_regions, exemptions, partition), top),
        Scp("data-protection", "Deny unencrypted RDS/EBS/S3 writes, public S3, changes to the Pulumi state's policies",
            data_protection(exemptions, partition, state), top),
        Scp("account-baseline", "Stay in the organization, no root user, MFA for IAM users, platform roles untouched",
            account_baseline(exemptions, partition), top),
        Scp("security-services", "Protect CloudTrail, GuardDuty, Config, Security Hub and IAM Access Analyzer",
            security_services(exemptions, partition), top),
        Scp("sandbox-cost-guard", "Sandbox: deny expensive instance and database classes",
            sandbox_cost_guard(sandbox_denied_types), sandbox_ous(profiles)),
    ]  # fmt: skip


def attachments_per_target(scps: Sequence[Scp], ous: Iterable[str]) -> dict[str, int]:
    """Direct attachments per OU, counting the FullAWSAccess policy AWS attaches to every OU. `ous`: every OU of the
    organisation (`core.profiles.ou_layout` of the environment table)."""
    counts = dict.fromkeys(ous, 1)
    for scp in scps:
        for target in scp.targets:
            counts[target] += 1
    return counts
