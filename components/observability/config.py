"""The `observability` section: log shipping (Fluent Bit), metrics (kube-state-metrics, OpenTelemetry), alerts."""

from __future__ import annotations

from pydantic import field_validator

from core.schema import Bool, ChartVersion, Email, Int, Model


class ObservabilityConfig(Model):
    """Logs, metrics, traces and alerts of the environment."""

    fluent_bit_chart_version: ChartVersion
    """The aws-for-fluent-bit chart version (vendor/ holds its artefacts)."""
    kube_state_metrics_chart_version: ChartVersion
    """The kube-state-metrics chart version."""
    otel_collector_chart_version: ChartVersion
    """The opentelemetry-collector chart version (metrics to Amazon Managed Prometheus, traces to X-Ray)."""
    logs_to_s3: Bool = True
    """Also archive container logs in an encrypted S3 bucket (besides CloudWatch Logs)."""
    log_archive_days: Int = 400
    """Days container logs are kept in the S3 archive, at least 30."""
    alert_emails: tuple[Email, ...] = ()
    """E-mail addresses subscribed to the alert topic (each confirms the subscription)."""

    @field_validator("log_archive_days")
    @classmethod
    def _archive(cls, value: int) -> int:
        if value < 30:
            raise ValueError("at least 30 days")
        return value
