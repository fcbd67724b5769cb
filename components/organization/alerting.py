"""BreakGlassAlerting: e-mail `organization.alertEmails` whenever someone signs in with the break-glass permission set.

Creates, in the management account and the stack's region (the IAM Identity Center instance's home region):
- a customer key, and an SNS topic encrypted with it; the topic policy lets only EventBridge rules of this account
  publish (aws:SourceAccount and aws:SourceArn), the key policy lets only EventBridge of this account use the key;
- an e-mail subscription per address (each address confirms it once, from the message AWS sends);
- two EventBridge rules on the default bus, each targeting the topic:
  - `break-glass-federation`: the IAM Identity Center events of a break-glass sign-in to any account of the
    organisation: `Federate` (the access portal opens an account's console; CloudTrail records the permission set
    in `serviceEventDetails.role_name`, delivered as "AWS Service Event via CloudTrail") and `GetRoleCredentials`
    (the portal or the CLI takes the set's credentials; `requestParameters.roleName`, a read-only API call, so the
    rule's state also admits read-only management events: `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`);
  - `break-glass-console-sign-in`: CloudTrail's "AWS Console Sign In via CloudTrail" `ConsoleLogin` of an
    `AWSReservedSSO_<set>_*` session, for a sign-in that reaches this account's own event bus.

Identity Center records its events in the management account, in its home region; a console sign-in is recorded in
the account signed in to, so in a member account only the Identity Center events see it (both name the set).
Sources: EventBridge User Guide, "AWS service events delivered via AWS CloudTrail" (the detail types) and "Receiving
read-only management events from AWS services" (the rule state); CloudTrail User Guide, "AWS Management Console
sign-in events"; IAM Identity Center User Guide, "Logging IAM Identity Center API calls with AWS CloudTrail".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from core import iam
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:BreakGlassAlerting"

WITH_READ_ONLY_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
"""An EventBridge rule state that also matches read-only management events (GetRoleCredentials is one)."""


def role_names(permission_set: str) -> list[Any]:
    """How the break-glass set appears in Identity Center's events: its name, or its role's (AWSReservedSSO_<set>_*)."""
    return [permission_set, {"prefix": f"AWSReservedSSO_{permission_set}_"}]


def federation_pattern(permission_set: str) -> dict[str, Any]:
    """Identity Center hands out a session of the break-glass set, to the console (Federate) or as credentials."""
    names = role_names(permission_set)
    return {
        "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"],
        "detail": {
            "$or": [
                {"eventName": ["Federate"], "serviceEventDetails": {"role_name": names}},
                {"eventName": ["GetRoleCredentials"], "requestParameters": {"roleName": names}},
            ]
        },
    }


def console_sign_in_pattern(permission_set: str, partition: str) -> dict[str, Any]:
    """A console sign-in whose session is a break-glass role's."""
    session = f"arn:{partition}:sts::*:assumed-role/AWSReservedSSO_{permission_set}_*/*"
    return {
        # The spelling events carry, and the one the EventBridge User Guide's list prints.
        "detail-type": ["AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail"],
        "detail": {"eventName": ["ConsoleLogin"], "userIdentity": {"arn": [{"wildcard": session}]}},
    }


@dataclass(frozen=True, kw_only=True)
class BreakGlassAlertingArgs:
    ctx: StackContext
    """Context of the management account (the stack's)."""
    permission_set: str
    """The break-glass permission set (Pulumi.yaml `breakGlassRoleName`)."""
    emails: Sequence[str]
    """Who is told (`organization.alertEmails`)."""


class BreakGlassAlerting(PlatformComponent):
    topic_arn: str

    def __init__(self, name: str, args: BreakGlassAlertingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # New in issue 13: nothing was ever deployed under older names, so no legacy aliases.
        super().__init__(TYPE, name, opts, legacy_aliases=False)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        rules = {
            "federation": (federation_pattern(args.permission_set), WITH_READ_ONLY_EVENTS,
                           "Break-glass sign-in through IAM Identity Center (any account)"),
            "console-sign-in": (console_sign_in_pattern(args.permission_set, ctx.partition), "ENABLED",
                                "Break-glass console sign-in recorded in this account"),
        }  # fmt: skip
        rule_names = {key: ctx.namer.physical("break-glass", key, service="eventbridge-rule") for key in rules}
        topic_name = ctx.namer.physical("break-glass-alerts", service="sns")
        self.topic_arn = ctx.arn("sns", topic_name)
        events = {"Service": ctx.service_principal("events")}
        from_this_account = {"aws:SourceAccount": ctx.account_id}

        alerts_key = customer_key(
            self,
            "alerts",
            ctx=ctx,
            description=f"{ctx.namer.base} break-glass alerts (SNS)",
            policy=iam.kms_key_policy(
                ctx,
                [
                    iam.statement(
                        "EventBridgeEncryptsAlerts",
                        ["kms:Decrypt", "kms:GenerateDataKey*"],
                        principal=events,
                        condition={"StringEquals": from_this_account},
                    )
                ],
            ),
            tags=merge_tags(ctx.tags, None, ctx.namer.physical("break-glass-alerts")),
            alias=ctx.namer.alias("break-glass-alerts"),
        )
        topic = aws.sns.Topic(
            self.child_name("alerts"),
            name=topic_name,
            display_name="Break-glass sign-in",
            kms_master_key_id=alerts_key.arn,
            tags=merge_tags(ctx.tags, None, topic_name),
            opts=child,
        )
        aws.sns.TopicPolicy(
            self.child_name("alerts"),
            arn=topic.arn,
            policy=iam.document(
                [
                    iam.statement(
                        "EventBridgeRulesPublish",
                        "sns:Publish",
                        self.topic_arn,
                        principal=events,
                        condition={
                            "StringEquals": from_this_account,
                            "ArnEquals": {
                                "aws:SourceArn": sorted(ctx.arn("events", f"rule/{n}") for n in rule_names.values())
                            },
                        },
                    )
                ]
            ),
            opts=child,
        )
        for email in args.emails:
            subscription = f"alerts-{_slug(email)}"
            aws.sns.TopicSubscription(
                self.child_name(subscription), topic=topic.arn, protocol="email", endpoint=email, opts=child
            )
        for key, (pattern, state, description) in rules.items():
            rule = aws.cloudwatch.EventRule(
                self.child_name(key),
                name=rule_names[key],
                description=description,
                event_pattern=json.dumps(pattern, sort_keys=True),
                state=state,
                tags=merge_tags(ctx.tags, None, rule_names[key]),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                self.child_name(key), rule=rule.name, target_id="break-glass-alerts", arn=topic.arn, opts=child
            )
        self.register_outputs({"topicArn": self.topic_arn})


def _slug(email: str) -> str:
    """A stable logical-name key for an address (its subscription is replaced only if the address changes)."""
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")
