"""Policy documents of the image registry (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

from core.iam import document, statement


def ecr_pull_from_accounts(partition: str, account_ids: Sequence[str]) -> str:
    """Repository policy: the environment accounts may pull (their node roles need ecr:BatchGetImage etc.)."""
    return document(
        [
            statement(
                "PullFromEnvironmentAccounts",
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                None,
                principal={"AWS": sorted(f"arn:{partition}:iam::{a}:root" for a in account_ids)},
            )
        ]
    )
