"""NodePools: Karpenter, installed completely, and the amd64/arm64 node pools with a Spot/On-Demand mix.

Creates:
- the node IAM role (worker, CNI, ECR pull-only and SSM managed policies) and its EKS access entry of type
  EC2_LINUX, without which launched instances never join;
- the EC2 Spot service-linked role when config asks (it is account-wide and missing in fresh accounts);
- the controller role for EKS Pod Identity (kube-system/karpenter) with exactly the policies Karpenter's official
  CloudFormation grants for the pinned version (`karpenter.py`), scoped by cluster tags;
- interruption handling: a KMS-encrypted SQS queue (300 s retention, TLS-only policy, writable only by this
  account's EventBridge rules: `aws:SourceAccount`, `aws:SourceArn`, on the queue and its key) and EventBridge rules for
  Spot interruption warnings, rebalance recommendations, instance state changes, AWS Health scheduled changes and
  capacity-reservation interruptions, all targeting it;
- the Helm releases of the `karpenter-crd` chart (CRDs upgrade with the controller) and the controller chart, both
  pinned to the configured version, the controller on the system nodes with 2 replicas spread over AZs and a PDB;
- a NetworkPolicy isolating the controller's pods in kube-system (only the platform's scraper reaches them);
- the EC2NodeClass (pinned AMI alias, discovery-tag selectors, IMDSv2 hop 1, encrypted gp3 root volume) and the
  NodePools rendered by `manifests.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.component import NODE_MANAGED_POLICIES, Cluster
from components.network.cidr import plan_subnets
from components.network.component import Network
from components.nodepools import karpenter, manifests
from components.nodepools.config import KarpenterConfig
from core import iam, kubernetes
from core.blocks import addon, customer_key, network_policies, pod_identity_role
from core.component import PlatformComponent
from core.context import StackContext
from core.kubernetes import (
    SYSTEM_CLUSTER_CRITICAL,
    node_spread,
    system_node_affinity,
    system_toleration,
    zone_spread,
)
from core.tags import merge_tags

TYPE = "aws-platform:platform:NodePools"
NOT_ON_KARPENTER_NODES = {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"}
"""Karpenter must never run on a node it manages (it could consolidate its own node away)."""


@dataclass(frozen=True, kw_only=True)
class NodePoolsArgs:
    ctx: StackContext
    config: KarpenterConfig
    cluster: Cluster
    """Karpenter runs on its system nodes; node volumes use its customer key."""
    network: Network
    """The zones the node pools may launch in."""


class NodePools(PlatformComponent):
    node_role_arn: pulumi.Output[str]
    controller_role_arn: pulumi.Output[str]
    interruption_queue_name: pulumi.Output[str]
    node_pool_names: list[str]

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        cfg = args.config
        handle = args.cluster
        cluster = handle.cluster_name

        node_role_name = ctx.namer.physical("karpenter-node", service="iam-role")
        controller_role_name = ctx.namer.physical("karpenter-controller", service="iam-role")
        queue_name = ctx.namer.physical("karpenter", service="sqs")
        node_role_arn = ctx.arn("iam", f"role/{node_role_name}", region="")
        queue_arn = ctx.arn("sqs", queue_name)

        # Nodes ---------------------------------------------------------------------------------------------------
        node_role = aws.iam.Role(
            self.child_name("node"),
            name=node_role_name,
            description=f"Karpenter nodes of {cluster}",
            assume_role_policy=iam.service_trust(ctx, "ec2", source_account=False),
            tags=self._tags("karpenter-node"),
            opts=self.child_opts("node"),
        )
        for policy in NODE_MANAGED_POLICIES:
            aws.iam.RolePolicyAttachment(
                self.child_name(f"node-{policy}"),
                role=node_role.name,
                policy_arn=ctx.managed_policy(policy),
                opts=self.child_opts(f"node-{policy}"),
            )
        access_entry = aws.eks.AccessEntry(
            self.child_name("node"),
            cluster_name=handle.name,
            principal_arn=node_role.arn,
            type="EC2_LINUX",
            tags=self._tags("karpenter-node"),
            opts=self.child_opts("node"),
        )
        self.node_role_arn = node_role.arn
        if cfg.create_spot_service_linked_role:
            aws.iam.ServiceLinkedRole(
                self.child_name("spot"),
                aws_service_name="spot.amazonaws.com",
                description="EC2 Spot (account-wide; kept when the stack is destroyed)",
                tags=self._tags("spot"),
                opts=self.child_opts("spot", retain_on_delete=True),
            )

        # Controller identity: made before the add-on, because the interruption queue's key policy names the role ----
        scope = karpenter.Scope(
            partition=ctx.partition,
            region=ctx.region,
            account_id=ctx.account_id,
            cluster_name=cluster,
            node_role_arn=node_role_arn,
            queue_arn=queue_arn,
            dns_suffix=ctx.dns_suffix,
        )
        controller_role = pod_identity_role(
            self,
            "controller",
            ctx=ctx,
            cluster=handle,
            namespace=karpenter.NAMESPACE,
            service_account=karpenter.SERVICE_ACCOUNT,
            description=f"Karpenter controller of {cluster} (EKS Pod Identity)",
            policies=karpenter.controller_policies(cfg.version, scope),
            role_name=controller_role_name,
            tags=self._tags("karpenter-controller"),
        )
        self.controller_role_arn = controller_role.role.arn

        # Interruption handling -----------------------------------------------------------------------------------
        queue = self._interruption_queue(queue_name, queue_arn, controller_role_name, controller_role.role)
        self.interruption_queue_name = queue.name

        # Controller and CRDs -------------------------------------------------------------------------------------
        # The CRD chart keeps Helm's defaults (no atomic rollback), as it was installed before the add-on block.
        crds = addon(
            self,
            "karpenter-crd",
            ctx=ctx,
            cluster=handle,
            namespace=karpenter.NAMESPACE,
            chart=karpenter.CRD_CHART,
            version=cfg.version,
            repository=None,
            values=None,
            atomic=False,
        )
        controller = addon(
            self,
            "karpenter",
            ctx=ctx,
            cluster=handle,
            namespace=karpenter.NAMESPACE,
            chart=karpenter.CONTROLLER_CHART,
            version=cfg.version,
            repository=None,
            values=controller_values(cluster_name=cluster, cluster_endpoint=handle.endpoint, queue_name=queue_name),
            role=controller_role,
            depends_on=[crds.release, access_entry, queue],
            skip_crds=True,
        ).release

        # Only the scraper reaches the controller (metrics); the kubelet's probes come from the node, which the
        # network policy agent always admits. Karpenter 1.x serves no admission or conversion webhook.
        database = plan_subnets(args.network.cidr, args.network.zones).database.values()
        network_policies(
            self,
            [controller_network_policy(database_cidrs=[str(block) for block in database])],
            cluster=handle,
            depends_on=[controller],
        )

        # Node class and pools ------------------------------------------------------------------------------------
        node_class = manifests.node_class(
            cfg, cluster_name=cluster, node_role_name=node_role_name, kms_key_arn=handle.kms_key_arn, tags=ctx.tags
        )
        nc = k8s.apiextensions.CustomResource(
            self.child_name("node-class"),
            api_version=node_class["apiVersion"],
            kind=node_class["kind"],
            metadata=node_class["metadata"],
            spec=node_class["spec"],
            opts=self.child_opts("node-class", provider=handle.provider, depends_on=[controller]),
        )
        self.node_pool_names = []
        for pool in manifests.node_pools(cfg, zones=args.network.zones):
            pool_name = pool["metadata"]["name"]
            k8s.apiextensions.CustomResource(
                self.child_name(f"node-pool-{pool_name}"),
                api_version=pool["apiVersion"],
                kind=pool["kind"],
                metadata=pool["metadata"],
                spec=pool["spec"],
                opts=self.child_opts(f"node-pool-{pool_name}", provider=handle.provider, depends_on=[controller, nc]),
            )
            self.node_pool_names.append(pool_name)

        self.register_outputs(
            {
                "nodeRoleArn": self.node_role_arn,
                "controllerRoleArn": self.controller_role_arn,
                "interruptionQueueName": self.interruption_queue_name,
                "nodePools": self.node_pool_names,
            }
        )

    def _tags(self, name: str, component: Mapping[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, dict(component or {}), self._ctx.namer.physical(name))

    def _interruption_queue(
        self, queue_name: str, queue_arn: str, controller_role_name: str, controller_role: aws.iam.Role
    ) -> aws.sqs.Queue:
        ctx = self._ctx
        controller_arn = ctx.arn("iam", f"role/{controller_role_name}", region="")
        key = customer_key(
            self,
            "interruption",
            ctx=ctx,
            description=f"{ctx.namer.base} Karpenter interruption queue",
            policy=iam.kms_key_policy(
                ctx,
                [
                    karpenter.eventbridge_key_statement(
                        queue_arn,
                        partition=ctx.partition,
                        region=ctx.region,
                        account_id=ctx.account_id,
                        dns_suffix=ctx.dns_suffix,
                    ),
                    iam.statement(
                        "ControllerDecrypts",
                        ["kms:Decrypt", "kms:DescribeKey"],
                        principal={"AWS": controller_arn},
                    ),
                ],
            ),
            tags=self._tags("karpenter-interruption"),
            depends_on=[controller_role],
        )
        queue = aws.sqs.Queue(
            self.child_name("interruption"),
            name=queue_name,
            message_retention_seconds=300,
            kms_master_key_id=key.arn,
            kms_data_key_reuse_period_seconds=300,
            tags=self._tags("karpenter-interruption"),
            opts=self.child_opts("interruption"),
        )
        aws.sqs.QueuePolicy(
            self.child_name("interruption"),
            queue_url=queue.url,
            policy=karpenter.queue_policy(
                queue_arn,
                partition=ctx.partition,
                region=ctx.region,
                account_id=ctx.account_id,
                dns_suffix=ctx.dns_suffix,
            ),
            opts=self.child_opts("interruption"),
        )
        for rule_name, source, detail_type in karpenter.INTERRUPTION_EVENTS:
            rule = aws.cloudwatch.EventRule(
                self.child_name(f"interruption-{rule_name}"),
                description=f"Karpenter interruption handling: {detail_type}",
                event_pattern=json.dumps(karpenter.event_pattern(source, detail_type), sort_keys=True),
                tags=self._tags(f"karpenter-{rule_name}"),
                opts=self.child_opts(f"interruption-{rule_name}"),
            )
            aws.cloudwatch.EventTarget(
                self.child_name(f"interruption-{rule_name}"),
                rule=rule.name,
                target_id="KarpenterInterruptionQueueTarget",
                arn=queue.arn,
                opts=self.child_opts(f"interruption-{rule_name}"),
            )
        return queue


CONTROLLER_METRICS_PORT = 8080
"""The controller's metrics port (chart value `controller.metrics.port`), the Service port `http-metrics`."""
CONTROLLER_POD_LABELS = {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}


def controller_network_policy(*, database_cidrs: list[str]) -> dict[str, Any]:
    """A NetworkPolicy selecting only Karpenter's pods in kube-system (EKS's own pods there stay unselected): ingress
    is denied but for the platform's scraper on the metrics port; egress reaches anything but the database subnets."""
    return kubernetes.network_policy(
        "karpenter",
        karpenter.NAMESPACE,
        pod_selector=CONTROLLER_POD_LABELS,
        ingress=[kubernetes.scraper_ingress(CONTROLLER_METRICS_PORT)],
        egress=[kubernetes.egress_except(database_cidrs)],
        labels={"app.kubernetes.io/managed-by": "pulumi"},
    )


def controller_values(*, cluster_name: str, cluster_endpoint: Any, queue_name: str) -> dict[str, Any]:
    """Helm values of the controller chart: identity, settings and placement on the system node group."""
    selector = dict(CONTROLLER_POD_LABELS)
    return {
        "settings": {
            "clusterName": cluster_name,
            "clusterEndpoint": cluster_endpoint,
            "interruptionQueue": queue_name,
        },
        "serviceAccount": {"create": True, "name": karpenter.SERVICE_ACCOUNT},
        "replicas": 2,
        "priorityClassName": SYSTEM_CLUSTER_CRITICAL,
        "tolerations": [system_toleration()],
        "affinity": {
            "nodeAffinity": system_node_affinity(NOT_ON_KARPENTER_NODES),
            "podAntiAffinity": node_spread(selector, required=True),
        },
        "topologySpreadConstraints": zone_spread(selector, when_unsatisfiable="DoNotSchedule"),
        "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
        "controller": {
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
        },
    }
