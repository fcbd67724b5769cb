"""The policy pack's configuration of a stack, derived from its environment profile (Pulumi.yaml `environments`).

The pack's thresholds differ between environments only as their profiles do, so the per-stack config is computed,
never written by hand: a new environment gets its policy config from its profile row. `make preview`/`make up` and the
CI workflow write it where `pulumi --policy-pack-config` reads it:

    python -m offline.policy_config --stack prod            # print
    python -m offline.policy_config --stack prod --out FILE  # write
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.profiles import EnvironmentProfile
from core.tags import REQUIRED_TAG_KEYS
from offline.stackfiles import parse_stack_file

RDS_BACKUP_DAYS = (7, 35)
"""The backup retention the seed asks for: at least a week, at most AWS's maximum."""


def policy_config(profile: EnvironmentProfile, allowed_regions: Sequence[str]) -> dict[str, Any]:
    """Every policy mandatory, with the thresholds of this environment's profile; what a profile relaxes (Multi-AZ
    where the environment is not highly available, deletion protection where it is not production, Performance
    Insights in a sandbox) becomes advisory."""
    config: dict[str, Any] = {
        "all": "mandatory",
        "allowed-regions": {"enforcementLevel": "mandatory", "allowedRegions": list(allowed_regions)},
        "allowed-availability-zones": {"enforcementLevel": "mandatory", "allowedRegions": list(allowed_regions)},
        "required-tags": {"enforcementLevel": "mandatory", "requiredTags": list(REQUIRED_TAG_KEYS)},
        "imdsv2-required": {"enforcementLevel": "mandatory", "maxHopLimit": 1},
        "eks-endpoint-not-public": {"enforcementLevel": "mandatory", "allowPublicEndpoint": not profile.production},
        "log-group-retention": {"enforcementLevel": "mandatory", "minDays": profile.min_log_retention_days},
        "kms-key-rotation": {"enforcementLevel": "mandatory", "minDeletionWindowDays": 7 if profile.sandbox else 30},
        "rds-backup-retention": {
            "enforcementLevel": "mandatory",
            "minDays": RDS_BACKUP_DAYS[0],
            "maxDays": RDS_BACKUP_DAYS[1],
        },
        "cloudfront-viewer-tls-and-waf": {"enforcementLevel": "mandatory"},
    }
    if not profile.highly_available:
        config["rds-multi-az"] = "advisory"
    if not profile.production:
        config["rds-deletion-protection"] = "advisory"
    if profile.sandbox:
        config["rds-performance-insights"] = "advisory"
    return config


def for_stack(stack: str) -> dict[str, Any]:
    """The policy config of a stack of this repository, from its parsed configuration."""
    cfg = parse_stack_file(stack)
    return policy_config(cfg.environments[cfg.environment], cfg.allowed_regions)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="offline.policy_config", description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", type=Path, help="write to this file instead of printing")
    args = parser.parse_args(argv)
    text = json.dumps(for_stack(args.stack), indent=2) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
