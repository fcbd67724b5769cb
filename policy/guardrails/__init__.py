"""The platform's CrossGuard policies, importable without starting a policy server.

`ALL` is every policy; `policy/__main__.py` assembles them into the pack. One module per area."""

from __future__ import annotations

from pulumi_policy import Policy

from guardrails import (
    database,
    edge,
    encryption,
    kubernetes,
    logs,
    network,
    public_access,
    regions,
    registry,
    tagging,
)

PACK_NAME = "aws-platform-guardrails"

ALL: list[Policy] = [
    *encryption.POLICIES,
    *public_access.POLICIES,
    *regions.POLICIES,
    *network.POLICIES,
    *edge.POLICIES,
    *database.POLICIES,
    *kubernetes.POLICIES,
    *registry.POLICIES,
    *logs.POLICIES,
    *tagging.POLICIES,
]

BY_NAME: dict[str, Policy] = {p.name: p for p in ALL}

__all__ = ["ALL", "BY_NAME", "PACK_NAME"]
