"""Prometheus recording and alerting rules for the platform's signals (pure data; rendered as the AMP rule file).

Metric names: kube-state-metrics (`kube_node_status_condition`, `kube_pod_*`) and Karpenter 1.x
(`karpenter_cloudprovider_errors_total`, `karpenter_cluster_state_synced`, from its reference/metrics page).
Thresholds and `for` durations follow the kubernetes-mixin alerts they are modelled on. Job names
(`kube-state-metrics`, `karpenter`, `kubernetes-pods`) are the scrape jobs of `component.py`.
"""

from __future__ import annotations

from typing import Any

import yaml

RECORDING_RULES: list[dict[str, str]] = [
    {"record": "namespace:kube_pod_status_phase:pending",
     "expr": 'sum by (namespace) (kube_pod_status_phase{phase="Pending"})'},
    {"record": "cluster:kube_node_status_not_ready:count",
     "expr": 'count(kube_node_status_condition{condition="Ready",status="true"} == 0) or vector(0)'},
    {"record": "namespace_app:http_requests:rate2m",
     "expr": "sum by (namespace, app, code) (rate(http_requests_total[2m]))"},
]  # fmt: skip

ALERTS: list[dict[str, Any]] = [
    {
        "alert": "NodeNotReady",
        "expr": 'kube_node_status_condition{condition="Ready",status="true"} == 0',
        "for": "15m",
        "labels": {"severity": "critical"},
        "annotations": {"summary": "Node {{ $labels.node }} has not been Ready for 15 minutes."},
    },
    {
        "alert": "PodCrashLooping",
        "expr": (
            "increase(kube_pod_container_status_restarts_total[10m]) > 0 "
            'and on (namespace, pod, container) kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"} > 0'
        ),
        "for": "15m",
        "labels": {"severity": "warning"},
        "annotations": {
            "summary": "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping."
        },
    },
    {
        "alert": "PodsPending",
        "expr": "namespace:kube_pod_status_phase:pending > 0",
        "for": "15m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "Pods in {{ $labels.namespace }} have been Pending for 15 minutes (capacity?)."},
    },
    {
        "alert": "KarpenterCloudProviderErrors",
        "expr": "sum(increase(karpenter_cloudprovider_errors_total[10m])) > 0",
        "for": "10m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "Karpenter's calls to EC2 are failing (quota, capacity, permissions)."},
    },
    {
        "alert": "KarpenterStateNotSynced",
        "expr": "max(karpenter_cluster_state_synced) == 0",
        "for": "15m",
        "labels": {"severity": "critical"},
        "annotations": {
            "summary": "Karpenter's view of the cluster is not synced: it cannot provision or consolidate."
        },
    },
    {
        "alert": "KarpenterMetricsAbsent",
        "expr": "absent(karpenter_cluster_state_synced)",
        "for": "15m",
        "labels": {"severity": "critical"},
        "annotations": {"summary": "No Karpenter metrics: the controller is down or not scraped."},
    },
    {
        "alert": "KubeStateMetricsDown",
        "expr": 'absent(up{job="kube-state-metrics"} == 1)',
        "for": "15m",
        "labels": {"severity": "critical"},
        "annotations": {
            "summary": "kube-state-metrics is not scraped: the node and pod alerts are blind (check otel-scraper)."
        },
    },
    {
        "alert": "ScrapeTargetDown",
        "expr": 'up{job=~"karpenter|kubernetes-pods"} == 0',
        "for": "15m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": "{{ $labels.job }} target {{ $labels.instance }} has failed every scrape for 15m."},
    },
]


def rule_file() -> str:
    """The rule-group namespace document Amazon Managed Prometheus takes (Prometheus rule-file format)."""
    return yaml.safe_dump(
        {
            "groups": [
                {"name": "platform-recording", "interval": "1m", "rules": RECORDING_RULES},
                {"name": "platform-alerts", "rules": ALERTS},
            ]
        },
        sort_keys=False,
    )


def alertmanager_definition(topic_arn: str, region: str) -> str:
    """AMP alert manager: every alert to the platform's SNS topic (the only receiver AMP supports)."""
    config = {
        "route": {
            "receiver": "platform-sns",
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [
            {
                "name": "platform-sns",
                "sns_configs": [{"topic_arn": topic_arn, "sigv4": {"region": region}, "send_resolved": True}],
            }
        ],
    }
    return "alertmanager_config: |\n" + "".join(
        f"  {line}\n" for line in yaml.safe_dump(config, sort_keys=False).splitlines()
    )
