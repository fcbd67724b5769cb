"""No public buckets: public access blocks everywhere, no public ACLs, no open bucket policies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from guardrails._util import (
    S3_BUCKET_TYPES,
    ResourceArgs,
    config,
    fail,
    fail_stack,
    get,
    items,
    linked,
    of_types,
    plain,
    truthy,
)

MANDATORY = EnforcementLevel.MANDATORY
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEE_URIS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
# Condition keys that narrow a "*" principal to a known caller: an account, organisation, network path or service.
RESTRICTING_CONDITION_KEYS = (
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceOwner",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:SourceIp",
    "aws:VpcSourceIp",
    "aws:ResourceOrgID",
    "aws:CalledVia",
    "aws:userid",
)


def _pab_flags_off(props: Any) -> list[str]:
    return [flag for flag in PAB_FLAGS if not truthy(get(props, flag))]


def _bucket_public_access_block(args: StackValidationArgs, report: ReportViolation) -> None:
    buckets = of_types(args.resources, S3_BUCKET_TYPES)
    blocks = of_types(args.resources, [BUCKET_PAB])
    for bucket in buckets:
        mine = [b for b in blocks if bucket in linked(b, buckets)]
        if not mine:
            fail_stack(
                report,
                bucket,
                "bucket has no public access block",
                None,
                "add aws.s3.BucketPublicAccessBlock(bucket=<this bucket>) with all four flags true",
            )
            continue
        off = [flag for b in mine for flag in _pab_flags_off(b.props)]
        if off:
            fail_stack(
                report,
                bucket,
                "bucket public access block leaves flags off",
                off,
                "set " + ", ".join(f"{f}=true" for f in PAB_FLAGS),
            )


bucket_public_access_block = StackValidationPolicy(
    name="s3-bucket-public-access-block",
    description="Every S3 bucket has a public access block with all four flags true.",
    enforcement_level=MANDATORY,
    validate=_bucket_public_access_block,
)


def _account_public_access_block(args: StackValidationArgs, report: ReportViolation) -> None:
    if not config(args, "required", True):
        return
    blocks = of_types(args.resources, [ACCOUNT_PAB])
    if not blocks:
        report(
            "the stack does not set the account-level S3 public access block; got none. Fix: add "
            "aws.s3.AccountPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and "
            "restrictPublicBuckets true",
            None,
        )
    for block in blocks:
        off = _pab_flags_off(block.props)
        if off:
            fail_stack(report, block, "account public access block leaves flags off", off, "set all four flags true")


account_public_access_block = StackValidationPolicy(
    name="s3-account-public-access-block",
    description="Each stack sets the account-level S3 public access block with all four flags true.",
    enforcement_level=MANDATORY,
    validate=_account_public_access_block,
    config_schema=PolicyConfigSchema(
        properties={
            "required": {
                "type": "boolean",
                "default": True,
                "description": "Whether this stack must own the account-level block (false for app-only stacks).",
            }
        }
    ),
)


def _public_grants(acp: Any) -> list[str]:
    uris = []
    for grant in items(get(acp, "grants")):
        uri = get(grant, "grantee", "uri")
        if uri in PUBLIC_GRANTEE_URIS:
            uris.append(uri)
    return uris


def _no_public_acl(args: ResourceArgs, report: ReportViolation) -> None:
    typ = args.resource_type
    if typ in (*S3_BUCKET_TYPES, "aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2"):
        acl = get(args.props, "acl")
        if acl in PUBLIC_CANNED_ACLS:
            fail(report, args, "canned ACL makes data public", acl, 'use acl "private" (or none) and grant by policy')
        for grant in items(get(args.props, "grants")):
            if get(grant, "uri") in PUBLIC_GRANTEE_URIS:
                fail(report, args, "grant to a public group", get(grant, "uri"), "remove the AllUsers grant")
    elif typ in ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"):
        acl = get(args.props, "acl")
        if acl in PUBLIC_CANNED_ACLS:
            fail(report, args, "canned ACL makes the bucket public", acl, 'use acl "private" or drop the BucketAcl')
        public = _public_grants(get(args.props, "accessControlPolicy"))
        if public:
            fail(report, args, "access control policy grants a public group", public, "remove those grants")


no_public_acl = ResourceValidationPolicy(
    name="s3-no-public-acl",
    description="No S3 bucket or object is made public through a canned ACL or an ACL grant.",
    enforcement_level=MANDATORY,
    validate=_no_public_acl,
)


def _is_public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _restricted(condition: Any, restricting: tuple[str, ...]) -> bool:
    if not isinstance(condition, dict):
        return False
    wanted = {k.lower() for k in restricting}
    return any(
        key.lower() in wanted for operator in condition.values() if isinstance(operator, dict) for key in operator
    )


def open_statements(document: Any, restricting: tuple[str, ...] = RESTRICTING_CONDITION_KEYS) -> list[dict[str, Any]]:
    """Allow statements of a policy document (JSON text, or an object as the SDK also accepts) that any principal can
    use without a restricting condition."""
    if isinstance(document, Mapping):
        doc: Any = plain(document)
    else:
        try:
            doc = json.loads(document)
        except (TypeError, ValueError):
            return []
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    statements = [statements] if isinstance(statements, dict) else statements
    return [
        st
        for st in statements
        if isinstance(st, dict)
        and st.get("Effect") == "Allow"
        and _is_public_principal(st.get("Principal"))
        and not _restricted(st.get("Condition"), restricting)
    ]


def _no_public_bucket_policy(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type not in ("aws:s3/bucketPolicy:BucketPolicy", *S3_BUCKET_TYPES):
        return
    document = get(args.props, "policy")
    if not isinstance(document, str | Mapping):
        return
    restricting = tuple(config(args, "restrictingConditionKeys", list(RESTRICTING_CONDITION_KEYS)))
    for statement in open_statements(document, restricting):
        fail(
            report,
            args,
            "bucket policy allows any principal without a restricting condition",
            {k: statement.get(k) for k in ("Sid", "Principal", "Action")},
            "name the principals, or add a condition on aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID or "
            "aws:SourceVpce",
        )


no_public_bucket_policy = ResourceValidationPolicy(
    name="s3-no-public-bucket-policy",
    description='No bucket policy allows Principal "*" without a condition that restricts the caller.',
    enforcement_level=MANDATORY,
    validate=_no_public_bucket_policy,
    config_schema=PolicyConfigSchema(
        properties={
            "restrictingConditionKeys": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(RESTRICTING_CONDITION_KEYS),
                "description": "Condition keys that count as restricting a wildcard principal.",
            }
        }
    ),
)

POLICIES = [bucket_public_access_block, account_public_access_block, no_public_acl, no_public_bucket_policy]
