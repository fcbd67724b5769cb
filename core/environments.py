"""Constants and patterns shared by the config sections."""

from __future__ import annotations

import re

ENVIRONMENTS = ("prod", "stg", "sandbox", "shared-services")
WORKLOAD_ENVIRONMENTS = ("prod", "stg", "sandbox")
STRICT_ENVIRONMENTS = ("prod", "stg")
"""Environments that must be highly available (per-AZ NAT, three AZs, Multi-AZ databases)."""

ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/[\w+=,.@/-]+$")
