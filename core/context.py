"""What every component needs to know about the stack it is built in, derived once from the config.

Everything here is a plain value known before any resource exists, so ARNs and policy documents built from it are
plain strings in the plan (and visible to the policy pack during preview), never Outputs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from core.naming import Namer
from core.settings import CommonConfig as StackConfig
from core.tags import common_tags

_PARTITIONS = (("cn-", "aws-cn", "amazonaws.com.cn"), ("us-gov-", "aws-us-gov", "amazonaws.com"))


def partition_of(region: str) -> tuple[str, str]:
    """(partition, DNS suffix) of a region, e.g. ("aws", "amazonaws.com") for eu-west-1."""
    for prefix, partition, suffix in _PARTITIONS:
        if region.startswith(prefix):
            return partition, suffix
    return "aws", "amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class StackContext:
    environment: str
    account_id: str
    region: str
    partition: str
    dns_suffix: str
    namer: Namer
    tags: dict[str, str] = field(hash=False)
    log_retention_days: int
    protect: bool

    @classmethod
    def from_config(cls, cfg: StackConfig) -> StackContext:
        partition, suffix = partition_of(cfg.region)
        return cls(
            environment=cfg.environment,
            account_id=cfg.account_id,
            region=cfg.region,
            partition=partition,
            dns_suffix=suffix,
            namer=Namer.for_stack(cfg),
            tags=common_tags(cfg),
            log_retention_days=cfg.log_retention_days,
            protect=cfg.protect_stateful,
        )

    def for_account(self, account_id: str) -> StackContext:
        """The same stack context for resources this stack creates in another account (through its provider)."""
        return dataclasses.replace(self, account_id=account_id)

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        """An ARN in this stack's partition; region and account default to the stack's (pass "" for global ones)."""
        reg = self.region if region is None else region
        acct = self.account_id if account is None else account
        return f"arn:{self.partition}:{service}:{reg}:{acct}:{resource}"

    @property
    def account_root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def managed_policy(self, name: str) -> str:
        """ARN of an AWS managed IAM policy, e.g. AmazonEKSWorkerNodePolicy or service-role/AmazonEBSCSIDriverPolicy."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    def eks_access_policy(self, name: str) -> str:
        """ARN of an EKS access policy, e.g. AmazonEKSClusterAdminPolicy."""
        return f"arn:{self.partition}:eks::aws:cluster-access-policy/{name}"

    def service_principal(self, service: str) -> str:
        """The principal of an AWS service, e.g. vpc-flow-logs.amazonaws.com."""
        return f"{service}.{self.dns_suffix}"

    def endpoint_service(self, service: str) -> str:
        """A VPC endpoint service name, e.g. com.amazonaws.eu-west-1.ecr.api."""
        reverse = ".".join(reversed(self.dns_suffix.split(".")))
        return f"{reverse}.{self.region}.{service}"
