"""Pulumi mocks that record every resource, shared by the tests and the offline plan.

`RecordingMonitor` wraps the SDK's mock monitor and keeps, for each registered resource, what a real engine would
know: type, logical name, inputs (wire names, camelCase), outputs, parent, provider, dependencies, property
dependencies and options (protect, deleteBeforeReplace, ...). It also refuses what the Pulumi engine refuses
(`ENGINE_RULES`): the SDK's own mock monitor accepts all of it silently, so a green offline plan could still stop a
real preview. `PlatformMocks` answers resource creation with
realistic computed outputs (ids, ARNs) and answers only the invokes the program is allowed to make: an unexpected
data-source call is an error, so plans stay deterministic and need no cloud.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockMonitor, set_mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

UNKNOWN = "<unknown>"
"""How a value unknown at plan time appears in recorded inputs."""

ALLOWED_INVOKES = {
    "aws:index/getPartition:getPartition",
    "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:index/getRegion:getRegion",
    # Identity Center lookups (shared-services only): they resolve names to ids, they never decide what exists.
    "aws:ssoadmin/getInstances:getInstances",
    "aws:identitystore/getGroup:getGroup",
}


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

ENGINE_RULES = {
    "duplicate-urn": "two resources with one URN (the engine: \"Duplicate resource URN '<urn>'; try giving it a unique "
    "name\"); a URN holds the parent's type, not its name, so name children after their component",
    "unknown-parent": 'a parent that was never registered (the engine: "could not find parent resource <urn>")',
    "provider-package": "a provider reference of another package than the resource's (the Python SDK drops such a "
    "`provider=` silently and falls back to the default provider, which `default-provider-disabled` then catches)",
    "unknown-provider": "a provider reference to no registered provider",
    "default-provider-disabled": "a custom resource without an explicit provider, for a package whose default provider "
    "`pulumi:disable-default-providers` turns off",
    "duplicate-alias": "an alias that is another resource's URN or that another resource also claims (the engine "
    "refuses both once the aliased resource exists in the state)",
}
"""What the recording monitor refuses, by rule id (pkg/resource/deploy/step_generator.go in pulumi/pulumi)."""


class EngineRuleError(RuntimeError):
    """The program registered something a real Pulumi engine would refuse."""

    def __init__(self, violations: Sequence[tuple[str, str]]) -> None:
        self.violations = list(violations)
        lines = [f"- [{rule}] {detail}" for rule, detail in self.violations]
        super().__init__("the Pulumi engine would refuse this program:\n" + "\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries (the offline plan renders in parallel)
        return (EngineRuleError, (self.violations,))


def engine_urn(stack: str, project: str, parent: str | None, type_: str, name: str) -> str:
    """The URN the engine gives a resource: the parent's *qualified type* (all its ancestors' types, without the
    root stack's) joined to the resource's type, then the name (`resource.NewURN` in the Pulumi engine)."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    custom: bool
    remote: bool
    parent: str | None
    provider: str | None
    """Provider reference `<provider urn>::<id>`, or None for components and the default provider."""
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str
    protect: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


_ID_PREFIX = {
    "aws:organizations/organizationalUnit:OrganizationalUnit": "ou-a1b2",
    "aws:organizations/policy:Policy": "p",
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/defaultRouteTable:DefaultRouteTable": "rtb",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
}


class PlatformMocks(Mocks):
    """Deterministic fake outputs for the resources the platform creates."""

    def __init__(self, *, account_id: str, region: str, partition: str = "aws", caller_role: str = "deployer") -> None:
        self.account_id = account_id
        self.region = region
        self.partition = partition
        self.caller_role = caller_role
        """The role whose session runs the program (sts:GetCallerIdentity's `assumed-role/<role>/...`)."""
        self.invokes: list[MockCallArgs] = []

    # Resource creation ------------------------------------------------------------------------------------------------

    account_of_provider: Callable[[str | None], str | None] = staticmethod(lambda ref: None)  # type: ignore[assignment]
    """Set by the monitor: the account an explicit provider is pinned to (allowedAccountIds)."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        account = self.account_of_provider(args.provider) or self.account_id
        if account != self.account_id:
            # A resource in a member account (shared-services stack): compute its outputs in that account.
            other = PlatformMocks(
                account_id=account, region=self.region, partition=self.partition, caller_role=self.caller_role
            )
            return other.new_resource(args)
        typ, name = args.typ, args.name
        inputs = dict(args.inputs)
        token = _digest(typ, name)
        prefix = _ID_PREFIX.get(typ)
        resource_id = f"{prefix}-{token}" if prefix else f"{name}-{token[:8]}"
        state = dict(inputs)
        # Policy documents may be given as objects; providers store (and output) them as JSON text.
        for key in ("policy", "assumeRolePolicy"):
            if isinstance(state.get(key), dict):
                state[key] = json.dumps(state[key], sort_keys=True)
        state.setdefault("id", resource_id)

        if "name" not in state and _autonamed(typ):
            state["name"] = f"{name}-{token[:7]}"
        state.setdefault("arn", self._arn(typ, state.get("name") or resource_id))
        state.setdefault("tagsAll", inputs.get("tags") or {})

        extra = _COMPUTED.get(typ)
        if extra is not None:
            state.update(extra(self, name, inputs, token))
        return resource_id, state

    def _arn(self, typ: str, resource: str) -> str:
        p, r, a = self.partition, self.region, self.account_id
        special = {
            "aws:sqs/queue:Queue": f"arn:{p}:sqs:{r}:{a}:{resource}",
            "aws:sns/topic:Topic": f"arn:{p}:sns:{r}:{a}:{resource}",
            "aws:cloudwatch/eventRule:EventRule": f"arn:{p}:events:{r}:{a}:rule/{resource}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:{p}:logs:{r}:{a}:log-group:{resource}",
            "aws:s3/bucket:Bucket": f"arn:{p}:s3:::{resource}",
            "aws:s3/bucketV2:BucketV2": f"arn:{p}:s3:::{resource}",
            "aws:rds/instance:Instance": f"arn:{p}:rds:{r}:{a}:db:{resource}",
            "aws:iam/instanceProfile:InstanceProfile": f"arn:{p}:iam::{a}:instance-profile/{resource}",
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider": f"arn:{p}:iam::{a}:oidc-provider/{resource}",
            "aws:acm/certificate:Certificate": f"arn:{p}:acm:{r}:{a}:certificate/{resource}",
            "aws:cloudfront/distribution:Distribution": f"arn:{p}:cloudfront::{a}:distribution/{resource}",
            "aws:route53/record:Record": f"arn:{p}:route53:::{resource}",
        }
        if typ in special:
            return special[typ]
        module = typ.split(":")[1].split("/")[0] if ":" in typ else "x"
        service = {"cloudwatch": "logs", "vpc": "ec2"}.get(module, module)
        kind = typ.split(":")[-1].lower()
        if service == "iam":
            return f"arn:{p}:iam::{a}:{kind}/{resource}"
        return f"arn:{p}:{service}:{r}:{a}:{kind}/{resource}"

    def _queue(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        queue = inputs.get("name") or f"{name}-{token[:7]}"
        return {"url": f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{queue}", "name": queue}

    def _vpc(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "defaultRouteTableId": f"rtb-{_digest(token, 'rt')}",
            "defaultSecurityGroupId": f"sg-{_digest(token, 'sg')}",
            "defaultNetworkAclId": f"acl-{_digest(token, 'acl')}",
            "mainRouteTableId": f"rtb-{_digest(token, 'rt')}",
        }
        if inputs.get("assignGeneratedIpv6CidrBlock"):
            out["ipv6CidrBlock"] = "2a05:d018:1e4:ab00::/56"
        return out

    def _eip(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        return {"publicIp": f"203.0.113.{int(token[:2], 16) % 250 + 1}", "allocationId": f"eipalloc-{token}"}

    def _kms_key(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        key_id = f"{token[:8]}-{token[8:12]}-4{token[12:15]}-a{token[15:17]}0-{_digest(token, length=12)}"
        return {"keyId": key_id, "arn": f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/{key_id}"}

    def _launch_template(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        return {"latestVersion": 1, "defaultVersion": 1}

    def _node_group(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        prefix = inputs.get("nodeGroupNamePrefix") or f"{name}-"
        return {"nodeGroupName": inputs.get("nodeGroupName") or f"{prefix}{token[:26]}", "status": "ACTIVE"}

    def _permission_set(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        instance = str(inputs.get("instanceArn", "arn:aws:sso:::instance/ssoins-0")).rsplit("/", 1)[-1]
        return {"arn": f"arn:{self.partition}:sso:::permissionSet/{instance}/ps-{token[:16]}"}

    def _ecr_repository(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        repo = inputs.get("name", name)
        return {
            "repositoryUrl": f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{repo}",
            "arn": f"arn:{self.partition}:ecr:{self.region}:{self.account_id}:repository/{repo}",
            "registryId": self.account_id,
        }

    def _trail(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "arn": f"arn:{self.partition}:cloudtrail:{self.region}:{self.account_id}:trail/{inputs.get('name', name)}"
        }

    def _oidc_provider(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        host = str(inputs.get("url", "")).removeprefix("https://")
        return {"arn": f"arn:{self.partition}:iam::{self.account_id}:oidc-provider/{host}"}

    def _rds_instance(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        identifier = inputs.get("identifier") or f"{name}-{token[:7]}"
        address = f"{identifier}.c{token[:10]}.{self.region}.rds.amazonaws.com"
        secret = f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret:rds!db-{token[:8]}-AbCdEf"
        return {
            "address": address,
            "endpoint": f"{address}:{inputs.get('port', 5432)}",
            "port": inputs.get("port", 5432),
            "resourceId": f"db-{token[:26].upper()}",
            "masterUserSecrets": [{"secretArn": secret, "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"),
                                   "secretStatus": "active"}],
        }  # fmt: skip

    def _amp_workspace(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        workspace = f"ws-{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:32]}"
        return {
            "arn": f"arn:{self.partition}:aps:{self.region}:{self.account_id}:workspace/{workspace}",
            "prometheusEndpoint": f"https://aps-workspaces.{self.region}.amazonaws.com/workspaces/{workspace}/",
        }

    def _web_acl(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
        region = "us-east-1" if scope == "global" else self.region
        uid = _digest(token, "webacl", length=32)
        acl = f"{inputs.get('name', name)}/{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"
        return {"arn": f"arn:{self.partition}:wafv2:{region}:{self.account_id}:{scope}/webacl/{acl}"}

    def _certificate(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        domain = str(inputs.get("domainName", "example.com"))
        record = {
            "resourceRecordName": f"_{token[:32]}.{domain.removeprefix('*.')}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{_digest(token, 'acm', length=32)}.xlfgrmvvlj.acm-validations.aws.",
        }
        names = [domain, *inputs.get("subjectAlternativeNames", [])]
        return {"domainValidationOptions": [{"domainName": n, **record} for n in names], "status": "ISSUED"}

    def _route53_record(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        return {"fqdn": str(inputs.get("name", name)).rstrip(".")}

    def _distribution(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        return {"domainName": f"d{token[:13]}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2", "status": "Deployed"}

    def _random_id(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        length = int(inputs.get("byteLength", 4))
        return {"hex": token[: length * 2], "b64Url": token[: length * 2], "dec": str(int(token[:8], 16))}

    def _eks_component(self, name: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
        """Outputs of the pulumi-eks Cluster component (its children are not simulated)."""
        cluster = inputs.get("name") or f"{name}-{token[:7]}"
        issuer = f"https://oidc.eks.{self.region}.amazonaws.com/id/{token[:32].upper()}"
        endpoint = f"https://{token[:32].upper()}.gr7.{self.region}.eks.amazonaws.com"
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": "TUlJQ0FBPT0="}}
            ],
            "contexts": [{"name": "aws", "context": {"cluster": cluster, "user": "aws"}}],
            "current-context": "aws",
            "users": [
                {
                    "name": "aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster, "--output", "json"],
                        }
                    },
                }
            ],
        }
        return {
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig),
            "oidcIssuer": issuer.removeprefix("https://"),
            "oidcProviderUrl": issuer,
            "oidcProviderArn": f"arn:{self.partition}:iam::{self.account_id}:oidc-provider/{issuer.removeprefix('https://')}",
            "clusterSecurityGroupId": f"sg-{_digest(token, 'cluster-sg')}",
        }

    # Invokes ----------------------------------------------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]  # the monitor accepts a dict
        self.invokes.append(args)
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": self.partition, "dnsSuffix": "amazonaws.com", "id": self.partition}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:{self.partition}:sts::{self.account_id}:assumed-role/{self.caller_role}/offline"
            return {"accountId": self.account_id, "arn": arn, "userId": "AROAOFFLINE", "id": self.account_id}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:ssoadmin/getInstances:getInstances":
            arn = f"arn:{self.partition}:sso:::instance/ssoins-{_digest(self.account_id, length=16)}"
            return {"arns": [arn], "identityStoreIds": [f"d-{_digest(self.account_id, length=10)}"],
                    "id": self.region}  # fmt: skip
        if args.token == "aws:identitystore/getGroup:getGroup":
            name = args.args.get("alternateIdentifier", {}).get("uniqueAttribute", {}).get("attributeValue", "")
            token = _digest(name, length=32)
            group_id = f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:32]}"
            return {"groupId": group_id, "displayName": name, "id": group_id,
                    "identityStoreId": args.args.get("identityStoreId")}  # fmt: skip
        raise NotImplementedError(
            f"the offline mocks do not answer invoke {args.token}: values that decide the plan must come from "
            f"config (see README, 'Testing'); allowed invokes: {sorted(ALLOWED_INVOKES)}"
        )


_COMPUTED: dict[str, Callable[[PlatformMocks, str, dict[str, Any], str], dict[str, Any]]] = {
    "aws:ec2/vpc:Vpc": PlatformMocks._vpc,
    "aws:ec2/eip:Eip": PlatformMocks._eip,
    "aws:kms/key:Key": PlatformMocks._kms_key,
    "aws:ec2/launchTemplate:LaunchTemplate": PlatformMocks._launch_template,
    "aws:eks/nodeGroup:NodeGroup": PlatformMocks._node_group,
    "aws:sqs/queue:Queue": PlatformMocks._queue,
    "aws:rds/instance:Instance": PlatformMocks._rds_instance,
    "random:index/randomId:RandomId": PlatformMocks._random_id,
    "aws:ssoadmin/permissionSet:PermissionSet": PlatformMocks._permission_set,
    "aws:ecr/repository:Repository": PlatformMocks._ecr_repository,
    "aws:cloudtrail/trail:Trail": PlatformMocks._trail,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": PlatformMocks._oidc_provider,
    "eks:index:Cluster": PlatformMocks._eks_component,
    "aws:amp/workspace:Workspace": PlatformMocks._amp_workspace,
    "aws:wafv2/webAcl:WebAcl": PlatformMocks._web_acl,
    "aws:acm/certificate:Certificate": PlatformMocks._certificate,
    "aws:cloudfront/distribution:Distribution": PlatformMocks._distribution,
    "aws:route53/record:Record": PlatformMocks._route53_record,
}


def _autonamed(typ: str) -> bool:
    """Resource types whose `name` Pulumi fills in (auto-naming) when the program leaves it out."""
    return typ.split(":")[-1] in {
        "Role", "Policy", "LogGroup", "Queue", "Topic", "SecurityGroup", "Rule", "Secret", "Repository",
        "ParameterGroup", "SubnetGroup", "Bucket", "BucketV2", "LaunchTemplate", "InstanceProfile", "EventRule",
        "MetricAlarm",
    }  # fmt: skip


class RecordingMonitor(MockMonitor):
    """The SDK mock monitor, plus a record of every registration and of component outputs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        if isinstance(mocks, PlatformMocks):
            mocks.account_of_provider = self._account_of_provider
        self.recorded: list[Recorded] = []
        self.by_urn: dict[str, Recorded] = {}
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self.violations: list[tuple[str, str]] = []
        """Engine rules broken so far (rule id, detail); `run_under_mocks` raises them together."""
        self.disabled_default_providers: frozenset[str] = frozenset()
        self._registered: set[str] = set()
        self._aliased: dict[str, str] = {}
        """Alias URN -> the URN of the resource claiming it."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return engine_urn(get_stack(), get_project(), parent or None, type_, name)

    def _refuse(self, rule: str, detail: str) -> None:
        self.violations.append((rule, detail))

    def _check_engine_rules(self, request: Any, urn: str) -> None:
        if request.parent and request.parent not in self._registered:
            self._refuse("unknown-parent", f"{urn}: could not find parent resource {request.parent}")
        if urn in self._registered:
            self._refuse("duplicate-urn", f"Duplicate resource URN '{urn}'; try giving it a unique name")
        if urn in self._aliased:
            self._refuse("duplicate-alias", f"{urn} is also claimed as an alias by {self._aliased[urn]}")
        package = request.type.split(":")[0]
        if request.custom and not request.type.startswith("pulumi:providers:"):
            if request.provider:
                self._check_provider(urn, package, request.provider)
            elif package in self.disabled_default_providers:
                self._refuse(
                    "default-provider-disabled",
                    f"{urn}: default provider for '{package}' disabled; pass an explicit provider",
                )
        for key, ref in request.providers.items():
            self._check_provider(urn, key, ref)
        for alias_urn in sorted({self._alias_urn(request, alias) for alias in request.aliases} - {urn}):
            if alias_urn in self._registered:
                self._refuse("duplicate-alias", f"{urn} aliases {alias_urn}, which is another resource's URN")
            elif alias_urn in self._aliased:
                self._refuse("duplicate-alias", f"{urn} and {self._aliased[alias_urn]} both alias {alias_urn}")
            self._aliased[alias_urn] = urn

    def _check_provider(self, urn: str, package: str, ref: str) -> None:
        provider_urn = ref.rsplit("::", 1)[0]
        provider_type = provider_urn.split("::")[2].split("$")[-1]
        if provider_urn not in self._registered:
            self._refuse("unknown-provider", f"{urn}: provider {provider_urn} was never registered")
        elif provider_type != f"pulumi:providers:{package}":
            self._refuse("provider-package", f"{urn} ({package}) was given provider {provider_urn}")

    def _alias_urn(self, request: Any, alias: Any) -> str:
        """An alias spec collapsed to a URN as the engine does (`collapseAliasToUrn`)."""
        if alias.urn:
            return alias.urn
        spec = alias.spec
        parent = None if spec.noParent else (spec.parentUrn or request.parent or None)
        return engine_urn(
            spec.stack or get_stack(),
            spec.project or get_project(),
            parent,
            spec.type or request.type,
            spec.name or request.name,
        )

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        # The SDK's mock monitor deserialises inputs into SDK objects, which rehydrates resource references with
        # asynchronous lookups started on the monitor's thread; they can outlive the run and break the next one.
        # This monitor hands the mocks plain values instead (references as {"$resource": urn}, unknowns kept).
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == ROOT_STACK_TYPE:
            self._registered.add(urn)
            return resource_pb2.RegisterResourceResponse(urn=urn)
        self._check_engine_rules(request, urn)
        duplicate = urn in self._registered
        self._registered.add(urn)
        wire = json_format.MessageToDict(request.object)
        resource_args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=from_wire(wire, unknown=rpc.UNKNOWN),
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        resource_id, state = self.mocks.new_resource(resource_args)
        state = {k: v for k, v in state.items() if not (isinstance(v, dict) and set(v) == {"$resource"})}
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id or "", state)
        response = resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=obj_proto)
        inputs = from_wire(wire)
        registration = self.resources[response.urn]
        record = Recorded(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            remote=bool(request.remote),
            parent=request.parent or None,
            provider=request.provider or None,
            inputs=inputs,
            outputs=from_wire(registration.state),
            id=registration.id or "",
            protect=bool(request.protect),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            options={
                "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                "ignoreChanges": list(request.ignoreChanges),
                "retainOnDelete": bool(request.retainOnDelete),
                "deletedWith": request.deletedWith or None,
                "replaceOnChanges": list(request.replaceOnChanges),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "aliases": sorted({self._alias_urn(request, a) for a in request.aliases} - {urn}),
                "providers": dict(request.providers),
                "version": request.version or None,
            },
        )
        if not duplicate:  # the first registration stands; the duplicate is already reported
            self.recorded.append(record)
            self.by_urn[record.urn] = record
        return response

    def _account_of_provider(self, ref: str | None) -> str | None:
        if not ref:
            return None
        registration = self.resources.get(ref.rsplit("::", 1)[0])
        if registration is None:
            return None
        accounts = registration.state.get("allowedAccountIds")
        if isinstance(accounts, str):
            accounts = json.loads(accounts)
        return accounts[0] if accounts else None

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        outputs = from_wire(json_format.MessageToDict(request.outputs)) if request.outputs else {}
        self.component_outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)


def from_wire(value: Any, *, unknown: str = UNKNOWN) -> Any:
    """Plain Python values from Pulumi's wire form: secrets unwrapped, resource references as {"$resource": urn},
    unknowns as `unknown` (the `UNKNOWN` marker by default), and whole-number floats (protobuf Struct numbers) back to
    ints."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return from_wire(value.get("value"), unknown=unknown)
        if sig == rpc._special_resource_sig:
            return {"$resource": value.get("urn")}
        if sig == rpc._special_output_value_sig:
            return from_wire(value.get("value", rpc.UNKNOWN), unknown=unknown)
        return {k: from_wire(v, unknown=unknown) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_wire(v, unknown=unknown) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN or isinstance(value, pulumi.output.Unknown):
        return unknown
    return value


@dataclass
class MockRun:
    monitor: RecordingMonitor
    mocks: PlatformMocks
    exports: dict[str, Any]
    secret_exports: list[str]


def run_under_mocks(
    body: Callable[[], Any],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: Sequence[str] = (),
    account_id: str,
    region: str,
    partition: str = "aws",
    preview: bool = False,
    caller_role: str = "deployer",
) -> MockRun:
    """Run `body` as a Pulumi program under recording mocks, wait until every registration is done, and return the
    record. The Pulumi runtime is process-global, so this resets it first: runs do not leak into each other.

    With `preview=True`, outputs the mocks do not return stay unknown, as during `pulumi preview`. Raises
    `EngineRuleError` listing every registration a real engine would refuse (`ENGINE_RULES`)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi_settings.reset_options(project=project, stack=stack)
    set_all_config(dict(config), list(secret_keys))
    mocks = PlatformMocks(account_id=account_id, region=region, partition=partition, caller_role=caller_role)
    monitor = RecordingMonitor(mocks)
    disabled = config.get("pulumi:disable-default-providers")
    monitor.disabled_default_providers = frozenset(json.loads(disabled) if disabled else ())
    set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    _sync_await(run_pulumi_func(body))
    if monitor.violations:
        raise EngineRuleError(monitor.violations)

    exports: dict[str, Any] = {}
    secret: list[str] = []
    root = pulumi_settings.get_root_resource()
    for key, value in (getattr(root, "outputs", None) or {}).items():
        out = pulumi.Output.from_input(value)
        exports[key] = _sync_await(out.future()) if _sync_await(out.is_known()) else UNKNOWN
        if _sync_await(out.is_secret()):
            secret.append(key)
    return MockRun(monitor=monitor, mocks=mocks, exports=exports, secret_exports=secret)
