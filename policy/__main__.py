"""Assembles the policy pack. Nothing else belongs here: constructing `PolicyPack` starts the analyzer server and
blocks, so tests and the offline plan import `guardrails` instead."""

from pulumi_policy import EnforcementLevel, PolicyPack

from guardrails import ALL, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    policies=ALL,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Encryption, public-access, region and platform guardrails for AWS programs.",
)
