"""Karpenter objects as plain dicts: the EC2NodeClass and the NodePools of each architecture pool.

Pure functions: tests validate their output against Karpenter's CRD schemas, and the component passes the same
dicts to Kubernetes (values that other resources produce, such as the KMS key ARN, may be Pulumi Inputs).

Spot/On-Demand mix (Karpenter's weighted-NodePool pattern): a pool with an On-Demand floor becomes two NodePools,
`<arch>-on-demand` (weight 100, limited to the floor's vCPUs) and `<arch>-spot` (weight 50, Spot first with
On-Demand fallback, the rest of the pool's limits). Karpenter schedules onto the highest-weight pool that fits and
moves to the next one when its limits are reached, so the first `onDemandBaseCpu` vCPUs are always On-Demand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from components.nodepools.config import KarpenterConfig, NodePoolConfig
from core.kubernetes import ARCH_LABEL, OS_LABEL, ZONE_TOPOLOGY_KEY

NODE_CLASS = "default"
POOL_LABEL = "platform/pool"
CAPACITY_LABEL = "platform/capacity"
WORKLOAD_LABEL = ("node-role/workload", "true")
ON_DEMAND_WEIGHT = 100
SPOT_WEIGHT = 50


def node_class(
    cfg: KarpenterConfig,
    *,
    cluster_name: str,
    node_role_name: str,
    kms_key_arn: Any,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    family = cfg.ami_alias.split("@", 1)[0]
    volume = {
        "volumeSize": f"{cfg.root_volume_gib}Gi",
        "volumeType": "gp3",
        "encrypted": True,
        "kmsKeyID": kms_key_arn,
        "deleteOnTermination": True,
    }
    if family == "bottlerocket":
        # Bottlerocket: a small OS volume and a data volume for images and containers.
        devices = [
            {"deviceName": "/dev/xvda", "ebs": {**volume, "volumeSize": "4Gi"}},
            {"deviceName": "/dev/xvdb", "ebs": volume},
        ]
    else:
        devices = [{"deviceName": "/dev/xvda", "ebs": volume}]
    discovery = [{"tags": {"karpenter.sh/discovery": cluster_name}}]
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": NODE_CLASS},
        "spec": {
            "role": node_role_name,
            "amiSelectorTerms": [{"alias": cfg.ami_alias}],
            "subnetSelectorTerms": discovery,
            "securityGroupSelectorTerms": discovery,
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "blockDeviceMappings": devices,
            "detailedMonitoring": cfg.detailed_monitoring,
            "tags": {k: v for k, v in tags.items() if k != "Name"},
        },
    }


def _memory_share(pool: NodePoolConfig, cpus: int) -> int:
    return math.ceil(pool.memory_limit_gib * cpus / pool.cpu_limit)


def _pool(
    name: str,
    pool: NodePoolConfig,
    cfg: KarpenterConfig,
    *,
    capacity_types: Sequence[str],
    weight: int,
    cpus: int,
    memory_gib: int,
    zones: Sequence[str],
) -> dict[str, Any]:
    budgets = []
    for b in cfg.budgets:
        budget: dict[str, Any] = {"nodes": b.nodes}
        if b.schedule is not None:
            budget["schedule"] = b.schedule
            budget["duration"] = b.duration
        if b.reasons:
            budget["reasons"] = list(b.reasons)
        budgets.append(budget)
    capacity = "on-demand" if list(capacity_types) == ["on-demand"] else "spot"
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "weight": weight,
            "limits": {"cpu": str(cpus), "memory": f"{memory_gib}Gi"},
            "disruption": {
                "consolidationPolicy": "WhenEmptyOrUnderutilized",
                "consolidateAfter": cfg.consolidate_after,
                "budgets": budgets,
            },
            "template": {
                "metadata": {
                    "labels": {
                        WORKLOAD_LABEL[0]: WORKLOAD_LABEL[1],
                        POOL_LABEL: pool.architecture,
                        CAPACITY_LABEL: capacity,
                    }
                },
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": NODE_CLASS},
                    "requirements": [
                        {"key": ARCH_LABEL, "operator": "In", "values": [pool.architecture]},
                        {"key": OS_LABEL, "operator": "In", "values": ["linux"]},
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(capacity_types)},
                        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": list(pool.families)},
                        {"key": "karpenter.k8s.aws/instance-size", "operator": "In", "values": list(pool.sizes)},
                        {"key": ZONE_TOPOLOGY_KEY, "operator": "In", "values": list(zones)},
                    ],
                    "expireAfter": cfg.expire_after,
                    "terminationGracePeriod": cfg.termination_grace_period,
                },
            },
        },
    }


def node_pools(cfg: KarpenterConfig, *, zones: Sequence[str]) -> list[dict[str, Any]]:
    """The NodePools of every configured architecture pool, with the Spot/On-Demand split described above."""
    rendered = []
    for arch, pool in cfg.node_pools.items():
        base = pool.on_demand_base_cpu
        if not pool.spot:
            rendered.append(
                _pool(
                    arch,
                    pool,
                    cfg,
                    capacity_types=["on-demand"],
                    weight=ON_DEMAND_WEIGHT,
                    cpus=pool.cpu_limit,
                    memory_gib=pool.memory_limit_gib,
                    zones=zones,
                )
            )
            continue
        if base:
            rendered.append(
                _pool(
                    f"{arch}-on-demand",
                    pool,
                    cfg,
                    capacity_types=["on-demand"],
                    weight=ON_DEMAND_WEIGHT,
                    cpus=base,
                    memory_gib=_memory_share(pool, base),
                    zones=zones,
                )
            )
        rest = pool.cpu_limit - base
        rendered.append(
            _pool(
                f"{arch}-spot",
                pool,
                cfg,
                capacity_types=["spot", "on-demand"],
                weight=SPOT_WEIGHT,
                cpus=rest,
                memory_gib=pool.memory_limit_gib - (_memory_share(pool, base) if base else 0),
                zones=zones,
            )
        )
    return rendered
