"""Encryption at rest, with customer-managed KMS keys wherever the service supports them."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from guardrails._util import (
    S3_BUCKET_TYPES,
    ResourceArgs,
    config,
    customer_key,
    fail,
    fail_stack,
    find_all,
    get,
    items,
    linked,
    num,
    number,
    of_types,
    truthy,
)

MANDATORY = EnforcementLevel.MANDATORY

# ---------------------------------------------------------------------------------------------------------------------
# S3: inline on the bucket (v7 `Bucket` or legacy `BucketV2`) or through a side-by-side configuration resource.

S3_SSE_CONFIG_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
DEFAULT_EXCEPTION_TAG = "EncryptionException"


def _sse_defaults(value: Any) -> list[Any]:
    """Every applyServerSideEncryptionByDefault block in an SSE configuration, whatever its shape."""
    found: list[Any] = []
    for key in ("applyServerSideEncryptionByDefault", "applyServerSideEncryptionByDefaults"):
        for block in find_all(value, key):
            found.extend(items(block))
    return found


def _verdict(blocks: list[Any], *, allow_s3_managed: bool) -> str | None:
    """None when the blocks encrypt acceptably, else what is wrong."""
    if not blocks:
        return "no default encryption configured"
    for block in blocks:
        algorithm = get(block, "sseAlgorithm")
        if algorithm in KMS_ALGORITHMS:
            if not customer_key(get(block, "kmsMasterKeyId")):
                return f"{algorithm} without kmsMasterKeyId uses the AWS-managed aws/s3 key, not a customer key"
        elif not (algorithm == "AES256" and allow_s3_managed):
            return f"sseAlgorithm {algorithm!r} is not a customer-managed KMS key"
    return None


def _s3_bucket_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    exception_tag = config(args, "exceptionTag", DEFAULT_EXCEPTION_TAG)
    buckets = of_types(args.resources, S3_BUCKET_TYPES)
    configs = of_types(args.resources, S3_SSE_CONFIG_TYPES)
    for bucket in buckets:
        tags = get(bucket.props, "tags", default={})
        allow_s3_managed = bool(get(tags, exception_tag))
        side_by_side = [c for c in configs if bucket in linked(c, buckets)]
        side_blocks = [b for c in side_by_side for b in _sse_defaults(get(c.props, "rules"))]
        if side_blocks and _verdict(side_blocks, allow_s3_managed=allow_s3_managed) is None:
            continue
        inline_blocks: list[Any] = []
        for key in ("serverSideEncryptionConfiguration", "serverSideEncryptionConfigurations"):
            try:
                inline_blocks.extend(_sse_defaults(get(bucket.props, key)))
            except UnknownValueError:
                if not side_blocks:
                    raise  # nothing else decides: let the engine report "can't be known during preview"
        blocks = side_blocks or inline_blocks
        problem = _verdict(blocks, allow_s3_managed=allow_s3_managed)
        if problem is not None:
            fail_stack(
                report,
                bucket,
                f"bucket is not encrypted with a customer KMS key ({problem})",
                [dict(b) for b in blocks] if blocks else None,
                "add a BucketServerSideEncryptionConfiguration (bucket = this bucket) with sseAlgorithm aws:kms and "
                f"kmsMasterKeyId of a customer key; buckets whose AWS writer only supports SSE-S3 (ALB access logs) "
                f"may use AES256 when tagged {exception_tag}=<reason>",
            )


s3_bucket_encrypted = StackValidationPolicy(
    name="s3-bucket-encrypted",
    description="S3 buckets use default encryption with a customer-managed KMS key (inline or side-by-side).",
    enforcement_level=MANDATORY,
    validate=_s3_bucket_encrypted,
    config_schema=PolicyConfigSchema(
        properties={
            "exceptionTag": {
                "type": "string",
                "default": DEFAULT_EXCEPTION_TAG,
                "description": "Tag whose presence (with a reason) allows SSE-S3 (AES256) instead of KMS.",
            }
        }
    ),
)

# ---------------------------------------------------------------------------------------------------------------------
# Resource-level rules: one function per rule, each applies to the types it names.


def _rds_encrypted(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type not in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        return
    if get(args.props, "replicateSourceDb"):
        return  # a read replica inherits the source's encryption
    if not truthy(get(args.props, "storageEncrypted")):
        fail(report, args, "storage is not encrypted", get(args.props, "storageEncrypted"), "set storageEncrypted=true")
    elif not customer_key(get(args.props, "kmsKeyId")):
        fail(
            report,
            args,
            "storage uses the AWS-managed aws/rds key",
            get(args.props, "kmsKeyId"),
            "set kmsKeyId to a customer KMS key ARN",
        )


rds_storage_encrypted = ResourceValidationPolicy(
    name="rds-storage-encrypted",
    description="RDS instances and clusters encrypt storage with a customer-managed KMS key.",
    enforcement_level=MANDATORY,
    validate=_rds_encrypted,
)


def _eks_secrets_encrypted(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type == "aws:eks/cluster:Cluster":
        encryption = get(args.props, "encryptionConfig")
        resources = get(encryption, "resources", default=[])
        key = get(encryption, "provider", "keyArn")
        if "secrets" not in list(resources) or not customer_key(key):
            fail(
                report,
                args,
                "Kubernetes secrets are not envelope-encrypted with a customer KMS key",
                encryption,
                'set encryptionConfig = {resources: ["secrets"], provider: {keyArn: <customer key ARN>}}',
            )
    elif args.resource_type == "eks:index:Cluster" and not customer_key(get(args.props, "encryptionConfigKeyArn")):
        fail(
            report,
            args,
            "Kubernetes secrets are not envelope-encrypted",
            None,
            "set encryptionConfigKeyArn to a customer KMS key ARN",
        )


eks_secrets_encrypted = ResourceValidationPolicy(
    name="eks-secrets-encrypted",
    description="EKS clusters (aws.eks.Cluster and the pulumi-eks component) envelope-encrypt secrets with KMS.",
    enforcement_level=MANDATORY,
    validate=_eks_secrets_encrypted,
)


def _block_devices(args: ResourceArgs) -> list[tuple[str, Any]]:
    if args.resource_type == "aws:ec2/launchTemplate:LaunchTemplate":
        return [
            (str(get(m, "deviceName", default="?")), get(m, "ebs"))
            for m in items(get(args.props, "blockDeviceMappings"))
            if get(m, "ebs") is not None
        ]
    if args.resource_type == "aws:ec2/instance:Instance":
        devices = [("root", get(args.props, "rootBlockDevice", default={}))]
        devices += [(str(get(d, "deviceName")), d) for d in items(get(args.props, "ebsBlockDevices"))]
        return devices
    if args.resource_type == "aws:ebs/volume:Volume":
        return [("volume", args.props)]
    return []


def _ebs_encrypted(args: ResourceArgs, report: ReportViolation) -> None:
    require_key = config(args, "requireCustomerKey", True)
    for device, ebs in _block_devices(args):
        if not truthy(get(ebs, "encrypted")):
            fail(report, args, f"EBS device {device} is not encrypted", get(ebs, "encrypted"), "set encrypted=true")
        elif require_key and not customer_key(get(ebs, "kmsKeyId")):
            fail(
                report, args, f"EBS device {device} uses the AWS-managed aws/ebs key", get(ebs, "kmsKeyId"), "kmsKeyId"
            )


ebs_encrypted = ResourceValidationPolicy(
    name="ebs-encrypted",
    description="EBS volumes, instance and launch-template block devices are encrypted with a customer KMS key.",
    enforcement_level=MANDATORY,
    validate=_ebs_encrypted,
    config_schema=PolicyConfigSchema(
        properties={"requireCustomerKey": {"type": "boolean", "default": True, "description": "Require kmsKeyId."}}
    ),
)

# (resource type, property that must name a customer key, what to set)
_KEYED = {
    "aws:sqs/queue:Queue": ("kmsMasterKeyId", "set kmsMasterKeyId to a customer KMS key"),
    "aws:sns/topic:Topic": ("kmsMasterKeyId", "set kmsMasterKeyId to a customer KMS key"),
    "aws:secretsmanager/secret:Secret": ("kmsKeyId", "set kmsKeyId (the default is the AWS-managed key)"),
    "aws:cloudwatch/logGroup:LogGroup": ("kmsKeyId", "set kmsKeyId to a KMS key whose policy admits CloudWatch Logs"),
    "aws:efs/fileSystem:FileSystem": ("kmsKeyId", "set encrypted=true and kmsKeyId"),
}


def _service_encrypted(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type == "aws:ecr/repository:Repository":
        configs = items(get(args.props, "encryptionConfigurations"))
        kinds = [get(c, "encryptionType") for c in configs]
        if "KMS" not in kinds or not any(customer_key(get(c, "kmsKey")) for c in configs):
            fail(
                report,
                args,
                "repository is not encrypted with a customer KMS key",
                kinds or None,
                'set encryptionConfigurations = [{encryptionType: "KMS", kmsKey: <key ARN>}]',
            )
        return
    if args.resource_type == "aws:efs/fileSystem:FileSystem" and not truthy(get(args.props, "encrypted")):
        fail(report, args, "file system is not encrypted", get(args.props, "encrypted"), "set encrypted=true")
        return
    keyed = _KEYED.get(args.resource_type)
    if keyed is None:
        return
    prop, fix = keyed
    value = get(args.props, prop)
    if not customer_key(value):
        fail(report, args, f"{prop} does not name a customer KMS key", value, fix)


service_encrypted = ResourceValidationPolicy(
    name="service-data-encrypted",
    description="SQS, SNS, Secrets Manager, CloudWatch Logs, ECR and EFS encrypt data with a customer KMS key.",
    enforcement_level=MANDATORY,
    validate=_service_encrypted,
)


def _kms_rotation(args: ResourceArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:kms/key:Key":
        return
    spec = get(args.props, "customerMasterKeySpec") or get(args.props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    if not truthy(get(args.props, "enableKeyRotation")):
        fail(report, args, "automatic key rotation is off", get(args.props, "enableKeyRotation"), "enableKeyRotation")
    minimum = config(args, "minDeletionWindowDays", 30)
    window = number(get(args.props, "deletionWindowInDays", default=30))
    if window is not None and window < minimum:
        fail(
            report,
            args,
            f"deletion window is below {num(minimum)} days",
            window,
            f"deletionWindowInDays={num(minimum)}",
        )


kms_key_rotation = ResourceValidationPolicy(
    name="kms-key-rotation",
    description="Customer KMS keys rotate automatically and keep a safe deletion window.",
    enforcement_level=MANDATORY,
    validate=_kms_rotation,
    config_schema=PolicyConfigSchema(
        properties={
            "minDeletionWindowDays": {
                "type": "integer",
                "minimum": 7,
                "maximum": 30,
                "default": 30,
                "description": "Smallest allowed deletionWindowInDays.",
            }
        }
    ),
)

POLICIES = [
    s3_bucket_encrypted,
    rds_storage_encrypted,
    eks_secrets_encrypted,
    ebs_encrypted,
    service_encrypted,
    kms_key_rotation,
]
