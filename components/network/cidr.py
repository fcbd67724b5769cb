"""The subnet plan of a VPC: a pure function of the VPC block and its availability zones.

Layout of a /16 (sizes scale with the VPC prefix):

    first three quarters (/18 each)    private workload subnets, one per AZ. The VPC CNI gives every pod a VPC
                                       address, so these are large (16,379 usable addresses each).
    last quarter (/18), split in /20s:
        1st /20                        public subnets, one /24 per AZ (load balancers and NAT gateways only)
        2nd /20                        isolated database subnets, one /24 per AZ (no route to the internet)
        3rd and 4th /20                unallocated, kept for a later tier (e.g. transit-gateway attachments)

A subnet's block depends only on its AZ's position in the list, so appending an AZ never moves existing subnets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

TIERS = ("private", "public", "database")
MAX_AZS = 3


@dataclass(frozen=True)
class SubnetPlan:
    vpc: IPv4Network
    private: dict[str, IPv4Network]
    public: dict[str, IPv4Network]
    database: dict[str, IPv4Network]

    def tiers(self) -> dict[str, dict[str, IPv4Network]]:
        return {"private": self.private, "public": self.public, "database": self.database}

    def all_blocks(self) -> list[IPv4Network]:
        return [net for tier in self.tiers().values() for net in tier.values()]


def plan_subnets(vpc_cidr: str, azs: Sequence[str]) -> SubnetPlan:
    vpc = IPv4Network(vpc_cidr)
    if not 1 <= len(azs) <= MAX_AZS:
        raise ValueError(f"a subnet plan needs 1 to {MAX_AZS} availability zones, got {len(azs)}: {list(azs)}")
    if len(set(azs)) != len(azs):
        raise ValueError(f"availability zones must be distinct, got {list(azs)}")
    if vpc.prefixlen > 20:
        raise ValueError(f"the VPC block must be /20 or larger to hold three tiers, got {vpc}")

    quarters = list(vpc.subnets(prefixlen_diff=2))
    small_tiers = list(quarters[3].subnets(prefixlen_diff=2))
    public_block, database_block = small_tiers[0], small_tiers[1]
    small_prefix = vpc.prefixlen + 8

    def per_az(block: IPv4Network, prefix: int) -> dict[str, IPv4Network]:
        subnets = block.subnets(new_prefix=prefix)
        return {az: next(subnets) for az in azs}

    return SubnetPlan(
        vpc=vpc,
        private={az: quarters[i] for i, az in enumerate(azs)},
        public=per_az(public_block, small_prefix),
        database=per_az(database_block, small_prefix),
    )
