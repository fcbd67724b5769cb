"""The recording mocks refuse what the Pulumi engine refuses, and every stack registers nothing it would refuse."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from core.component import PlatformComponent
from offline.mocks import EngineRuleError, PlatformMocks, RecordingMonitor, engine_urn, run_under_mocks
from offline.plan import Plan
from tests.conftest import STACKS

COMPONENT = "aws-platform:platform:"


def _run(body: Callable[[], None], config: dict[str, str] | None = None) -> None:
    run_under_mocks(body, project="p", stack="s", config=config or {}, account_id="111122223333", region="eu-west-1")


def _rules(body: Callable[[], None], config: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(EngineRuleError) as refused:
        _run(body, config)
    return [rule for rule, _ in refused.value.violations]


class _Thing(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__(f"{COMPONENT}Thing", name, None)
        aws.sqs.Queue("queue", opts=pulumi.ResourceOptions(parent=self))


class _Named(PlatformComponent):
    def __init__(self, name: str, legacy_aliases: bool = True) -> None:
        super().__init__(f"{COMPONENT}Named", name, legacy_aliases=legacy_aliases)
        aws.sqs.Queue(self.child_name("queue"), opts=self.child_opts("queue"))


def test_two_components_with_same_child_names_collide_as_in_the_engine() -> None:
    def body() -> None:
        _Thing("one")
        _Thing("two")

    assert _rules(body) == ["duplicate-urn"]


def test_children_named_after_their_component_coexist() -> None:
    def body() -> None:
        _Named("one", legacy_aliases=True)
        _Named("two", legacy_aliases=False)

    _run(body)


def test_two_resources_claiming_one_alias_are_refused() -> None:
    def body() -> None:
        _Named("one")
        _Named("two")  # both alias ...Named$aws:sqs/queue:Queue::queue

    assert _rules(body) == ["duplicate-alias"]


def test_an_explicit_provider_of_another_package_ends_on_the_disabled_default_provider() -> None:
    def body() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        k8s.core.v1.Namespace("ns", metadata={"name": "ns"}, opts=pulumi.ResourceOptions(provider=provider))

    config = {"pulumi:disable-default-providers": json.dumps(["aws", "kubernetes"])}
    assert _rules(body, config) == ["default-provider-disabled"]


def test_a_provider_reference_of_another_package_is_refused() -> None:
    monitor = RecordingMonitor(PlatformMocks(account_id="111122223333", region="eu-west-1"))
    provider_urn = "urn:pulumi:s::p::pulumi:providers:aws::aws"
    monitor._registered.add(provider_urn)
    monitor._check_provider("urn:pulumi:s::p::kubernetes:core/v1:Namespace::ns", "kubernetes", f"{provider_urn}::id")
    monitor._check_provider(
        "urn:pulumi:s::p::aws:sqs/queue:Queue::q", "aws", "urn:pulumi:s::p::pulumi:providers:aws::x::id"
    )
    assert [rule for rule, _ in monitor.violations] == ["provider-package", "unknown-provider"]


def test_a_resource_without_provider_is_refused_when_default_providers_are_disabled() -> None:
    def body() -> None:
        aws.sqs.Queue("queue")

    config = {"pulumi:disable-default-providers": json.dumps(["aws", "kubernetes"])}
    assert _rules(body, config) == ["default-provider-disabled"]


def test_urns_are_the_engines() -> None:
    stack_urn = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    component = engine_urn("s", "p", stack_urn, "a:b:C", "c")
    assert component == "urn:pulumi:s::p::a:b:C::c"
    child = engine_urn("s", "p", component, "aws:sqs/queue:Queue", "q")
    assert child == "urn:pulumi:s::p::a:b:C$aws:sqs/queue:Queue::q"
    grandchild = engine_urn("s", "p", child, "x:y:Z", "z")
    assert grandchild == "urn:pulumi:s::p::a:b:C$aws:sqs/queue:Queue$x:y:Z::z"


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_of_a_platform_component_is_named_after_it(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    components = {r.urn: r for r in plan.resources if r.type.startswith(COMPONENT)}
    children = [(r, components[r.parent]) for r in plan.resources if r.parent is not None and r.parent in components]
    assert len(children) > 50
    for child, parent in children:
        assert child.name.startswith(f"{parent.name}-"), child.urn
        key = child.name.removeprefix(f"{parent.name}-")
        aliases = child.options["aliases"]
        if aliases:  # the pre-prefix name, so stacks deployed before the convention keep the resource
            assert any(alias.endswith(f"::{key}") for alias in aliases), child.urn


def test_shared_services_has_two_distinct_account_baselines(plans: dict[str, Plan]) -> None:
    blocks = plans["shared-services"].by_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    assert sorted(b.name for b in blocks) == ["account-baseline-account", "account-baseline-shared-services-account"]
    assert len({b.inputs["accountId"] for b in blocks}) == 2
