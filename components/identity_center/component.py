"""IdentityCenter: permission sets and who gets them where.

Creates, in the Identity Center instance of the organization (looked up; the IdP connection to Okta or Entra and
SCIM provisioning are made once in the console, see the README):
- the five permission sets of `permission_sets` with their session durations, AWS managed policies and inline
  policies (developers write only in the accounts of environments whose profile says `sandbox: true`; platform
  engineers and developers are denied the self-escalations: EKS access entries and Pod Identity, RDS master secrets,
  sessions on the instances of accounts whose profile says `production: true`, Lambda with another role);
- account assignments of IdP groups (display names from config, looked up in the identity store) per environment
  account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.identity_center.config import IdentityCenterConfig
from components.identity_center.permission_sets import permission_sets
from components.organization.config import OrganizationConfig
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:IdentityCenter"


@dataclass(frozen=True, kw_only=True)
class IdentityCenterArgs:
    ctx: StackContext
    config: IdentityCenterConfig
    organization: OrganizationConfig


class IdentityCenter(PlatformComponent):
    permission_set_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: IdentityCenterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        ctx, cfg = args.ctx, args.config
        invoke = pulumi.InvokeOutputOptions(parent=self)
        instances = aws.ssoadmin.get_instances_output(opts=invoke)
        instance_arn = instances.arns.apply(lambda arns: arns[0])
        identity_store = instances.identity_store_ids.apply(lambda ids: ids[0])

        group_ids: dict[str, pulumi.Output[str]] = {}
        for group in sorted({g for groups in cfg.groups.values() for g in groups}):
            found = aws.identitystore.get_group_output(
                identity_store_id=identity_store,
                alternate_identifier=aws.identitystore.GetGroupAlternateIdentifierArgs(
                    unique_attribute=aws.identitystore.GetGroupAlternateIdentifierUniqueAttributeArgs(
                        attribute_path="DisplayName", attribute_value=group
                    )
                ),
                opts=invoke,
            )
            group_ids[group] = found.group_id

        self.permission_set_arns = {}
        organization = args.organization
        sandbox_ids = [organization.accounts[name].id for name, p in organization.profiles.items() if p.sandbox]
        production_ids = [organization.accounts[name].id for name, p in organization.profiles.items() if p.production]
        for pset in permission_sets(sandbox_ids, production_ids, partition=ctx.partition):
            resource = aws.ssoadmin.PermissionSet(
                self.child_name(pset.name),
                name=pset.name,
                description=pset.description,
                instance_arn=instance_arn,
                session_duration=pset.session_duration,
                tags=merge_tags(ctx.tags, None, ctx.namer.physical(f"ps-{pset.name}")),
                opts=self.child_opts(pset.name),
            )
            for policy in pset.managed_policies:
                aws.ssoadmin.ManagedPolicyAttachment(
                    self.child_name(f"{pset.name}-{policy}"),
                    instance_arn=instance_arn,
                    permission_set_arn=resource.arn,
                    managed_policy_arn=ctx.managed_policy(policy),
                    opts=self.child_opts(f"{pset.name}-{policy}"),
                )
            inline = pset.inline_document()
            if inline is not None:
                aws.ssoadmin.PermissionSetInlinePolicy(
                    self.child_name(f"{pset.name}-inline"),
                    instance_arn=instance_arn,
                    permission_set_arn=resource.arn,
                    inline_policy=inline,
                    opts=self.child_opts(f"{pset.name}-inline"),
                )
            self.permission_set_arns[pset.name] = resource.arn
            for account_key in cfg.assignments.get(pset.name, ()):
                account = args.organization.accounts[account_key]
                for group in cfg.groups[pset.name]:
                    slug = group.lower().replace(" ", "-")
                    key = f"{pset.name}-{account_key}-{slug}"
                    aws.ssoadmin.AccountAssignment(
                        self.child_name(key),
                        instance_arn=instance_arn,
                        permission_set_arn=resource.arn,
                        principal_type="GROUP",
                        principal_id=group_ids[group],
                        target_type="AWS_ACCOUNT",
                        target_id=account.id,
                        opts=self.child_opts(key),
                    )
        self.register_outputs({"permissionSetArns": self.permission_set_arns})
