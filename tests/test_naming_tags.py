from __future__ import annotations

import pytest

from core.naming import Namer, PhysicalNameError, check
from core.tags import REQUIRED_TAG_KEYS, common_tags, merge_tags
from tests.support import stack_config


def test_physical_names_are_stack_aware() -> None:
    assert Namer("plat", "prod").physical("flow-logs") == "plat-prod-flow-logs"
    assert Namer("plat", "stg").physical("flow-logs") == "plat-stg-flow-logs"
    assert Namer("plat", "prod").log_group("vpc", "flow-logs") == "/plat/prod/vpc/flow-logs"
    assert Namer("plat", "prod").alias("flow-logs") == "alias/plat/prod/flow-logs"


def test_names_over_the_service_limit_are_refused_with_the_limit() -> None:
    namer = Namer("platform", "a-long-stack-name-xx")
    with pytest.raises(PhysicalNameError, match="load-balancer names allow at most 32"):
        namer.physical("ingress-public", service="load-balancer")
    assert Namer("plat", "prod").physical("ingress-public", service="load-balancer") == "plat-prod-ingress-public"


def test_invalid_characters_are_refused() -> None:
    with pytest.raises(PhysicalNameError, match="not a valid s3-bucket name"):
        check("Plat_Prod", "s3-bucket")
    with pytest.raises(PhysicalNameError, match="unknown naming service"):
        check("x", "nope")


def test_common_tags_carry_every_required_key() -> None:
    tags = common_tags(stack_config("sandbox"))
    assert set(REQUIRED_TAG_KEYS) <= set(tags)
    assert tags["Environment"] == "sandbox"
    assert tags["ManagedBy"] == "pulumi"
    assert tags["DataClassification"] == "non-production"


def test_merge_order_is_common_then_component_then_name() -> None:
    merged = merge_tags({"Owner": "a", "Project": "p"}, {"Tier": "public"}, "plat-prod-x")
    assert list(merged) == ["Owner", "Project", "Tier", "Name"]
    assert merged["Name"] == "plat-prod-x"


def test_component_tags_cannot_override_reserved_ones() -> None:
    with pytest.raises(ValueError, match="reserved"):
        merge_tags({"Owner": "a"}, {"Owner": "b"})
