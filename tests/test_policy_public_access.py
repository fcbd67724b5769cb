"""Public-access guardrails (policy/guardrails/public_access.py) judged on real pulumi-aws resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import MockResourceArgs

from offline.mocks import PlatformMocks
from tests.policy_support import cant_run, judge, reported, unknown

BUCKET_PAB = "s3-bucket-public-access-block"
ACCOUNT_PAB = "s3-account-public-access-block"
ACL = "s3-no-public-acl"
POLICY = "s3-no-public-bucket-policy"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
Body = Callable[[pulumi.ResourceOptions], Any]

# ---------------------------------------------------------------------------------------------------------------------
# Bucket-level public access block (stack policy, joined by property dependency)


def bucket_with_block(*, legacy_bucket: bool = False, off: tuple[str, ...] = ()) -> Body:
    """A bucket and its public access block with every flag true except those named in `off`."""

    def body(opts: pulumi.ResourceOptions) -> None:
        bucket = aws.s3.BucketV2("data", opts=opts) if legacy_bucket else aws.s3.Bucket("data", opts=opts)
        aws.s3.BucketPublicAccessBlock(
            "data-pab",
            bucket=bucket.id,
            block_public_acls="block_public_acls" not in off,
            block_public_policy="block_public_policy" not in off,
            ignore_public_acls="ignore_public_acls" not in off,
            restrict_public_buckets="restrict_public_buckets" not in off,
            opts=opts,
        )

    return body


def account_block(opts: pulumi.ResourceOptions, *, restrict_public_buckets: bool = True) -> None:
    aws.s3.AccountPublicAccessBlock(
        "account",
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=restrict_public_buckets,
        opts=opts,
    )


def test_bucket_without_public_access_block_is_rejected() -> None:
    message = reported(judge(lambda opts: aws.s3.Bucket("data", opts=opts)), BUCKET_PAB)
    assert "Bucket 'data' (aws:s3/bucket:Bucket): bucket has no public access block; got null" in message


@pytest.mark.parametrize("legacy_bucket", [False, True], ids=["Bucket", "BucketV2"])
def test_bucket_with_full_public_access_block_passes(legacy_bucket: bool) -> None:
    assert judge(bucket_with_block(legacy_bucket=legacy_bucket)).of(BUCKET_PAB) == []


@pytest.mark.parametrize("legacy_bucket", [False, True], ids=["Bucket", "BucketV2"])
def test_public_access_block_with_flags_off_is_rejected(legacy_bucket: bool) -> None:
    judged = judge(bucket_with_block(legacy_bucket=legacy_bucket, off=("ignore_public_acls", "block_public_policy")))
    message = reported(judged, BUCKET_PAB)
    assert "'data'" in message
    assert 'leaves flags off; got ["blockPublicPolicy", "ignorePublicAcls"]' in message


def test_public_access_block_covers_only_the_bucket_it_depends_on() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        covered = aws.s3.Bucket("covered", opts=opts)
        aws.s3.Bucket("bare", opts=opts)
        aws.s3.BucketPublicAccessBlock(
            "covered-pab",
            bucket=covered.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )

    found = judge(body).of(BUCKET_PAB)
    assert [d.urn.rsplit("::", 1)[-1] for d in found] == ["bare"]


def test_unknown_public_access_flag_makes_the_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        bucket = aws.s3.Bucket("data", opts=opts)
        aws.s3.BucketPublicAccessBlock(
            "data-pab",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=unknown(),
            opts=opts,
        )

    judged = judge(body, preview=True)
    assert "restrictPublicBuckets can't be known during preview" in cant_run(judged, BUCKET_PAB)


# ---------------------------------------------------------------------------------------------------------------------
# Account-level public access block (stack policy)


def test_stack_without_account_public_access_block_is_rejected() -> None:
    message = reported(judge(lambda opts: None), ACCOUNT_PAB)
    assert "does not set the account-level S3 public access block; got none" in message
    assert "aws.s3.AccountPublicAccessBlock" in message


def test_account_public_access_block_with_a_flag_off_is_rejected() -> None:
    judged = judge(lambda opts: account_block(opts, restrict_public_buckets=False))
    message = reported(judged, ACCOUNT_PAB)
    assert "AccountPublicAccessBlock 'account' (aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock)" in message
    assert 'got ["restrictPublicBuckets"]' in message


def test_account_public_access_block_with_all_flags_passes() -> None:
    assert judge(account_block).of(ACCOUNT_PAB) == []


def test_app_only_stacks_may_leave_the_account_block_to_another_stack() -> None:
    config = {"all": "mandatory", ACCOUNT_PAB: {"required": False}}
    assert judge(lambda opts: None, config=config).of(ACCOUNT_PAB) == []


# ---------------------------------------------------------------------------------------------------------------------
# ACLs


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            lambda opts: aws.s3.Bucket("site", acl="public-read", opts=opts),
            "Bucket 'site' (aws:s3/bucket:Bucket): canned ACL makes data public; got \"public-read\"",
            id="Bucket-canned",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketV2("site", acl="public-read-write", opts=opts),
            "BucketV2 'site' (aws:s3/bucketV2:BucketV2): canned ACL makes data public; got \"public-read-write\"",
            id="BucketV2-canned",
        ),
        pytest.param(
            lambda opts: aws.s3.Bucket(
                "site", grants=[{"type": "Group", "uri": ALL_USERS, "permissions": ["READ"]}], opts=opts
            ),
            f"Bucket 'site' (aws:s3/bucket:Bucket): grant to a public group; got \"{ALL_USERS}\"",
            id="Bucket-grant",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketObject("index", bucket="site", key="index.html", acl="public-read", opts=opts),
            "BucketObject 'index' (aws:s3/bucketObject:BucketObject): canned ACL makes data public",
            id="BucketObject",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketObjectv2(
                "index", bucket="site", key="index.html", acl="authenticated-read", opts=opts
            ),
            "BucketObjectv2 'index' (aws:s3/bucketObjectv2:BucketObjectv2): canned ACL makes data public; got \"authe",
            id="BucketObjectv2",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketAcl("site-acl", bucket="site", acl="public-read", opts=opts),
            "BucketAcl 'site-acl' (aws:s3/bucketAcl:BucketAcl): canned ACL makes the bucket public",
            id="BucketAcl-canned",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketAcl(
                "site-acl",
                bucket="site",
                access_control_policy={
                    "owner": {"id": "0123456789abcdef"},
                    "grants": [{"permission": "READ", "grantee": {"type": "Group", "uri": ALL_USERS}}],
                },
                opts=opts,
            ),
            f"BucketAcl 'site-acl' (aws:s3/bucketAcl:BucketAcl): access control policy grants a public group; got [\""
            f'{ALL_USERS}"]',
            id="BucketAcl-grant",
        ),
    ],
)
def test_public_acls_are_rejected(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), ACL)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda opts: aws.s3.Bucket("site", acl="private", opts=opts), id="Bucket-private"),
        pytest.param(lambda opts: aws.s3.BucketObject("index", bucket="site", key="k", opts=opts), id="object-no-acl"),
        pytest.param(
            lambda opts: aws.s3.BucketAcl("site-acl", bucket="site", acl="log-delivery-write", opts=opts),
            id="BucketAcl-log-delivery",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketAcl(
                "site-acl",
                bucket="site",
                access_control_policy={
                    "owner": {"id": "0123456789abcdef"},
                    "grants": [{"permission": "FULL_CONTROL", "grantee": {"type": "CanonicalUser", "id": "0123"}}],
                },
                opts=opts,
            ),
            id="BucketAcl-owner-grant",
        ),
    ],
)
def test_private_acls_pass(body: Body) -> None:
    assert judge(body).of(ACL) == []


def test_unknown_acl_makes_the_check_advisory_during_preview() -> None:
    judged = judge(lambda opts: aws.s3.BucketAcl("site-acl", bucket="site", acl=unknown(), opts=opts), preview=True)
    assert ".acl can't be known during preview" in cant_run(judged, ACL)


# ---------------------------------------------------------------------------------------------------------------------
# Bucket policies


def document(principal: object, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site/*",
    }
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


FROM_CLOUDFRONT = {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            lambda opts: aws.s3.BucketPolicy("site-policy", bucket="site", policy=document("*"), opts=opts),
            "BucketPolicy 'site-policy' (aws:s3/bucketPolicy:BucketPolicy): bucket policy allows any principal "
            'without a restricting condition; got {"Action": "s3:GetObject", "Principal": "*", "Sid": "Read"}',
            id="BucketPolicy-star",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketPolicy("site-policy", bucket="site", policy=document({"AWS": ["*"]}), opts=opts),
            '"Principal": {"AWS": ["*"]}',
            id="BucketPolicy-aws-star",
        ),
        pytest.param(
            lambda opts: aws.s3.Bucket("site", policy=document({"AWS": "*"}), opts=opts),
            "Bucket 'site' (aws:s3/bucket:Bucket): bucket policy allows any principal",
            id="Bucket-inline-policy",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketPolicy(
                "site-policy",
                bucket="site",
                policy=document("*", {"Bool": {"aws:SecureTransport": "true"}}),
                opts=opts,
            ),
            "'site-policy'",
            id="non-restricting-condition",
        ),
    ],
)
def test_open_bucket_policies_are_rejected(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), POLICY)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda opts: aws.s3.BucketPolicy(
                "site-policy", bucket="site", policy=document({"Service": "cloudfront.amazonaws.com"}), opts=opts
            ),
            id="named-service-principal",
        ),
        pytest.param(
            lambda opts: aws.s3.BucketPolicy(
                "site-policy", bucket="site", policy=document("*", FROM_CLOUDFRONT), opts=opts
            ),
            id="star-with-source-arn-condition",
        ),
    ],
)
def test_restricted_bucket_policies_pass(body: Body) -> None:
    assert judge(body).of(POLICY) == []


def test_restricting_condition_keys_come_from_config() -> None:
    config = {"all": "mandatory", POLICY: {"restrictingConditionKeys": ["aws:PrincipalOrgID"]}}
    judged = judge(
        lambda opts: aws.s3.BucketPolicy(
            "site-policy", bucket="site", policy=document("*", FROM_CLOUDFRONT), opts=opts
        ),
        config=config,
    )
    assert "'site-policy'" in reported(judged, POLICY)


@pytest.fixture
def policy_documents_stored_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider stores a policy given as a document object as its JSON string; the mocks echo inputs, and the SDK
    would reject an object where the `policy` output is typed `str`."""
    original = PlatformMocks.new_resource

    def new_resource(self: PlatformMocks, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = original(self, args)
        if isinstance(state.get("policy"), dict):
            state["policy"] = json.dumps(state["policy"])
        return resource_id, state

    monkeypatch.setattr(PlatformMocks, "new_resource", new_resource)


@pytest.mark.usefixtures("policy_documents_stored_as_json")
def test_public_policy_given_as_a_document_object_is_rejected() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.s3.BucketPolicy(
            "site-policy",
            bucket="site",
            policy={
                "version": aws.iam.PolicyDocumentVersion.POLICY_DOCUMENT_VERSION_2012_10_17,
                "statement": [
                    {
                        "sid": "Read",
                        "effect": aws.iam.PolicyStatementEffect.ALLOW,
                        "principal": "*",
                        "action": "s3:GetObject",
                        "resource": "arn:aws:s3:::site/*",
                    }
                ],
            },
            opts=opts,
        )

    judged = judge(body)
    policy = next(r for r in judged.resources if r.name == "site-policy")
    assert isinstance(policy.inputs["policy"], dict)  # the premise: the policy sees an object, not a string
    assert "'site-policy'" in reported(judged, POLICY)
