"""IAM action data (policy_sentry's bundled definitions) and policy-document helpers for the tests."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

from policy_sentry.querying.all import get_all_actions

from offline.mocks import Recorded


@functools.cache
def known_actions() -> frozenset[str]:
    return frozenset(a.lower() for a in get_all_actions())


def action_exists(pattern: str) -> bool:
    """An exact action, or a wildcard pattern that matches at least one real action."""
    pattern = pattern.lower()
    if pattern == "*":
        return True
    if "*" in pattern or "?" in pattern:
        regex = re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")
        return any(regex.match(a) for a in known_actions())
    return pattern in known_actions()


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def actions_of(statement: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("Action", "NotAction"):
        value = statement.get(key, [])
        out += [value] if isinstance(value, str) else list(value)
    return out


POLICY_INPUTS = ("policy", "assumeRolePolicy", "content", "inlinePolicy")


def policy_documents(resources: list[Recorded]) -> Iterator[tuple[Recorded, str, str]]:
    """(resource, input name, JSON text) for every IAM-style policy document a plan contains."""
    for r in resources:
        for key in POLICY_INPUTS:
            text = r.inputs.get(key)
            if not isinstance(text, str) or '"Statement"' not in text:
                continue
            yield r, key, text


def is_wildcard_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def parse(text: str) -> dict[str, Any]:
    return json.loads(text)
