"""SecurityServices: GuardDuty, AWS Config, Security Hub and IAM Access Analyzer for the whole organisation, with the
shared-services account as their delegated administrator.

Creates, in every allowed region (pulumi-aws v7's per-resource `region`, through the same providers):
- in the management account: the delegated administrator of AWS Config and of IAM Access Analyzer (Organizations,
  global), the GuardDuty and Security Hub organization admin account (per region), and Security Hub enabled, as the
  provider documents for designating a Security Hub administrator;
- in the delegated administrator: a GuardDuty detector with EKS audit logs and EKS runtime monitoring (the agent
  add-on managed by GuardDuty), and the organization configuration enabling GuardDuty and both features in every
  account, present and future (`ALL`); Security Hub with AWS Foundational Security Best Practices, the organization
  configuration auto-enabling new accounts with the default standards, and every other account of the profiles table
  as a member; an ORGANIZATION analyzer of IAM Access Analyzer; in the home region, the organization's Config
  aggregator (over the allowed regions) and its role, and the Config delivery bucket and key of the log archive;
- in every account of the profiles table (through its member provider): AWS Config's service-linked role and, per
  region, a configuration recorder (every supported resource type; global ones in the home region only), a delivery
  channel into the log archive's Config bucket, and the recorder started.

Every account is an account of the profiles table (Pulumi.yaml `environments`), so a new environment gets all of it
without an edit here. The organization pipeline configures these services as the member access role; the
security-services SCP lets it (and break-glass) and nobody else change them. The services' own work (enabling members,
the GuardDuty agent, Config's recording) runs as their service-linked roles, which SCPs do not restrict.

Trusted access for Config (`config.amazonaws.com`) and Access Analyzer (`access-analyzer.amazonaws.com`) must be
enabled in Organizations before the first `up` (the bootstrap runbook); GuardDuty and Security Hub enable theirs when
the admin account is designated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.organization.config import OrganizationConfig
from core import iam
from core.blocks import customer_key
from core.buckets import secure_bucket
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:SecurityServices"

GUARDDUTY_EKS_FEATURES = ("EKS_AUDIT_LOGS", "EKS_RUNTIME_MONITORING")
"""GuardDuty's EKS protection: the control plane's audit logs, and the runtime agent on the nodes."""
GUARDDUTY_AGENT_MANAGEMENT = "EKS_ADDON_MANAGEMENT"
"""EKS runtime monitoring's additional configuration: GuardDuty installs and updates its agent add-on itself."""
FSBP = "aws-foundational-security-best-practices/v/1.0.0"
"""The Security Hub standard every account runs (among the default standards)."""
CONFIG_SERVICE = "config.amazonaws.com"
ACCESS_ANALYZER_SERVICE = "access-analyzer.amazonaws.com"
CONFIG_ROLE_PATH = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
"""AWS Config's service-linked role in each account: the recorder runs as it (outside SCPs)."""


@dataclass(frozen=True, kw_only=True)
class SecurityServicesArgs:
    ctx: StackContext
    """Context of the management account (the stack's)."""
    config: OrganizationConfig
    """The accounts (the profiles table) and the log retention."""
    regions: Sequence[str]
    """Where the services run: the organisation's allowed regions (the stack's own region is the home region)."""
    member_providers: Mapping[str, pulumi.ProviderResource]
    """Environment name -> the provider of its account (the member access role)."""
    delegated_admin: str
    """The environment whose account administers the services (the shared-services one)."""


@dataclass(frozen=True)
class ConfigDelivery:
    """Where every account's Config delivers: the log archive's bucket and key, and what must exist first."""

    bucket_name: str
    key_arn: pulumi.Output[str]
    ready: list[pulumi.Resource]


class SecurityServices(PlatformComponent):
    detector_ids: dict[str, pulumi.Output[str]]
    """Region -> the delegated administrator's GuardDuty detector."""
    config_bucket: str
    aggregator_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecurityServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx, cfg = args.ctx, args.config
        if args.delegated_admin not in cfg.accounts:
            raise ValueError(f"delegated administrator {args.delegated_admin!r} is not an environment of the table")
        admin_account = cfg.accounts[args.delegated_admin].id
        admin = ctx.for_account(admin_account)
        admin_provider = args.member_providers[args.delegated_admin]
        regions = [ctx.region, *sorted(r for r in set(args.regions) if r != ctx.region)]

        # Organizations: the delegated administrators registered once, for every region.
        delegations = {
            service: aws.organizations.DelegatedAdministrator(
                self.child_name(f"{key}-admin"),
                account_id=admin_account,
                service_principal=service,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for key, service in (("config", CONFIG_SERVICE), ("access-analyzer", ACCESS_ANALYZER_SERVICE))
        }

        self.detector_ids = {}
        for region in regions:
            self.detector_ids[region] = self._guardduty(admin, admin_account, admin_provider, region)
            self._security_hub(ctx, cfg, admin_account, admin_provider, region, args.delegated_admin)
            aws.accessanalyzer.Analyzer(
                self.child_name(f"access-analyzer-{region}"),
                analyzer_name=ctx.namer.physical("organization"),
                type="ORGANIZATION",
                region=region,
                tags=self._tags(admin, "organization-analyzer"),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=admin_provider, depends_on=[delegations[ACCESS_ANALYZER_SERVICE]]
                ),
            )

        delivery = self._config_delivery(admin, cfg, admin_provider)
        self.config_bucket = delivery.bucket_name
        for environment, account in cfg.accounts.items():
            self._config_recorders(
                ctx.for_account(account.id), environment, args.member_providers[environment], regions, delivery
            )
        self.aggregator_arn = self._config_aggregator(
            admin, admin_provider, regions, depends_on=[delegations[CONFIG_SERVICE]]
        )
        self.register_outputs(
            {"detectorIds": self.detector_ids, "configBucket": self.config_bucket, "aggregatorArn": self.aggregator_arn}
        )

    @staticmethod
    def _tags(ctx: StackContext, name: str) -> dict[str, str]:
        return merge_tags(ctx.tags, None, ctx.namer.physical(name))

    def _guardduty(
        self,
        admin: StackContext,
        admin_account: str,
        admin_provider: pulumi.ProviderResource,
        region: str,
    ) -> pulumi.Output[str]:
        """The administrator's detector (before the designation, which would otherwise create one the detector then
        collides with), the designation, and the organization configuration: every account, both EKS features."""
        in_admin = pulumi.ResourceOptions(parent=self, provider=admin_provider)
        key = f"guardduty-{region}"
        detector = aws.guardduty.Detector(
            self.child_name(key),
            enable=True,
            finding_publishing_frequency="FIFTEEN_MINUTES",
            region=region,
            tags=self._tags(admin, "guardduty"),
            opts=in_admin,
        )
        for feature in GUARDDUTY_EKS_FEATURES:
            extra = (
                [
                    aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                        name=GUARDDUTY_AGENT_MANAGEMENT, status="ENABLED"
                    )
                ]
                if feature == "EKS_RUNTIME_MONITORING"
                else None
            )
            aws.guardduty.DetectorFeature(
                self.child_name(f"{key}-{feature.lower().replace('_', '-')}"),
                detector_id=detector.id,
                name=feature,
                status="ENABLED",
                additional_configurations=extra,
                region=region,
                opts=in_admin,
            )
        designation = aws.guardduty.OrganizationAdminAccount(
            self.child_name(f"guardduty-admin-{region}"),
            admin_account_id=admin_account,
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[detector]),
        )
        organization = aws.guardduty.OrganizationConfiguration(
            self.child_name(key),
            detector_id=detector.id,
            auto_enable_organization_members="ALL",
            region=region,
            opts=pulumi.ResourceOptions(parent=self, provider=admin_provider, depends_on=[designation]),
        )
        for feature in GUARDDUTY_EKS_FEATURES:
            extra_org = (
                [
                    aws.guardduty.OrganizationConfigurationFeatureAdditionalConfigurationArgs(
                        name=GUARDDUTY_AGENT_MANAGEMENT, auto_enable="ALL"
                    )
                ]
                if feature == "EKS_RUNTIME_MONITORING"
                else None
            )
            aws.guardduty.OrganizationConfigurationFeature(
                self.child_name(f"{key}-organization-{feature.lower().replace('_', '-')}"),
                detector_id=detector.id,
                name=feature,
                auto_enable="ALL",
                additional_configurations=extra_org,
                region=region,
                opts=pulumi.ResourceOptions(parent=self, provider=admin_provider, depends_on=[organization]),
            )
        return detector.id

    def _security_hub(
        self,
        ctx: StackContext,
        cfg: OrganizationConfig,
        admin_account: str,
        admin_provider: pulumi.ProviderResource,
        region: str,
        delegated_admin: str,
    ) -> None:
        """Security Hub in the management account (the provider's documented prerequisite of the designation) and in
        the administrator (before the designation, which would otherwise enable it first), the designation, the
        organization configuration (new accounts: enabled, default standards), FSBP in the administrator, and every
        other account of the table as a member (auto-enable only reaches accounts that join later)."""
        management = aws.securityhub.Account(
            self.child_name(f"securityhub-management-{region}"),
            enable_default_standards=True,
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        hub = aws.securityhub.Account(
            self.child_name(f"securityhub-{region}"),
            enable_default_standards=False,
            region=region,
            opts=pulumi.ResourceOptions(parent=self, provider=admin_provider),
        )
        aws.securityhub.StandardsSubscription(
            self.child_name(f"securityhub-{region}-fsbp"),
            standards_arn=f"arn:{ctx.partition}:securityhub:{region}::standards/{FSBP}",
            region=region,
            opts=pulumi.ResourceOptions(parent=self, provider=admin_provider, depends_on=[hub]),
        )
        designation = aws.securityhub.OrganizationAdminAccount(
            self.child_name(f"securityhub-admin-{region}"),
            admin_account_id=admin_account,
            region=region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[management, hub]),
        )
        aws.securityhub.OrganizationConfiguration(
            self.child_name(f"securityhub-{region}"),
            auto_enable=True,
            auto_enable_standards="DEFAULT",
            region=region,
            opts=pulumi.ResourceOptions(parent=self, provider=admin_provider, depends_on=[designation]),
        )
        for environment, account in cfg.accounts.items():
            if environment == delegated_admin:
                continue
            aws.securityhub.Member(
                self.child_name(f"securityhub-{region}-member-{environment}"),
                account_id=account.id,
                invite=False,
                region=region,
                opts=pulumi.ResourceOptions(parent=self, provider=admin_provider, depends_on=[designation]),
            )

    def _config_delivery(
        self, admin: StackContext, cfg: OrganizationConfig, provider: pulumi.ProviderResource
    ) -> ConfigDelivery:
        """The log archive's Config bucket and key (home region): each account's Config writes only under its own
        `AWSLogs/<account>/Config/` prefix. Kept as long as the trail's logs."""
        config = {"Service": admin.service_principal("config")}
        accounts = sorted(a.id for a in cfg.accounts.values())
        from_accounts = {"StringEquals": {"aws:SourceAccount": accounts[0] if len(accounts) == 1 else accounts}}
        key = customer_key(
            self,
            "config",
            ctx=admin,
            description=f"{admin.namer.base} AWS Config delivery (log archive)",
            policy=iam.kms_key_policy(
                admin,
                [
                    iam.statement(
                        "ConfigEncryptsDeliveries",
                        ["kms:Decrypt", "kms:GenerateDataKey"],
                        principal=config,
                        condition=from_accounts,
                    )
                ],
            ),
            tags=self._tags(admin, "config"),
            alias=admin.namer.alias("config"),
            provider=provider,
        )
        bucket_name = admin.namer.physical("config", admin.account_id, admin.region, service="s3-bucket")
        bucket_arn = f"arn:{admin.partition}:s3:::{bucket_name}"
        bucket = secure_bucket(
            self,
            "config",
            ctx=admin,
            bucket_name=bucket_name,
            kms_key_arn=key.arn,
            statements=[
                iam.statement("ConfigChecksBucketAcl", "s3:GetBucketAcl", bucket_arn, principal=config,
                              condition=from_accounts),
                iam.statement("ConfigChecksBucketExists", "s3:ListBucket", bucket_arn, principal=config,
                              condition=from_accounts),
                *(
                    iam.statement(
                        f"ConfigDelivers{account}",
                        "s3:PutObject",
                        f"{bucket_arn}/AWSLogs/{account}/Config/*",
                        principal=config,
                        condition={
                            "StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"}
                        },
                    )
                    for account in accounts
                ),
            ],
            expire_days=cfg.cloudtrail_retention_days,
            protect=admin.protect,
            provider=provider,
        )  # fmt: skip
        return ConfigDelivery(bucket_name=bucket_name, key_arn=key.arn, ready=[bucket.policy, key])

    def _config_recorders(
        self,
        account: StackContext,
        environment: str,
        provider: pulumi.ProviderResource,
        regions: Sequence[str],
        delivery: ConfigDelivery,
    ) -> None:
        """AWS Config in one account: its service-linked role, then per region a recorder, a delivery channel into the
        log archive and the recorder started. Global resource types (IAM) are recorded in the home region only."""
        in_account = pulumi.ResourceOptions(parent=self, provider=provider)
        role = aws.iam.ServiceLinkedRole(
            self.child_name(f"config-{environment}"),
            aws_service_name=CONFIG_SERVICE,
            tags=self._tags(account, "config"),
            opts=in_account,
        )
        role_arn = f"arn:{account.partition}:iam::{account.account_id}:role/{CONFIG_ROLE_PATH}"
        name = account.namer.physical("config")
        for region in regions:
            key = f"config-{environment}-{region}"
            recorder = aws.cfg.Recorder(
                self.child_name(key),
                name=name,
                role_arn=role_arn,
                recording_group=aws.cfg.RecorderRecordingGroupArgs(
                    all_supported=True, include_global_resource_types=region == account.region
                ),
                region=region,
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[role]),
            )
            channel = aws.cfg.DeliveryChannel(
                self.child_name(key),
                name=name,
                s3_bucket_name=delivery.bucket_name,
                s3_kms_key_arn=delivery.key_arn,
                region=region,
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[recorder, *delivery.ready]),
            )
            aws.cfg.RecorderStatus(
                self.child_name(key),
                name=name,
                is_enabled=True,
                region=region,
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[channel]),
            )

    def _config_aggregator(
        self,
        admin: StackContext,
        provider: pulumi.ProviderResource,
        regions: Sequence[str],
        *,
        depends_on: Sequence[pulumi.Resource],
    ) -> pulumi.Output[str]:
        """The organization aggregator in the delegated administrator, over the allowed regions, and the role Config
        reads the organization through (AWSConfigRoleForOrganizations)."""
        role = aws.iam.Role(
            self.child_name("config-aggregator"),
            name=admin.namer.physical("config-aggregator", service="iam-role"),
            description="AWS Config reads the organization's accounts for the organization aggregator",
            assume_role_policy=iam.service_trust(admin, "config"),
            tags=self._tags(admin, "config-aggregator"),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        attachment = aws.iam.RolePolicyAttachment(
            self.child_name("config-aggregator"),
            role=role.name,
            policy_arn=admin.managed_policy("service-role/AWSConfigRoleForOrganizations"),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        aggregator = aws.cfg.ConfigurationAggregator(
            self.child_name("config-aggregator"),
            name=admin.namer.physical("organization"),
            organization_aggregation_source=aws.cfg.ConfigurationAggregatorOrganizationAggregationSourceArgs(
                regions=list(regions), role_arn=role.arn
            ),
            tags=self._tags(admin, "config-aggregator"),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[attachment, *depends_on]),
        )
        return aggregator.arn
