"""AWS's hard limits on what every stack renders: physical names (explicit, and the ones Pulumi generates from the
logical name), tags, Helm release names. Mocks accept any string; these are the rules the APIs enforce.

Name rules come from botocore's service models where the model carries them (min/max/pattern of the request shape),
otherwise from the service's documentation, cited per rule."""

from __future__ import annotations

import functools
import inspect
import json
import re
from dataclasses import dataclass

import botocore.loaders
import pytest

from offline.mocks import Recorded
from offline.plan import Plan
from tests.conftest import STACKS
from tests.support import pulumi_aws_module

AUTONAME_SUFFIX = "-abcdef0"
"""What Pulumi appends to a logical name when it generates a physical one: a hyphen and 7 random hex characters
(`resource.NewUniqueName`, which refuses a name that would exceed the property's maximum length)."""


@dataclass(frozen=True)
class NameRule:
    max: int
    pattern: str
    source: str
    min: int = 1

    def problems(self, name: str) -> list[str]:
        found = []
        if not self.min <= len(name) <= self.max:
            found.append(f"{len(name)} characters, allowed {self.min}-{self.max}")
        if not re.fullmatch(self.pattern, name):
            found.append(f"does not match {self.pattern}")
        return found


@functools.cache
def _botocore(service: str, shape: str) -> NameRule:
    model = botocore.loaders.Loader().load_service_model(service, "service-2")
    spec = model["shapes"][shape]
    pattern = spec.get("pattern", r"[\s\S]+").strip("^$")
    return NameRule(spec["max"], pattern, f"botocore {service} {shape}", spec.get("min", 1))


def _documented(max_: int, pattern: str, source: str, min_: int = 1) -> NameRule:
    return NameRule(max_, pattern, source, min_)


HYPHENATED_ID = r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]*(?<!-)"
NAME_RULES: dict[tuple[str, str], NameRule] = {
    ("aws:iam/role:Role", "name"): _botocore("iam", "roleNameType"),
    ("aws:iam/rolePolicy:RolePolicy", "name"): _botocore("iam", "policyNameType"),
    ("aws:iam/policy:Policy", "name"): _botocore("iam", "policyNameType"),
    ("aws:iam/instanceProfile:InstanceProfile", "name"): _botocore("iam", "instanceProfileNameType"),
    ("aws:cloudwatch/logGroup:LogGroup", "name"): _botocore("logs", "LogGroupName"),
    ("aws:codebuild/project:Project", "name"): _botocore("codebuild", "ProjectName"),
    # botocore's FunctionName admits a whole ARN (140); CreateFunction's name alone is 1-64 of these characters.
    ("aws:lambda/function:Function", "name"): _documented(
        64, r"[a-zA-Z0-9-_]+", "Lambda API Reference, CreateFunction: FunctionName"
    ),
    ("aws:cfg/recorder:Recorder", "name"): _botocore("config", "RecorderName"),
    ("aws:cfg/recorderStatus:RecorderStatus", "name"): _botocore("config", "RecorderName"),
    ("aws:cfg/deliveryChannel:DeliveryChannel", "name"): _botocore("config", "ChannelName"),
    ("aws:cfg/configurationAggregator:ConfigurationAggregator", "name"): _botocore(
        "config", "ConfigurationAggregatorName"
    ),
    ("aws:accessanalyzer/analyzer:Analyzer", "analyzerName"): _botocore("accessanalyzer", "Name"),
    ("aws:kms/alias:Alias", "name"): _botocore("kms", "AliasNameType"),
    ("aws:cloudwatch/eventRule:EventRule", "name"): _botocore("events", "RuleName"),
    ("aws:wafv2/webAcl:WebAcl", "name"): _botocore("wafv2", "EntityName"),
    ("aws:ecr/repository:Repository", "name"): _botocore("ecr", "RepositoryName"),
    ("aws:ssoadmin/permissionSet:PermissionSet", "name"): _botocore("sso-admin", "PermissionSetName"),
    ("aws:organizations/policy:Policy", "name"): _botocore("organizations", "PolicyName"),
    ("aws:organizations/organizationalUnit:OrganizationalUnit", "name"): _botocore(
        "organizations", "OrganizationalUnitName"
    ),
    ("aws:amp/workspace:Workspace", "alias"): _botocore("amp", "WorkspaceAlias"),
    ("aws:amp/ruleGroupNamespace:RuleGroupNamespace", "name"): _botocore("amp", "RuleGroupsNamespaceName"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name"): _botocore("cloudwatch", "AlarmName"),
    ("aws:s3/bucket:Bucket", "bucket"): _documented(
        63, r"[a-z0-9](?!.*\.\.)[a-z0-9.-]*[a-z0-9]", "S3 User Guide, general purpose bucket naming rules", 3
    ),
    ("aws:sqs/queue:Queue", "name"): _documented(
        80, r"[A-Za-z0-9_-]+(\.fifo)?", "SQS CreateQueue: up to 80 alphanumeric characters, hyphens and underscores"
    ),
    ("aws:sns/topic:Topic", "name"): _documented(
        256, r"[A-Za-z0-9_-]+(\.fifo)?", "SNS CreateTopic: up to 256 alphanumeric characters, hyphens and underscores"
    ),
    ("aws:rds/instance:Instance", "identifier"): _documented(
        63, HYPHENATED_ID, "RDS CreateDBInstance: 1-63 letters, digits or hyphens, a letter first, no -- or trailing -"
    ),
    ("aws:rds/parameterGroup:ParameterGroup", "name"): _documented(
        255, HYPHENATED_ID, "RDS CreateDBParameterGroup: 1-255 letters, digits or hyphens, a letter first"
    ),
    ("aws:rds/subnetGroup:SubnetGroup", "name"): _documented(
        255, r"[a-zA-Z0-9 ._-]+", "RDS CreateDBSubnetGroup: up to 255 letters, digits, spaces, periods, _ and -"
    ),
    ("aws:ec2/securityGroup:SecurityGroup", "name"): _documented(
        255, r"(?!sg-)[ -~]+", "EC2 CreateSecurityGroup: up to 255 ASCII characters, not starting with sg-"
    ),
    ("aws:ec2/launchTemplate:LaunchTemplate", "name"): _documented(
        128, r"[a-zA-Z0-9().\-/_]+", "EC2 CreateLaunchTemplate: 3-128 of a-zA-Z0-9().-/_", 3
    ),
    ("aws:eks/nodeGroup:NodeGroup", "nodeGroupName"): _documented(
        63, r"[0-9A-Za-z][A-Za-z0-9_-]*", "EKS CreateNodegroup: up to 63 letters, digits, - and _, alphanumeric first"
    ),
    ("aws:cloudtrail/trail:Trail", "name"): _documented(
        128, r"[A-Za-z0-9](?!.*[._-]{2})[A-Za-z0-9._-]*[A-Za-z0-9]", "CloudTrail CreateTrail: 3-128 characters", 3
    ),
    ("aws:cloudwatch/logDeliverySource:LogDeliverySource", "name"): _botocore("logs", "DeliverySourceName"),
    ("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "name"): _botocore(
        "logs", "DeliveryDestinationName"
    ),
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyName"): _documented(
        255, r"[ -~]+", "CloudWatch Logs PutResourcePolicy: policyName"
    ),
    ("aws:cloudfront/originAccessControl:OriginAccessControl", "name"): _documented(
        64, r"[ -~]+", "CloudFront CreateOriginAccessControl: Name, up to 64 characters"
    ),
}
"""(resource type, naming input) -> the rule its value must pass."""


@functools.cache
def naming_inputs(type_token: str) -> frozenset[str]:
    """The naming inputs (`name`, `bucket`, ...) a pulumi-aws resource type accepts, from the installed SDK."""
    package, module_path, cls_name = type_token.split(":")
    if package != "aws":
        return frozenset()
    module = pulumi_aws_module(module_path.split("/")[0])
    parameters = inspect.signature(getattr(module, cls_name)._internal_init).parameters
    names = {"name", "identifier", "node_group_name"} | ({"bucket"} if cls_name in ("Bucket", "BucketV2") else set())
    return frozenset(_camel(p) for p in parameters if p in names)  # elsewhere `bucket` names an existing bucket


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def physical_names(r: Recorded) -> list[tuple[str, str, bool]]:
    """(input, name, generated?) for every name `r` will carry in AWS."""
    found = []
    for (type_, key), _ in NAME_RULES.items():
        if type_ != r.type:
            continue
        value = r.inputs.get(key)
        if isinstance(value, str):
            found.append((key, value, False))
        elif value is None and r.inputs.get(f"{key}Prefix") is None:
            # pulumi-aws generates the name from the logical name when the program leaves it out
            found.append((key, f"{r.name}{AUTONAME_SUFFIX}", True))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_every_physical_name_passes_its_service_rule(plans: dict[str, Plan], stack: str) -> None:
    problems = {}
    checked = 0
    for r in plans[stack].resources:
        for key, name, generated in physical_names(r):
            rule = NAME_RULES[(r.type, key)]
            found = rule.problems(name)
            if found:
                what = "generated from the logical name" if generated else "set explicitly"
                problems[f"{r.urn} {key}={name!r} ({what})"] = f"{found} [{rule.source}]"
            checked += 1
    assert problems == {}
    assert checked > 30


NAMES_WITHOUT_RULES = {
    "aws:route53/record:Record": "the record's DNS name, a domain the stack file sets and config validates",
    "aws:acm/certificate:Certificate": "no name input",
    "aws:guardduty/detectorFeature:DetectorFeature": "the feature's name, an enum GuardDuty defines",
    "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature": "the feature's name, an enum",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_named_type_has_a_rule(plans: dict[str, Plan], stack: str) -> None:
    """A new resource type with a name (set, or generated by Pulumi) must get a rule above, or it is never checked."""
    missing = {
        (r.type, key)
        for r in plans[stack].resources
        for key in naming_inputs(r.type)
        if (r.type, key) not in NAME_RULES and r.type not in NAMES_WITHOUT_RULES
    }
    assert missing == set()


def test_name_rules_refuse_what_aws_refuses() -> None:
    role = NAME_RULES[("aws:iam/role:Role", "name")]
    assert role.problems("plat-prod-karpenter-controller") == []
    assert role.problems("x" * 65) == ["65 characters, allowed 1-64"]
    assert role.problems("has space") != []
    bucket = NAME_RULES[("aws:s3/bucket:Bucket", "bucket")]
    assert bucket.problems("Plat-Logs") != []
    assert bucket.problems("plat-logs") == []
    assert NAME_RULES[("aws:rds/instance:Instance", "identifier")].problems("db--x") != []
    assert naming_inputs("aws:iam/role:Role") == {"name"}
    assert naming_inputs("aws:s3/bucket:Bucket") == {"bucket"}


# --- tags -------------------------------------------------------------------------------------------------------------

MAX_TAGS = 50  # per resource, user tags including the provider's default tags (Tagging AWS resources, "Tag limits")
MAX_KEY, MAX_VALUE = 128, 256


def _default_tags(plan: Plan, r: Recorded) -> dict[str, str]:
    provider = plan_by_urn(plan).get(r.provider_urn or "")
    if provider is None:
        return {}
    default_tags = provider.inputs.get("defaultTags") or {}
    if isinstance(default_tags, str):  # provider inputs travel as JSON text
        default_tags = json.loads(default_tags)
    return dict(default_tags.get("tags") or {})


def plan_by_urn(plan: Plan) -> dict[str, Recorded]:
    return {r.urn: r for r in plan.resources}


@pytest.mark.parametrize("stack", STACKS)
def test_tags_stay_within_aws_limits(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    problems = []
    for r in plan.resources:
        tags = r.inputs.get("tags")
        if not isinstance(tags, dict):
            continue
        every = {**_default_tags(plan, r), **tags}
        if len(every) > MAX_TAGS:
            problems.append(f"{r.urn}: {len(every)} tags")
        for key, value in every.items():
            if len(key) > MAX_KEY or len(str(value)) > MAX_VALUE or key.lower().startswith("aws:"):
                problems.append(f"{r.urn}: tag {key!r}={value!r}")
    assert problems == []


# --- Helm and Kubernetes names ----------------------------------------------------------------------------------------

HELM_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
"""Helm 3 release names: at most 53 characters (they prefix object names limited to 63), DNS-1123 subdomain."""
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize("stack", STACKS)
def test_helm_release_and_namespace_names_are_valid(plans: dict[str, Plan], stack: str) -> None:
    for r in plans[stack].resources:
        if r.type == "kubernetes:helm.sh/v3:Release":
            name = r.inputs["name"]
            assert len(name) <= 53, f"{r.urn}: release name {name!r}"
            assert HELM_RELEASE_NAME.match(name), f"{r.urn}: release name {name!r}"
            namespace = r.inputs["namespace"]
            assert len(namespace) <= 63, f"{r.urn}: namespace {namespace!r}"
            assert DNS_LABEL.match(namespace), f"{r.urn}: namespace {namespace!r}"
        if r.type == "kubernetes:core/v1:Namespace":
            name = r.inputs["metadata"]["name"]
            assert len(name) <= 63, f"{r.urn}: namespace {name!r}"
            assert DNS_LABEL.match(name), f"{r.urn}: namespace {name!r}"
