"""Issue 13, security services and break-glass alerting: GuardDuty, AWS Config, Security Hub and IAM Access Analyzer
organisation-wide with shared-services as delegated administrator, the SCP that protects them without blocking the
pipeline that configures them, and the e-mail on every break-glass sign-in."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from components.organization.alerting import (
    WITH_READ_ONLY_EVENTS,
    console_sign_in_pattern,
    federation_pattern,
)
from components.organization.config import OrganizationConfig
from offline.mocks import Recorded
from offline.plan import Plan
from tests.iam_grammar import statements
from tests.support import shared_config
from tests.test_config_shared_services import ORGANIZATION, accepted, context, refused
from tests.test_guardrails import ADMIN_ROLE, BREAK_GLASS_ROLE, DEPLOYER, PIPELINE, denied_by, every_scp

SHARED = "shared-services"
CONFIG_SLR = "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
ORG_FEATURE = "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature"


def shared_plan(plans: dict[str, Plan]) -> Plan:
    return plans[SHARED]


def account_of(plan: Plan, resource: Recorded) -> str:
    (provider,) = [r for r in plan.resources if r.urn == resource.provider_urn]
    return json.loads(provider.inputs["allowedAccountIds"])[0]


def of(plan: Plan, typ: str) -> list[Recorded]:
    return [r for r in plan.by_type(typ) if r.name.startswith("security-services-")]


def regions() -> set[str]:
    return set(shared_config().allowed_regions)


def admin_account() -> str:
    return shared_config().environments[SHARED].account_id


# --- delegated administration -----------------------------------------------------------------------------------------


def test_shared_services_administers_every_service_from_the_management_account(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    management = shared_config().account_id
    delegated = {
        r.inputs["servicePrincipal"]: r
        for r in of(plan, "aws:organizations/delegatedAdministrator:DelegatedAdministrator")
    }
    assert set(delegated) == {"config.amazonaws.com", "access-analyzer.amazonaws.com"}
    for typ in ("aws:guardduty/organizationAdminAccount:OrganizationAdminAccount",
                "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount"):  # fmt: skip
        designations = of(plan, typ)
        assert {d.inputs["region"] for d in designations} == regions(), typ
        assert {d.inputs["adminAccountId"] for d in designations} == {admin_account()}
        assert {account_of(plan, d) for d in designations} == {management}
    for d in delegated.values():
        assert d.inputs["accountId"] == admin_account()
        assert account_of(plan, d) == management


# --- GuardDuty --------------------------------------------------------------------------------------------------------


def test_guardduty_covers_every_account_and_eks_in_every_allowed_region(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    detectors = {d.inputs["region"]: d for d in of(plan, "aws:guardduty/detector:Detector")}
    assert set(detectors) == regions()
    designations = {
        d.inputs["region"]: d for d in of(plan, "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount")
    }
    for region, detector in detectors.items():
        assert detector.inputs["enable"] is True
        assert account_of(plan, detector) == admin_account()
        # The administrator's own detector exists before the designation (which would otherwise create one).
        assert detector.urn in designations[region].dependencies
        features = {f.inputs["name"]: f for f in of(plan, "aws:guardduty/detectorFeature:DetectorFeature")
                    if f.inputs["detectorId"] == detector.outputs["id"]}  # fmt: skip
        assert set(features) == {"EKS_AUDIT_LOGS", "EKS_RUNTIME_MONITORING"}
        assert all(f.inputs["status"] == "ENABLED" for f in features.values())
        assert features["EKS_RUNTIME_MONITORING"].inputs["additionalConfigurations"] == [
            {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}
        ]
        (org,) = [o for o in of(plan, "aws:guardduty/organizationConfiguration:OrganizationConfiguration")
                  if o.inputs["detectorId"] == detector.outputs["id"]]  # fmt: skip
        assert org.inputs["autoEnableOrganizationMembers"] == "ALL"
        assert designations[region].urn in org.dependencies
        org_features = {f.inputs["name"]: f for f in of(plan, ORG_FEATURE)
                        if f.inputs["detectorId"] == detector.outputs["id"]}  # fmt: skip
        assert set(org_features) == {"EKS_AUDIT_LOGS", "EKS_RUNTIME_MONITORING"}
        assert all(f.inputs["autoEnable"] == "ALL" for f in org_features.values())
        assert org_features["EKS_RUNTIME_MONITORING"].inputs["additionalConfigurations"] == [
            {"name": "EKS_ADDON_MANAGEMENT", "autoEnable": "ALL"}
        ]


# --- AWS Config -------------------------------------------------------------------------------------------------------


def test_config_records_every_account_of_the_table_into_the_log_archive(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    cfg = shared_config()
    accounts = {p.account_id for p in cfg.environments.values()}
    bucket = plan.one("aws:s3/bucket:Bucket", "security-services-config")
    key = plan.one("aws:kms/key:Key", "security-services-config")
    assert account_of(plan, bucket) == account_of(plan, key) == admin_account()
    slrs = of(plan, "aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert {account_of(plan, r) for r in slrs} == accounts
    assert {r.inputs["awsServiceName"] for r in slrs} == {"config.amazonaws.com"}
    recorders = of(plan, "aws:cfg/recorder:Recorder")
    channels = of(plan, "aws:cfg/deliveryChannel:DeliveryChannel")
    statuses = of(plan, "aws:cfg/recorderStatus:RecorderStatus")
    expected = {(a, r) for a in accounts for r in regions()}
    for found in (recorders, channels, statuses):
        assert {(account_of(plan, x), x.inputs["region"]) for x in found} == expected
    for recorder in recorders:
        account, region = account_of(plan, recorder), recorder.inputs["region"]
        assert recorder.inputs["roleArn"] == f"arn:aws:iam::{account}:role/{CONFIG_SLR}"
        group = recorder.inputs["recordingGroup"]
        assert group["allSupported"] is True
        assert group["includeGlobalResourceTypes"] is (region == cfg.region)  # IAM recorded once
    for channel in channels:
        assert channel.inputs["s3BucketName"] == bucket.inputs["bucket"]
        assert channel.inputs["s3KmsKeyArn"] == key.outputs["arn"]
    assert all(s.inputs["isEnabled"] is True for s in statuses)
    # Each account writes under its own prefix only, and only Config of the table's accounts uses the key.
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "security-services-config").inputs["policy"])
    delivers = [st for st in statements(policy) if st["Sid"].startswith("ConfigDelivers")]
    assert {st["Condition"]["StringEquals"]["aws:SourceAccount"] for st in delivers} == accounts
    for st in delivers:
        account = st["Condition"]["StringEquals"]["aws:SourceAccount"]
        assert st["Resource"] == f"arn:aws:s3:::{bucket.inputs['bucket']}/AWSLogs/{account}/Config/*"
    (grant,) = [st for st in statements(json.loads(key.inputs["policy"])) if st["Sid"] == "ConfigEncryptsDeliveries"]
    assert set(grant["Condition"]["StringEquals"]["aws:SourceAccount"]) == accounts


def test_the_organization_aggregator_lives_in_the_delegated_administrator(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    (aggregator,) = of(plan, "aws:cfg/configurationAggregator:ConfigurationAggregator")
    assert account_of(plan, aggregator) == admin_account()
    source = aggregator.inputs["organizationAggregationSource"]
    assert set(source["regions"]) == regions()
    role = plan.one("aws:iam/role:Role", "security-services-config-aggregator")
    assert source["roleArn"] == role.outputs["arn"]
    (trust,) = statements(json.loads(role.inputs["assumeRolePolicy"]))
    assert trust["Principal"] == {"Service": "config.amazonaws.com"}
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "security-services-config-aggregator")
    assert attachment.inputs["policyArn"].endswith("service-role/AWSConfigRoleForOrganizations")
    (delegation,) = [d for d in of(plan, "aws:organizations/delegatedAdministrator:DelegatedAdministrator")
                     if d.inputs["servicePrincipal"] == "config.amazonaws.com"]  # fmt: skip
    assert delegation.urn in aggregator.dependencies


# --- Security Hub and Access Analyzer ---------------------------------------------------------------------------------


def test_security_hub_runs_foundational_best_practices_everywhere(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    cfg = shared_config()
    configurations = of(plan, "aws:securityhub/organizationConfiguration:OrganizationConfiguration")
    assert {c.inputs["region"] for c in configurations} == regions()
    for c in configurations:
        assert c.inputs["autoEnable"] is True
        assert c.inputs["autoEnableStandards"] == "DEFAULT"
        assert account_of(plan, c) == admin_account()
    standards = of(plan, "aws:securityhub/standardsSubscription:StandardsSubscription")
    assert {s.inputs["standardsArn"] for s in standards} == {
        f"arn:aws:securityhub:{r}::standards/aws-foundational-security-best-practices/v/1.0.0" for r in regions()
    }
    members = of(plan, "aws:securityhub/member:Member")
    others = {p.account_id for n, p in cfg.environments.items() if n != SHARED}
    assert {(m.inputs["accountId"], m.inputs["region"]) for m in members} == {(a, r) for a in others for r in regions()}


def test_access_analyzer_watches_the_whole_organization(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    analyzers = of(plan, "aws:accessanalyzer/analyzer:Analyzer")
    assert {a.inputs["region"] for a in analyzers} == regions()
    (delegation,) = [d for d in of(plan, "aws:organizations/delegatedAdministrator:DelegatedAdministrator")
                     if d.inputs["servicePrincipal"] == "access-analyzer.amazonaws.com"]  # fmt: skip
    for analyzer in analyzers:
        assert analyzer.inputs["type"] == "ORGANIZATION"
        assert account_of(plan, analyzer) == admin_account()
        assert delegation.urn in analyzer.dependencies


# --- the SCP protects them from everyone but break-glass and the pipeline that configures them ------------------------


PIPELINE_ACTIONS = (
    "guardduty:UpdateDetector", "guardduty:UpdateOrganizationConfiguration", "config:PutConfigurationRecorder",
    "config:PutDeliveryChannel", "config:PutConfigurationAggregator", "securityhub:UpdateOrganizationConfiguration",
    "securityhub:BatchDisableStandards", "access-analyzer:DeleteAnalyzer",
)  # fmt: skip
"""What configuring (and reconfiguring) the services takes, all of it protected for everyone else."""
SWITCH_OFF = (
    "guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount", "config:StopConfigurationRecorder",
    "config:DeleteDeliveryChannel", "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromAdministratorAccount", "access-analyzer:DeleteAnalyzer",
    "access-analyzer:CreateArchiveRule",
)  # fmt: skip


@pytest.mark.parametrize("action", sorted(set(PIPELINE_ACTIONS + SWITCH_OFF)))
def test_only_break_glass_and_the_pipeline_change_the_security_services(plans: dict[str, Plan], action: str) -> None:
    everything = every_scp(shared_plan(plans))
    assert denied_by(everything, action, "*", PIPELINE) == []
    assert denied_by(everything, action, "*", BREAK_GLASS_ROLE) == []
    assert denied_by(everything, action, "*", DEPLOYER) != []
    assert denied_by(everything, action, "*", ADMIN_ROLE) != []


def test_the_pipeline_configures_config_as_the_role_the_scp_exempts(plans: dict[str, Plan]) -> None:
    plan = shared_plan(plans)
    for recorder in of(plan, "aws:cfg/recorder:Recorder"):
        (provider,) = [r for r in plan.resources if r.urn == recorder.provider_urn]
        role = json.loads(provider.inputs["assumeRoles"])[0]["roleArn"]
        assert denied_by(every_scp(plan), "config:PutConfigurationRecorder", "*", role) == []


# --- break-glass alerting ---------------------------------------------------------------------------------------------


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge pattern matching for what the rules use: nested fields, value lists, prefix, wildcard and $or."""
    if isinstance(pattern, dict):
        if not isinstance(event, dict):
            return False
        for key, sub in pattern.items():
            if key == "$or":
                if not any(matches(alternative, event) for alternative in sub):
                    return False
            elif key not in event or not matches(sub, event[key]):
                return False
        return True
    values = event if isinstance(event, list) else [event]
    for value in values:
        for want in pattern:
            if isinstance(want, dict) and "prefix" in want and isinstance(value, str):
                if value.startswith(want["prefix"]):
                    return True
            elif isinstance(want, dict) and "wildcard" in want and isinstance(value, str):
                if fnmatch.fnmatchcase(value, want["wildcard"]):
                    return True
            elif want == value:
                return True
    return False


def federate(role_name: str) -> dict[str, Any]:
    """The CloudTrail event of an access-portal sign-in to an account's console, as EventBridge delivers it."""
    return {
        "detail-type": "AWS Service Event via CloudTrail",
        "source": "aws.sso",
        "detail": {
            "eventSource": "sso.amazonaws.com",
            "eventName": "Federate",
            "eventType": "AwsServiceEvent",
            "serviceEventDetails": {"role_name": role_name, "account_id": "210987654321"},
        },
    }


def role_credentials(role_name: str) -> dict[str, Any]:
    return {
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "sso.amazonaws.com",
            "eventName": "GetRoleCredentials",
            "readOnly": True,
            "requestParameters": {"roleName": role_name, "accountId": "210987654321"},
        },
    }


def console_login(role: str) -> dict[str, Any]:
    arn = f"arn:aws:sts::109876543210:assumed-role/{role}/someone@example.com"
    return {
        "detail-type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin",
        "detail": {"eventName": "ConsoleLogin", "userIdentity": {"type": "AssumedRole", "arn": arn}},
    }


def test_the_patterns_match_break_glass_sign_ins_and_nothing_else() -> None:
    federation = federation_pattern("BreakGlass")
    assert matches(federation, federate("BreakGlass"))
    assert matches(federation, role_credentials("BreakGlass"))
    assert matches(federation, role_credentials("AWSReservedSSO_BreakGlass_0a1b2c3d"))
    assert not matches(federation, federate("PlatformAdmin"))
    assert not matches(federation, role_credentials("BreakGlassish"))
    sign_in = console_sign_in_pattern("BreakGlass", "aws")
    assert matches(sign_in, console_login("AWSReservedSSO_BreakGlass_0a1b2c3d"))
    assert not matches(sign_in, console_login("AWSReservedSSO_PlatformAdmin_0a1b2c3d"))
    assert not matches(sign_in, console_login("platform-break-glass"))


def test_break_glass_sign_ins_are_mailed_through_an_encrypted_topic_only_eventbridge_publishes_to(
    plans: dict[str, Plan],
) -> None:
    plan = shared_plan(plans)
    cfg = shared_config()
    management = cfg.account_id
    topic = plan.one("aws:sns/topic:Topic", "break-glass-alerting-alerts")
    key = plan.one("aws:kms/key:Key", "break-glass-alerting-alerts")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert account_of(plan, topic) == management
    rules = {r.name: r for r in plan.by_type("aws:cloudwatch/eventRule:EventRule") if r.name.startswith("break-glass")}
    assert set(rules) == {"break-glass-alerting-federation", "break-glass-alerting-console-sign-in"}
    federation = rules["break-glass-alerting-federation"]
    assert json.loads(federation.inputs["eventPattern"]) == federation_pattern(cfg.break_glass_role_name)
    assert federation.inputs["state"] == WITH_READ_ONLY_EVENTS  # GetRoleCredentials is a read-only event
    sign_in = rules["break-glass-alerting-console-sign-in"]
    assert json.loads(sign_in.inputs["eventPattern"]) == console_sign_in_pattern(cfg.break_glass_role_name, "aws")
    targets = [t for t in plan.by_type("aws:cloudwatch/eventTarget:EventTarget") if t.name.startswith("break-glass")]
    assert {t.inputs["rule"] for t in targets} == {r.outputs["name"] for r in rules.values()}
    assert {t.inputs["arn"] for t in targets} == {topic.outputs["arn"]}
    # Only EventBridge, of this account, for these rules, may publish.
    (publish,) = statements(json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy", "break-glass-alerting-alerts")
                                       .inputs["policy"]))  # fmt: skip
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert publish["Resource"] == topic.outputs["arn"]
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": management}
    assert set(publish["Condition"]["ArnEquals"]["aws:SourceArn"]) == {r.outputs["arn"] for r in rules.values()}
    (uses_key,) = [
        st for st in statements(json.loads(key.inputs["policy"])) if st["Sid"] == "EventBridgeEncryptsAlerts"
    ]
    assert uses_key["Principal"] == {"Service": "events.amazonaws.com"}
    assert uses_key["Condition"] == {"StringEquals": {"aws:SourceAccount": management}}
    subscriptions = [s for s in plan.by_type("aws:sns/topicSubscription:TopicSubscription")
                     if s.name.startswith("break-glass")]  # fmt: skip
    assert {(s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions} == {
        ("email", e) for e in cfg.organization.alert_emails
    }
    assert {s.inputs["topic"] for s in subscriptions} == {topic.outputs["arn"]}


def test_alert_emails_are_required_valid_and_distinct() -> None:
    without = {k: v for k, v in ORGANIZATION.items() if k != "alertEmails"}
    assert "organization.alertEmails" in refused(OrganizationConfig, "organization", without)
    assert "at least one e-mail address" in refused(OrganizationConfig, "organization",
                                                    {**ORGANIZATION, "alertEmails": []})  # fmt: skip
    assert "an e-mail address such as" in refused(OrganizationConfig, "organization",
                                                  {**ORGANIZATION, "alertEmails": ["security"]})  # fmt: skip
    twice = ["a@example.com", "A@example.com"]
    assert "each address once" in refused(OrganizationConfig, "organization", {**ORGANIZATION, "alertEmails": twice})
    org = accepted(OrganizationConfig, "organization", ORGANIZATION, context())
    assert org.alert_emails == tuple(ORGANIZATION["alertEmails"])


def test_the_trail_retention_is_one_object_lock_accepts() -> None:
    assert "at most 36500 days" in refused(OrganizationConfig, "organization",
                                           {**ORGANIZATION, "cloudTrailRetentionDays": 40000})  # fmt: skip
