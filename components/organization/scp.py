"""Service control policies of the organization, as plain documents (pure functions, minified for upload).

SCPs are deny lists on top of the FullAWSAccess policy AWS attaches to every root and OU. They never affect the
management account. The limits they must respect (Organizations quotas): 5,120 characters per document as uploaded
(API saves keep whitespace, so documents are minified) and 5 SCPs attached directly to one target, FullAWSAccess
included; `attachments()` keeps every OU within that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.profiles import EnvironmentProfile, Profiles, ou_layout

_PROJECT_ROOT = Path(__file__).resolve().parents[2]

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
    "guardduty:DeleteThreatIntelSet", "guardduty:DisassociateFromMasterAccount", "guardduty:DisassociateMembers",
    "guardduty:StopMonitoringMembers", "guardduty:UpdateDetector", "guardduty:UpdateFilter", "guardduty:UpdateIPSet",
    "guardduty:UpdatePublishingDestination", "guardduty:UpdateThreatIntelSet",
)  # fmt: skip
CONFIG_ACTIONS = (
    "config:DeleteAggregationAuthorization", "config:DeleteConfigRule", "config:DeleteConfigurationAggregator",
    "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel", "config:DeleteEvaluationResults",
    "config:DeleteRetentionConfiguration", "config:PutConfigurationRecorder", "config:PutDeliveryChannel",
    "config:PutRetentionConfiguration", "config:StopConfigurationRecorder",
)  # fmt: skip
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")


@dataclass(frozen=True, kw_only=True)
class Exemptions:
    """Roles (by name, in any account of the organization) the guardrails do not stop."""

    break_glass_role: str
    platform_role: str

    def principal_arns(self, partition: str) -> list[str]:
        return [
            f"arn:{partition}:iam::*:role/{self.break_glass_role}",
            f"arn:{partition}:iam::*:role/{self.platform_role}",
        ]


def minify(document: Mapping[str, Any]) -> str:
    """The exact text uploaded: no whitespace, stable key order (the 5,120-character limit counts it)."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def _doc(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _except(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """Exempt the break-glass role and the platform (CI deployer) role: only for the public-access-block rule, which
    the deployer must be able to set."""
    return {"ArnNotLike": {"aws:PrincipalARN": exemptions.principal_arns(partition)}}


def _except_break_glass(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """Exempt only the break-glass role: the CI deployer needs no region outside the allowed ones (global services
    and us-east-1 edge actions are exempt already) and never switches security services or default encryption off."""
    return {"ArnNotLike": {"aws:PrincipalARN": [f"arn:{partition}:iam::*:role/{exemptions.break_glass_role}"]}}


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


def data_protection(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """Deny unencrypted RDS, EBS and S3 writes, and public S3: encryption at rest and no public buckets.

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
                "Condition": _except(exemptions, partition),
            },
            {
                "Sid": "DenyPublicAcls",
                "Effect": "Deny",
                "Action": ["s3:CreateBucket", "s3:PutBucketAcl", "s3:PutObject", "s3:PutObjectAcl"],
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": list(PUBLIC_ACLS)}},
            },
        ]
    )


def account_baseline(partition: str) -> dict[str, Any]:
    """Stay in the organization, no root user, MFA for IAM users' sensitive actions.

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
        ]
    )  # fmt: skip


def security_services(exemptions: Exemptions, partition: str) -> dict[str, Any]:
    """CloudTrail, GuardDuty and Config cannot be switched off or changed, except by the break-glass role."""
    return _doc(
        [
            {"Sid": "ProtectCloudTrail", "Effect": "Deny", "Action": list(CLOUDTRAIL_ACTIONS), "Resource": "*",
             "Condition": _except_break_glass(exemptions, partition)},
            {"Sid": "ProtectGuardDuty", "Effect": "Deny", "Action": list(GUARDDUTY_ACTIONS), "Resource": "*",
             "Condition": _except_break_glass(exemptions, partition)},
            {"Sid": "ProtectConfig", "Effect": "Deny", "Action": list(CONFIG_ACTIONS), "Resource": "*",
             "Condition": _except_break_glass(exemptions, partition)},
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


def project_profiles() -> dict[str, EnvironmentProfile]:
    """The project's own environment table (Pulumi.yaml `environments`), for callers that pass none (tests, tools).
    The program passes the table its configuration holds."""
    project = yaml.safe_load((_PROJECT_ROOT / "Pulumi.yaml").read_text())
    table = project["config"]["environments"]["value"]
    return dict(Profiles.model_validate({"environments": table}).environments)


def organization_scps(
    *,
    allowed_regions: Sequence[str],
    exemptions: Exemptions,
    partition: str,
    sandbox_denied_types: Sequence[str],
    profiles: Mapping[str, EnvironmentProfile] | None = None,
) -> list[Scp]:
    """The SCPs and the OUs each is attached to: the guardrails on every top-level OU (so on every account below),
    the cost guard on the OUs of sandbox environments. `profiles`: the environment table (default: the project's)."""
    table = project_profiles() if profiles is None else profiles
    top = top_level_ous(table)
    return [
        Scp("region-restriction", "Deny requests outside the allowed regions (global services exempt)",
            region_restriction(allowed_regions, exemptions, partition), top),
        Scp("data-protection", "Deny unencrypted RDS/EBS/S3 writes and public S3",
            data_protection(exemptions, partition), top),
        Scp("account-baseline", "Stay in the organization, no root user, MFA for IAM users",
            account_baseline(partition), top),
        Scp("security-services", "Protect CloudTrail, GuardDuty and Config",
            security_services(exemptions, partition), top),
        Scp("sandbox-cost-guard", "Sandbox: deny expensive instance and database classes",
            sandbox_cost_guard(sandbox_denied_types), sandbox_ous(table)),
    ]  # fmt: skip


def attachments_per_target(scps: Sequence[Scp], ous: Iterable[str] | None = None) -> dict[str, int]:
    """Direct attachments per OU, counting the FullAWSAccess policy AWS attaches to every OU. `ous`: every OU of the
    organisation (default: those of the project's environment table)."""
    counts = dict.fromkeys(ou_layout(project_profiles()) if ous is None else ous, 1)
    for scp in scps:
        for target in scp.targets:
            counts[target] += 1
    return counts
