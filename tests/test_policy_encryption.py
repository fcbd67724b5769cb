"""Encryption guardrails (policy/guardrails/encryption.py) judged on real pulumi-aws / pulumi-eks resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pytest

from tests.policy_support import cant_run, judge, reported, unknown

KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
S3 = "s3-bucket-encrypted"
RDS = "rds-storage-encrypted"
EKS = "eks-secrets-encrypted"
EBS = "ebs-encrypted"
SERVICE = "service-data-encrypted"
KMS = "kms-key-rotation"

Body = Callable[[pulumi.ResourceOptions], Any]

# ---------------------------------------------------------------------------------------------------------------------
# S3: inline (v7 Bucket: single objects; legacy BucketV2: plural lists) and side-by-side configuration resources.


def bucket_inline(algorithm: str, key: str | None = None, tags: dict[str, str] | None = None) -> Body:
    def body(opts: pulumi.ResourceOptions) -> None:
        by_default: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = {
            "sse_algorithm": algorithm
        }
        if key is not None:
            by_default["kms_master_key_id"] = key
        aws.s3.Bucket(
            "data",
            server_side_encryption_configuration={"rule": {"apply_server_side_encryption_by_default": by_default}},
            tags=tags,
            opts=opts,
        )

    return body


def bucket_v2_inline(algorithm: str, key: str | None = None, tags: dict[str, str] | None = None) -> Body:
    def body(opts: pulumi.ResourceOptions) -> None:
        by_default: aws.s3.BucketV2ServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = {
            "sse_algorithm": algorithm
        }
        if key is not None:
            by_default["kms_master_key_id"] = key
        aws.s3.BucketV2(
            "data",
            server_side_encryption_configurations=[
                {"rules": [{"apply_server_side_encryption_by_defaults": [by_default]}]}
            ],
            tags=tags,
            opts=opts,
        )

    return body


def side_by_side(
    algorithm: str, key: str | None = None, tags: dict[str, str] | None = None, *, legacy_bucket: bool = False
) -> Body:
    def body(opts: pulumi.ResourceOptions) -> None:
        bucket = (
            aws.s3.BucketV2("data", tags=tags, opts=opts)
            if legacy_bucket
            else aws.s3.Bucket("data", tags=tags, opts=opts)
        )
        by_default: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = {
            "sse_algorithm": algorithm
        }
        if key is not None:
            by_default["kms_master_key_id"] = key
        aws.s3.BucketServerSideEncryptionConfiguration(
            "data-sse", bucket=bucket.id, rules=[{"apply_server_side_encryption_by_default": by_default}], opts=opts
        )

    return body


def side_by_side_v2_config(opts: pulumi.ResourceOptions) -> None:
    """The deprecated BucketServerSideEncryptionConfigurationV2 resource, next to a v7 Bucket."""
    bucket = aws.s3.Bucket("data", opts=opts)
    aws.s3.BucketServerSideEncryptionConfigurationV2(
        "data-sse",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}}],
        opts=opts,
    )


def test_bucket_without_default_encryption_is_rejected() -> None:
    judged = judge(lambda opts: aws.s3.Bucket("data", opts=opts))
    message = reported(judged, S3)
    assert "Bucket 'data' (aws:s3/bucket:Bucket)" in message
    assert "no default encryption configured" in message
    assert "got null" in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(bucket_inline("aws:kms", KEY), id="Bucket-inline"),
        pytest.param(bucket_inline("aws:kms:dsse", KEY), id="Bucket-inline-dsse"),
        pytest.param(bucket_v2_inline("aws:kms", KEY), id="BucketV2-inline-lists"),
        pytest.param(side_by_side("aws:kms", KEY), id="Bucket+side-by-side"),
        pytest.param(side_by_side("aws:kms", KEY, legacy_bucket=True), id="BucketV2+side-by-side"),
        pytest.param(side_by_side_v2_config, id="Bucket+side-by-side-V2-resource"),
    ],
)
def test_bucket_with_customer_kms_key_passes(body: Body) -> None:
    assert judge(body).of(S3) == []


@pytest.mark.parametrize(
    ("body", "offending"),
    [
        pytest.param(bucket_inline("aws:kms"), '"sseAlgorithm": "aws:kms"', id="Bucket-inline-kms-no-key"),
        pytest.param(bucket_v2_inline("aws:kms"), '"sseAlgorithm": "aws:kms"', id="BucketV2-inline-kms-no-key"),
        pytest.param(side_by_side("aws:kms"), '"sseAlgorithm": "aws:kms"', id="side-by-side-kms-no-key"),
        pytest.param(bucket_inline("AES256"), '"sseAlgorithm": "AES256"', id="Bucket-inline-AES256"),
        pytest.param(bucket_v2_inline("AES256"), '"sseAlgorithm": "AES256"', id="BucketV2-inline-AES256"),
        pytest.param(side_by_side("AES256"), '"sseAlgorithm": "AES256"', id="side-by-side-AES256"),
    ],
)
def test_bucket_without_customer_kms_key_is_rejected(body: Body, offending: str) -> None:
    message = reported(judge(body), S3)
    assert "'data'" in message
    assert offending in message


def test_aws_kms_without_key_id_is_named_as_the_aws_managed_key() -> None:
    message = reported(judge(side_by_side("aws:kms")), S3)
    assert "aws:kms without kmsMasterKeyId uses the AWS-managed aws/s3 key" in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(bucket_inline("AES256", tags={"EncryptionException": "ALB access logs"}), id="inline"),
        pytest.param(bucket_v2_inline("AES256", tags={"EncryptionException": "ALB access logs"}), id="v2-inline"),
        pytest.param(side_by_side("AES256", tags={"EncryptionException": "ALB access logs"}), id="side-by-side"),
    ],
)
def test_exception_tag_allows_sse_s3(body: Body) -> None:
    assert judge(body).of(S3) == []


def test_exception_tag_does_not_excuse_kms_without_a_key() -> None:
    message = reported(judge(bucket_inline("aws:kms", tags={"EncryptionException": "ALB access logs"})), S3)
    assert "without kmsMasterKeyId" in message


def test_exception_tag_name_comes_from_config() -> None:
    config = {"all": "mandatory", S3: {"exceptionTag": "SseS3Reason"}}
    default_tag = judge(bucket_inline("AES256", tags={"EncryptionException": "ALB logs"}), config=config)
    assert "tagged SseS3Reason=<reason>" in reported(default_tag, S3)
    assert judge(bucket_inline("AES256", tags={"SseS3Reason": "ALB logs"}), config=config).of(S3) == []


def test_side_by_side_configuration_covers_only_the_bucket_it_depends_on() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        covered = aws.s3.Bucket("covered", opts=opts)
        aws.s3.Bucket("bare", opts=opts)
        aws.s3.BucketServerSideEncryptionConfiguration(
            "covered-sse",
            bucket=covered.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}}],
            opts=opts,
        )

    found = judge(body).of(S3)
    assert [d.urn.rsplit("::", 1)[-1] for d in found] == ["bare"]


def test_side_by_side_configuration_naming_the_bucket_literally_is_joined_by_name() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.s3.Bucket("data", bucket="acme-data-eu-west-1", opts=opts)
        aws.s3.BucketServerSideEncryptionConfiguration(
            "data-sse",
            bucket="acme-data-eu-west-1",
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}}],
            opts=opts,
        )

    judged = judge(body)
    sse = next(r for r in judged.resources if r.name == "data-sse")
    assert sse.property_dependencies["bucket"] == []  # the premise: no dependency to join on
    assert judged.of(S3) == []


def test_side_by_side_join_holds_during_preview_when_the_bucket_name_is_unknown() -> None:
    """The configuration's `bucket` input is unknown in a PR preview; the property dependency still joins it."""

    def body(opts: pulumi.ResourceOptions) -> None:
        bucket = aws.s3.Bucket("data", opts=opts)
        aws.s3.BucketServerSideEncryptionConfiguration(
            "data-sse",
            bucket=bucket.bucket,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}}],
            opts=opts,
        )

    judged = judge(body, preview=True)
    sse = next(r for r in judged.resources if r.name == "data-sse")
    assert sse.inputs["bucket"] == "<unknown>"  # the premise: only the dependency can join them
    assert judged.of(S3) == []


def test_unknown_kms_key_id_makes_the_bucket_check_advisory_during_preview() -> None:
    def body(opts: pulumi.ResourceOptions) -> None:
        aws.s3.Bucket(
            "data",
            server_side_encryption_configuration={
                "rule": {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": unknown(),
                    }
                }
            },
            opts=opts,
        )

    judged = judge(body, preview=True)
    assert "can't be known during preview" in cant_run(judged, S3)


# ---------------------------------------------------------------------------------------------------------------------
# RDS storage


def test_unencrypted_rds_instance_is_rejected() -> None:
    judged = judge(lambda opts: aws.rds.Instance("db", instance_class="db.t4g.micro", engine="postgres", opts=opts))
    message = reported(judged, RDS)
    assert "Instance 'db' (aws:rds/instance:Instance): storage is not encrypted; got null" in message


def test_rds_cluster_on_the_aws_managed_key_is_rejected() -> None:
    judged = judge(lambda opts: aws.rds.Cluster("db", engine="aurora-postgresql", storage_encrypted=True, opts=opts))
    message = reported(judged, RDS)
    assert "Cluster 'db' (aws:rds/cluster:Cluster)" in message
    assert "AWS-managed aws/rds key" in message
    assert "kmsKeyId" in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda opts: aws.rds.Instance(
                "db",
                instance_class="db.t4g.micro",
                engine="postgres",
                storage_encrypted=True,
                kms_key_id=KEY,
                opts=opts,
            ),
            id="instance",
        ),
        pytest.param(
            lambda opts: aws.rds.Cluster(
                "db", engine="aurora-postgresql", storage_encrypted=True, kms_key_id=KEY, opts=opts
            ),
            id="cluster",
        ),
        pytest.param(
            lambda opts: aws.rds.Instance(
                "replica", instance_class="db.t4g.micro", replicate_source_db="db", opts=opts
            ),
            id="read-replica-inherits",
        ),
    ],
)
def test_rds_with_customer_key_passes(body: Body) -> None:
    assert judge(body).of(RDS) == []


# ---------------------------------------------------------------------------------------------------------------------
# EKS secrets


def aws_eks_cluster(opts: pulumi.ResourceOptions, **extra: Any) -> aws.eks.Cluster:
    return aws.eks.Cluster(
        "eks",
        role_arn="arn:aws:iam::123456789012:role/eks",
        vpc_config={"subnet_ids": ["subnet-1", "subnet-2"]},
        opts=opts,
        **extra,
    )


def test_aws_eks_cluster_without_secrets_encryption_is_rejected() -> None:
    message = reported(judge(lambda opts: aws_eks_cluster(opts)), EKS)
    assert "Cluster 'eks' (aws:eks/cluster:Cluster)" in message
    assert "got null" in message


def test_aws_eks_cluster_encrypting_something_other_than_secrets_is_rejected() -> None:
    encryption = {"resources": ["configmaps"], "provider": {"key_arn": KEY}}
    message = reported(judge(lambda opts: aws_eks_cluster(opts, encryption_config=encryption)), EKS)
    assert '"resources": ["configmaps"]' in message


def test_aws_eks_cluster_with_secrets_encryption_passes() -> None:
    encryption = {"resources": ["secrets"], "provider": {"key_arn": KEY}}
    assert judge(lambda opts: aws_eks_cluster(opts, encryption_config=encryption)).of(EKS) == []


def test_pulumi_eks_cluster_without_key_is_rejected() -> None:
    message = reported(judge(lambda opts: eks.Cluster("platform", opts=opts)), EKS)
    assert "Cluster 'platform' (eks:index:Cluster)" in message
    assert "encryptionConfigKeyArn" in message


def test_pulumi_eks_cluster_with_key_passes() -> None:
    assert judge(lambda opts: eks.Cluster("platform", encryption_config_key_arn=KEY, opts=opts)).of(EKS) == []


# ---------------------------------------------------------------------------------------------------------------------
# EBS


def launch_template(encrypted: str, key: str | None) -> Body:
    def body(opts: pulumi.ResourceOptions) -> None:
        ebs: aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgsDict = {"encrypted": encrypted, "volume_size": 50}
        if key is not None:
            ebs["kms_key_id"] = key
        aws.ec2.LaunchTemplate("nodes", block_device_mappings=[{"device_name": "/dev/xvda", "ebs": ebs}], opts=opts)

    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            lambda opts: aws.ebs.Volume("scratch", availability_zone="eu-west-1a", size=10, opts=opts),
            "Volume 'scratch' (aws:ebs/volume:Volume): EBS device volume is not encrypted; got null",
            id="volume",
        ),
        pytest.param(
            launch_template("false", None),
            "LaunchTemplate 'nodes' (aws:ec2/launchTemplate:LaunchTemplate): EBS device /dev/xvda is not encrypted; "
            'got "false"',
            id="launch-template-string-false",
        ),
        pytest.param(
            launch_template("true", None),
            "LaunchTemplate 'nodes' (aws:ec2/launchTemplate:LaunchTemplate): EBS device /dev/xvda uses the "
            "AWS-managed aws/ebs key",
            id="launch-template-no-key",
        ),
        pytest.param(
            lambda opts: aws.ec2.Instance(
                "bastion",
                ami="ami-0123456789abcdef0",
                instance_type="t3.micro",
                root_block_device={"encrypted": False},
                opts=opts,
            ),
            "Instance 'bastion' (aws:ec2/instance:Instance): EBS device root is not encrypted; got false",
            id="instance-root",
        ),
        pytest.param(
            lambda opts: aws.ec2.Instance(
                "bastion",
                ami="ami-0123456789abcdef0",
                instance_type="t3.micro",
                root_block_device={"encrypted": True, "kms_key_id": KEY},
                ebs_block_devices=[{"device_name": "/dev/sdf", "encrypted": False}],
                opts=opts,
            ),
            "EBS device /dev/sdf is not encrypted",
            id="instance-data-device",
        ),
    ],
)
def test_unencrypted_block_devices_are_rejected(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), EBS)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda opts: aws.ebs.Volume(
                "scratch", availability_zone="eu-west-1a", size=10, encrypted=True, kms_key_id=KEY, opts=opts
            ),
            id="volume",
        ),
        pytest.param(launch_template("true", KEY), id="launch-template"),
        pytest.param(
            lambda opts: aws.ec2.Instance(
                "bastion",
                ami="ami-0123456789abcdef0",
                instance_type="t3.micro",
                root_block_device={"encrypted": True, "kms_key_id": KEY},
                ebs_block_devices=[{"device_name": "/dev/sdf", "encrypted": True, "kms_key_id": KEY}],
                opts=opts,
            ),
            id="instance",
        ),
    ],
)
def test_block_devices_under_a_customer_key_pass(body: Body) -> None:
    assert judge(body).of(EBS) == []


def test_require_customer_key_false_accepts_the_aws_managed_ebs_key() -> None:
    config = {"all": "mandatory", EBS: {"requireCustomerKey": False}}
    assert judge(launch_template("true", None), config=config).of(EBS) == []
    assert "is not encrypted" in reported(judge(launch_template("false", None), config=config), EBS)


# ---------------------------------------------------------------------------------------------------------------------
# SQS, SNS, Secrets Manager, CloudWatch Logs, ECR, EFS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            lambda opts: aws.sqs.Queue("jobs", opts=opts),
            "Queue 'jobs' (aws:sqs/queue:Queue): kmsMasterKeyId does not name a customer KMS key",
            id="sqs",
        ),
        pytest.param(
            lambda opts: aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True, opts=opts),
            "Queue 'jobs' (aws:sqs/queue:Queue): kmsMasterKeyId does not name a customer KMS key",
            id="sqs-managed-sse",
        ),
        pytest.param(
            lambda opts: aws.sns.Topic("events", opts=opts),
            "Topic 'events' (aws:sns/topic:Topic): kmsMasterKeyId does not name a customer KMS key",
            id="sns",
        ),
        pytest.param(
            lambda opts: aws.secretsmanager.Secret("db-password", opts=opts),
            "Secret 'db-password' (aws:secretsmanager/secret:Secret): kmsKeyId does not name a customer KMS key",
            id="secret",
        ),
        pytest.param(
            lambda opts: aws.cloudwatch.LogGroup("app", retention_in_days=30, opts=opts),
            "LogGroup 'app' (aws:cloudwatch/logGroup:LogGroup): kmsKeyId does not name a customer KMS key",
            id="log-group",
        ),
        pytest.param(
            lambda opts: aws.efs.FileSystem("shared", opts=opts),
            "FileSystem 'shared' (aws:efs/fileSystem:FileSystem): file system is not encrypted; got null",
            id="efs-unencrypted",
        ),
        pytest.param(
            lambda opts: aws.efs.FileSystem("shared", encrypted=True, opts=opts),
            "FileSystem 'shared' (aws:efs/fileSystem:FileSystem): kmsKeyId does not name a customer KMS key",
            id="efs-aws-managed",
        ),
        pytest.param(
            lambda opts: aws.ecr.Repository("app", opts=opts),
            "Repository 'app' (aws:ecr/repository:Repository): repository is not encrypted with a customer KMS key; "
            "got null",
            id="ecr-default-aes256",
        ),
        pytest.param(
            lambda opts: aws.ecr.Repository("app", encryption_configurations=[{"encryption_type": "KMS"}], opts=opts),
            'repository is not encrypted with a customer KMS key; got ["KMS"]',
            id="ecr-kms-no-key",
        ),
    ],
)
def test_service_data_without_customer_key_is_rejected(body: Body, expected: str) -> None:
    assert expected in reported(judge(body), SERVICE)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda opts: aws.sqs.Queue("jobs", kms_master_key_id=KEY, opts=opts), id="sqs"),
        pytest.param(lambda opts: aws.sns.Topic("events", kms_master_key_id=KEY, opts=opts), id="sns"),
        pytest.param(lambda opts: aws.secretsmanager.Secret("db-password", kms_key_id=KEY, opts=opts), id="secret"),
        pytest.param(lambda opts: aws.cloudwatch.LogGroup("app", kms_key_id=KEY, opts=opts), id="log-group"),
        pytest.param(lambda opts: aws.efs.FileSystem("shared", encrypted=True, kms_key_id=KEY, opts=opts), id="efs"),
        pytest.param(
            lambda opts: aws.ecr.Repository(
                "app", encryption_configurations=[{"encryption_type": "KMS", "kms_key": KEY}], opts=opts
            ),
            id="ecr",
        ),
    ],
)
def test_service_data_under_customer_key_passes(body: Body) -> None:
    assert judge(body).of(SERVICE) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda opts: aws.sqs.Queue("jobs", kms_master_key_id="alias/aws/sqs", opts=opts), id="sqs"),
        pytest.param(lambda opts: aws.sns.Topic("events", kms_master_key_id="alias/aws/sns", opts=opts), id="sns"),
    ],
)
def test_aws_managed_key_alias_is_not_a_customer_key(body: Body) -> None:
    assert "alias/aws/" in reported(judge(body), SERVICE)


# ---------------------------------------------------------------------------------------------------------------------
# KMS keys


def test_key_without_rotation_is_rejected() -> None:
    message = reported(judge(lambda opts: aws.kms.Key("data", opts=opts)), KMS)
    assert "Key 'data' (aws:kms/key:Key): automatic key rotation is off; got null" in message


def test_key_with_short_deletion_window_is_rejected() -> None:
    judged = judge(lambda opts: aws.kms.Key("data", enable_key_rotation=True, deletion_window_in_days=7, opts=opts))
    message = reported(judged, KMS)
    assert "Key 'data' (aws:kms/key:Key): deletion window is below 30 days; got 7" in message
    assert "deletionWindowInDays=30" in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda opts: aws.kms.Key("data", enable_key_rotation=True, deletion_window_in_days=30, opts=opts),
            id="symmetric-rotating",
        ),
        pytest.param(
            lambda opts: aws.kms.Key(
                "signing", customer_master_key_spec="RSA_2048", key_usage="SIGN_VERIFY", opts=opts
            ),
            id="asymmetric-cannot-rotate",
        ),
    ],
)
def test_rotating_or_asymmetric_keys_pass(body: Body) -> None:
    assert judge(body).of(KMS) == []


def test_min_deletion_window_comes_from_config() -> None:
    config = {"all": "mandatory", KMS: {"minDeletionWindowDays": 7}}
    judged = judge(
        lambda opts: aws.kms.Key("data", enable_key_rotation=True, deletion_window_in_days=7, opts=opts), config=config
    )
    assert judged.of(KMS) == []


def test_unknown_rotation_flag_makes_the_key_check_advisory_during_preview() -> None:
    judged = judge(lambda opts: aws.kms.Key("data", enable_key_rotation=unknown(), opts=opts), preview=True)
    assert "at .enableKeyRotation can't be known during preview" in cant_run(judged, KMS)
