"""The `edge`, `observability` and `delivery` sections of the environment stacks."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from core.validation import MISSING, Section

_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{5,31}$")
_REPO_URL = re.compile(r"^(https://[\w.-]+/[\w./-]+?(\.git)?|git@[\w.-]+:[\w./-]+?\.git)$")
_PATH = re.compile(r"^[\w./-]+$")
SSL_POLICIES = ("ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                "ELBSecurityPolicy-TLS13-1-3-2021-06")  # fmt: skip
NLB_SCHEMES = ("internal", "internet-facing")


def _chart(sec: Section, key: str, what: str) -> str | None:
    value = sec.string(key, allowed=f"the {what} chart version, e.g. 1.2.3")
    if value is not None and not _CHART_VERSION.match(value):
        sec.bad(key, value, "a chart version such as 1.2.3")
        return None
    return value


@dataclass(frozen=True, kw_only=True)
class NlbConfig:
    scheme: str
    allowed_cidrs: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CloudFrontConfig:
    domain: str
    price_class: str


@dataclass(frozen=True, kw_only=True)
class EdgeConfig:
    lb_controller_chart_version: str
    domain: str
    hosted_zone_id: str | None
    ssl_policy: str
    waf_rate_limit: int
    access_log_days: int
    nlb: NlbConfig | None
    cloudfront: CloudFrontConfig | None


@dataclass(frozen=True, kw_only=True)
class ObservabilityConfig:
    fluent_bit_chart_version: str
    kube_state_metrics_chart_version: str
    otel_collector_chart_version: str
    logs_to_s3: bool
    log_archive_days: int
    alert_emails: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GitOpsSource:
    repo_url: str
    path: str
    target_revision: str


@dataclass(frozen=True, kw_only=True)
class DeliveryConfig:
    argocd_chart_version: str
    rollouts_chart_version: str
    high_availability: bool
    gitops: GitOpsSource
    canary_max_error_rate: float


def _domain(sec: Section, key: str) -> str | None:
    value = sec.string(key, allowed="a DNS name such as app.example.com")
    if value is not None and not _DOMAIN.match(value):
        sec.bad(key, value, "a lowercase DNS name such as app.example.com")
        return None
    return value


def parse_edge(sec: Section, *, environment: str) -> EdgeConfig | None:
    chart = _chart(sec, "lbControllerChartVersion", "aws-load-balancer-controller")
    domain = _domain(sec, "domain")
    zone = sec.string("hostedZoneId", default=None, allowed="a Route 53 hosted zone id such as Z0123456789ABC")
    policy = sec.choice("sslPolicy", SSL_POLICIES, default="ELBSecurityPolicy-TLS13-1-2-2021-06")
    rate = sec.integer("wafRateLimit", default=2000, allowed="requests per 5 minutes per IP, 100-2000000000")
    log_days = sec.integer("accessLogDays", default=90, allowed="days ALB access logs are kept, >= 1")
    nlb_sec = sec.obj("nlb", default=None)
    cf_sec = sec.obj("cloudFront", default=None)
    nlb = cloudfront = None
    ok = True
    if nlb_sec is not None:
        scheme = nlb_sec.choice("scheme", NLB_SCHEMES)
        cidrs = nlb_sec.string_list("allowedCidrs", allowed="client CIDRs allowed to reach the NLB on 443")
        nlb_sec.finish()
        for cidr in cidrs or []:
            try:
                net = ipaddress.ip_network(cidr)
            except ValueError:
                nlb_sec.bad("allowedCidrs", cidr, "CIDR blocks")
                ok = False
                continue
            if net.prefixlen == 0:
                nlb_sec.bad("allowedCidrs", cidr, "specific client ranges (only 80/443 may be open to the world)")
                ok = False
        if scheme is None or cidrs is None:
            ok = False
        else:
            nlb = NlbConfig(scheme=scheme, allowed_cidrs=tuple(cidrs))
    if cf_sec is not None:
        cf_domain = _domain(cf_sec, "domain")
        price = cf_sec.choice("priceClass", ("PriceClass_100", "PriceClass_200", "PriceClass_All"),
                              default="PriceClass_100")  # fmt: skip
        cf_sec.finish()
        if cf_domain is None or price is None:
            ok = False
        else:
            cloudfront = CloudFrontConfig(domain=cf_domain, price_class=price)
    sec.finish()
    if zone is not None and not _ZONE_ID.match(zone):
        sec.bad("hostedZoneId", zone, "a Route 53 hosted zone id such as Z0123456789ABC")
        zone = None
        ok = False
    if cloudfront is not None and zone is None:
        sec.bad(
            "cloudFront", {"domain": cloudfront.domain}, "a hostedZoneId as well (its certificate is DNS-validated)"
        )
        ok = False
    if rate is not None and not 100 <= rate <= 2_000_000_000:
        sec.bad("wafRateLimit", rate, "100-2000000000 requests per 5 minutes")
    if log_days is not None and log_days < 1:
        sec.bad("accessLogDays", log_days, "at least 1 day")
    if None in (chart, domain, policy, rate, log_days) or not ok:
        return None
    assert chart is not None and domain is not None and policy is not None and rate is not None
    assert log_days is not None
    return EdgeConfig(
        lb_controller_chart_version=chart,
        domain=domain,
        hosted_zone_id=zone,
        ssl_policy=policy,
        waf_rate_limit=rate,
        access_log_days=log_days,
        nlb=nlb,
        cloudfront=cloudfront,
    )


def parse_observability(sec: Section) -> ObservabilityConfig | None:
    fluent_bit = _chart(sec, "fluentBitChartVersion", "aws-for-fluent-bit")
    ksm = _chart(sec, "kubeStateMetricsChartVersion", "kube-state-metrics")
    otel = _chart(sec, "otelCollectorChartVersion", "opentelemetry-collector")
    to_s3 = sec.boolean("logsToS3", default=True)
    archive = sec.integer("logArchiveDays", default=400, allowed="days container logs are kept in S3, >= 30")
    emails = sec.string_list("alertEmails", default=[])
    sec.finish()
    if archive is not None and archive < 30:
        sec.bad("logArchiveDays", archive, "at least 30 days")
    for email in emails or []:
        if "@" not in email:
            sec.bad("alertEmails", email, "e-mail addresses")
    if None in (fluent_bit, ksm, otel, to_s3, archive, emails):
        return None
    assert fluent_bit is not None and ksm is not None and otel is not None and archive is not None
    assert emails is not None
    return ObservabilityConfig(
        fluent_bit_chart_version=fluent_bit,
        kube_state_metrics_chart_version=ksm,
        otel_collector_chart_version=otel,
        logs_to_s3=bool(to_s3),
        log_archive_days=archive,
        alert_emails=tuple(emails),
    )


def parse_delivery(sec: Section, *, environment: str) -> DeliveryConfig | None:
    argocd = _chart(sec, "argoCdChartVersion", "argo-cd")
    rollouts = _chart(sec, "rolloutsChartVersion", "argo-rollouts")
    ha = sec.boolean("highAvailability", default=False)
    max_error = sec.raw("canaryMaxErrorRate")
    git_sec = sec.obj("gitops")
    gitops = None
    if git_sec is not None:
        repo = git_sec.string("repoUrl", allowed="the GitOps repository URL (https or ssh)")
        path = git_sec.string("path", allowed="the directory of this cluster's applications")
        revision = git_sec.string("targetRevision", default="main", allowed="a branch, tag or commit")
        git_sec.finish()
        if repo is not None and not _REPO_URL.match(repo):
            git_sec.bad("repoUrl", repo, "https://host/owner/repo(.git) or git@host:owner/repo.git")
            repo = None
        if path is not None and (not _PATH.match(path) or ".." in path):
            git_sec.bad("path", path, "a relative directory path")
            path = None
        if repo is not None and path is not None and revision is not None:
            gitops = GitOpsSource(repo_url=repo, path=path, target_revision=revision)
    sec.finish()
    if ha is False and environment == "prod":
        sec.bad("highAvailability", ha, "true (prod runs Argo CD highly available)")
    ratio: float | None = 0.02 if max_error is MISSING else None
    if max_error is not MISSING:
        try:
            ratio = float(max_error) if not isinstance(max_error, bool) else None
        except (TypeError, ValueError):
            ratio = None
        if ratio is None or not 0 < ratio < 1:
            sec.bad("canaryMaxErrorRate", max_error, "a ratio between 0 and 1, e.g. 0.02")
            ratio = None
    if None in (argocd, rollouts, ha, gitops, ratio):
        return None
    assert argocd is not None and rollouts is not None and gitops is not None and ratio is not None
    return DeliveryConfig(
        argocd_chart_version=argocd,
        rollouts_chart_version=rollouts,
        high_availability=bool(ha),
        gitops=gitops,
        canary_max_error_rate=ratio,
    )
