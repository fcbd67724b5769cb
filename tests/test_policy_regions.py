"""Region guardrails (policy/guardrails/regions.py): provider region, per-resource `region` (pulumi-aws v7) and AZs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tests.policy_support import cant_run, judge, reported, unknown

REGIONS = "allowed-regions"
ZONES = "allowed-availability-zones"

Body = Callable[[pulumi.ResourceOptions], Any]


def vpc(opts: pulumi.ResourceOptions, region: pulumi.Input[str] | None = None) -> aws.ec2.Vpc:
    return aws.ec2.Vpc("main", cidr_block="10.0.0.0/16", region=region, opts=opts)


def certificate(opts: pulumi.ResourceOptions, region: str | None = None) -> aws.acm.Certificate:
    return aws.acm.Certificate("cdn", domain_name="www.example.com", validation_method="DNS", region=region, opts=opts)


def names(judged_urns: list[str]) -> list[str]:
    return sorted(urn.rsplit("::", 1)[-1] for urn in judged_urns)


# ---------------------------------------------------------------------------------------------------------------------
# Provider region


def test_provider_in_a_region_outside_the_list_is_rejected_with_its_resources() -> None:
    judged = judge(vpc, region="us-west-2")
    message = reported(judged, REGIONS)
    assert "'aws' (pulumi:providers:aws): AWS provider region is not allowed; got \"us-west-2\"" in message
    assert "Vpc 'main' (aws:ec2/vpc:Vpc): its provider 'aws' deploys to a region that is not allowed" in message
    assert "Fix: use one of eu-west-1, eu-central-1" in message
    assert names([d.urn for d in judged.of(REGIONS)]) == ["aws", "main"]


@pytest.mark.parametrize("region", ["eu-west-1", "eu-central-1"])
def test_provider_and_resources_in_allowed_regions_pass(region: str) -> None:
    assert judge(vpc, region=region).of(REGIONS) == []


def test_allowed_regions_come_from_config() -> None:
    config = {"all": "mandatory", REGIONS: {"allowedRegions": ["us-west-2"]}}
    assert judge(vpc, region="us-west-2", config=config).of(REGIONS) == []
    assert 'got "eu-west-1"' in reported(judge(vpc, region="eu-west-1", config=config), REGIONS)


def test_provider_without_an_explicit_region_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    message = reported(judge(lambda opts: aws.Provider("ambient")), REGIONS)
    assert "'ambient' (pulumi:providers:aws): AWS provider has no explicit region" in message
    assert "got null" in message


# ---------------------------------------------------------------------------------------------------------------------
# Per-resource region input (pulumi-aws v7)


def test_resource_region_outside_the_list_is_rejected() -> None:
    message = reported(judge(lambda opts: vpc(opts, region="ap-southeast-2")), REGIONS)
    assert "Vpc 'main' (aws:ec2/vpc:Vpc): resource region is not allowed; got \"ap-southeast-2\"" in message
    assert "Fix:" in message


def test_resource_region_overrides_the_provider_region() -> None:
    assert judge(lambda opts: vpc(opts, region="eu-central-1"), region="eu-west-1").of(REGIONS) == []


def test_unknown_resource_region_makes_the_check_advisory_during_preview() -> None:
    judged = judge(lambda opts: vpc(opts, region=unknown()), preview=True)
    assert ".region can't be known during preview" in cant_run(judged, REGIONS)


# ---------------------------------------------------------------------------------------------------------------------
# us-east-1 exceptions (CloudFront's certificate, WebACL, ...)


def test_us_east_1_provider_admits_an_acm_certificate_but_not_a_vpc() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        certificate(opts)
        vpc(opts)

    judged = judge(body, region="us-east-1")
    message = reported(judged, REGIONS)
    assert "Vpc 'main' (aws:ec2/vpc:Vpc): its provider 'aws' deploys to a region that is not allowed" in message
    assert 'got "us-east-1"' in message
    assert names([d.urn for d in judged.of(REGIONS)]) == ["main"]  # neither the certificate nor the provider


def test_us_east_1_region_input_admits_an_acm_certificate_but_not_a_vpc() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        certificate(opts, region="us-east-1")
        vpc(opts, region="us-east-1")

    judged = judge(body)
    assert "Vpc 'main' (aws:ec2/vpc:Vpc): resource region is not allowed" in reported(judged, REGIONS)
    assert names([d.urn for d in judged.of(REGIONS)]) == ["main"]


def test_us_east_1_types_come_from_config() -> None:
    config = {"all": "mandatory", REGIONS: {"usEast1Types": []}}
    judged = judge(lambda opts: certificate(opts, region="us-east-1"), config=config)
    assert "Certificate 'cdn' (aws:acm/certificate:Certificate): resource region is not allowed" in reported(
        judged, REGIONS
    )


# ---------------------------------------------------------------------------------------------------------------------
# Availability zones


def subnet(zone: str) -> Body:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ec2.Subnet("private-a", vpc_id="vpc-0123", cidr_block="10.0.0.0/20", availability_zone=zone, opts=opts)

    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            subnet("us-west-2a"),
            "Subnet 'private-a' (aws:ec2/subnet:Subnet): availability zone is in a region that is not allowed; "
            'got "us-west-2a"',
            id="subnet",
        ),
        pytest.param(
            lambda opts: aws.rds.Cluster(
                "db", engine="aurora-postgresql", availability_zones=["eu-west-1a", "ap-south-1b"], opts=opts
            ),
            "Cluster 'db' (aws:rds/cluster:Cluster): availability zone is in a region that is not allowed; got \"ap-",
            id="rds-cluster-zone-list",
        ),
    ],
)
def test_zone_of_another_region_is_rejected(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), ZONES)


@pytest.mark.parametrize("zone", ["eu-west-1b", "eu-central-1c", "euw1-az1"])
def test_zones_of_allowed_regions_and_zone_ids_pass(zone: str) -> None:
    assert judge(subnet(zone)).of(ZONES) == []


def test_zone_check_follows_allowed_regions_config() -> None:
    config = {"all": "mandatory", ZONES: {"allowedRegions": ["us-west-2"]}}
    assert judge(subnet("us-west-2a"), config=config).of(ZONES) == []
    assert 'got "eu-west-1b"' in reported(judge(subnet("eu-west-1b"), config=config), ZONES)


def test_unknown_zone_makes_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.ec2.Subnet("private-a", vpc_id="vpc-0123", cidr_block="10.0.0.0/20", availability_zone=unknown(), opts=opts)

    assert ".availabilityZone can't be known during preview" in cant_run(judge(body, preview=True), ZONES)
