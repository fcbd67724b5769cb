"""Property tests of the subnet plan: blocks inside the VPC, no overlaps, one per AZ per tier, stable per AZ."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.network.cidr import TIERS, plan_subnets

AZ_NAMES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


@st.composite
def vpc_blocks(draw: st.DrawFn) -> str:
    """Any private block of /16 to /20 inside the RFC 1918 ranges."""
    base = draw(
        st.sampled_from([IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/16")])
    )
    prefix = draw(st.integers(min_value=max(16, base.prefixlen), max_value=20))
    count = 2 ** (prefix - base.prefixlen)
    index = draw(st.integers(min_value=0, max_value=count - 1))
    return (
        str(list(base.subnets(new_prefix=prefix))[index])
        if count <= 4096
        else str(IPv4Network((int(base.network_address) + index * 2 ** (32 - prefix), prefix)))
    )


azs_lists = st.integers(min_value=1, max_value=3).flatmap(lambda n: st.permutations(AZ_NAMES).map(lambda p: p[:n]))


@given(vpc=vpc_blocks(), azs=azs_lists)
def test_every_block_is_inside_the_vpc_and_none_overlap(vpc: str, azs: list[str]) -> None:
    plan = plan_subnets(vpc, azs)
    blocks = plan.all_blocks()
    assert all(b.subnet_of(plan.vpc) for b in blocks)
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"


@given(vpc=vpc_blocks(), azs=azs_lists)
def test_one_subnet_per_az_per_tier(vpc: str, azs: list[str]) -> None:
    plan = plan_subnets(vpc, azs)
    for tier in TIERS:
        assert list(plan.tiers()[tier]) == list(azs)


@given(vpc=vpc_blocks())
def test_adding_an_az_never_moves_existing_subnets(vpc: str) -> None:
    two = plan_subnets(vpc, AZ_NAMES[:2])
    three = plan_subnets(vpc, AZ_NAMES)
    for tier in TIERS:
        for az, block in two.tiers()[tier].items():
            assert three.tiers()[tier][az] == block


def test_production_layout_of_a_16() -> None:
    plan = plan_subnets("10.10.0.0/16", AZ_NAMES)
    assert [str(b) for b in plan.private.values()] == ["10.10.0.0/18", "10.10.64.0/18", "10.10.128.0/18"]
    assert [str(b) for b in plan.public.values()] == ["10.10.192.0/24", "10.10.193.0/24", "10.10.194.0/24"]
    assert [str(b) for b in plan.database.values()] == ["10.10.208.0/24", "10.10.209.0/24", "10.10.210.0/24"]
    # Pods get VPC addresses: each private subnet must hold thousands of them.
    assert all(b.num_addresses - 5 >= 16_000 for b in plan.private.values())


@pytest.mark.parametrize(
    ("vpc", "azs", "message"),
    [
        ("10.0.0.0/16", [], "1 to 3"),
        ("10.0.0.0/16", [*AZ_NAMES, "eu-west-1d"], "1 to 3"),
        ("10.0.0.0/16", ["eu-west-1a", "eu-west-1a"], "distinct"),
        ("10.0.0.0/24", AZ_NAMES, "/20 or larger"),
    ],
)
def test_impossible_plans_are_refused(vpc: str, azs: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_subnets(vpc, azs)
