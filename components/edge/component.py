"""Edge: how traffic gets in. One shared internet-facing ALB with WAF and TLS, run by the AWS Load Balancer Controller.

Creates:
- the AWS Load Balancer Controller: its EKS Pod Identity role with the controller's published IAM policy
  (`spec.py`; WAFv2 and Shield actions included) less the deviations `spec.LB_CONTROLLER_POLICY_DEVIATIONS` lists
  (security-group rules only on the groups it created), the Helm release pinned to `edge.lbControllerChartVersion`,
  on the system nodes with 2 replicas and a PDB, given `--aws-region` and `--aws-vpc-id` (node IMDS hop limit 1 hides
  them from pods) and the stack's tags as default tags for everything it creates, with the legacy class and
  group-name annotations and the shared backend security group off; a NetworkPolicy isolating its pods in
  kube-system (webhooks from the VPC's addresses, metrics from the scraper);
- the IngressClass `alb` and its IngressClassParams: usable only from namespaces labelled
  `platform/alb-ingress=allowed` (the application namespaces, and kube-system through a label patch, for the
  anchor), internet-facing, one shared IngressGroup (one ALB), the public
  subnets, IP targets, the configured TLS 1.2+ SSL policy, the ACM certificate, HTTP→HTTPS redirect, the regional
  WAFv2 WebACL (`wafv2AclArn`) and ALB attributes (access logs, drop invalid headers, desync mitigation, WAF fail
  closed, deletion protection where stateful resources are protected);
- a platform-owned Ingress in that group carrying the ALB security group from the network component, the 80/443
  listeners and a fixed-404 default action, plus the rule letting the ALB security group reach the nodes;
- a ValidatingAdmissionPolicy (and binding) on the Ingresses of the class in application namespaces: only the hosts
  `edge.ingressHosts` grants the namespace, no default backend, none of the group-wide annotations, no host-header
  conditions (`spec.ingress_admission`);
- a regional WAFv2 WebACL: the AWS managed IP reputation, Common, KnownBadInputs and SQLi groups and a per-IP rate
  limit from config, logging (authorization and cookie headers redacted) to a KMS-encrypted `aws-waf-logs-…` log
  group with retention, and the CloudWatch Logs resource policy that lets WAF deliver there;
- an ACM certificate for the domain and its wildcard, DNS-validated through Route 53 when `edge.hostedZoneId` is set;
- the ALB access-log bucket (`secure_bucket`: public access blocked, TLS only, versioned, objects and noncurrent
  versions expire after `accessLogDays`; SSE-S3
  because ALB log delivery supports nothing else) with the ELB log-delivery bucket policy;
- optionally (`edge.nlb`) a security group for NLBs that serve gRPC/HTTP2 Services (443 from the VPC's own block
  by default, or `allowedCidrs` inside it, plus each named `peerRanges` entry) and its rule to the nodes; the
  Service annotations are in the README;
- optionally (`edge.cloudFront`) a CloudFront distribution for the SPA: a private SSE-KMS S3 origin read through
  origin access control, a CLOUDFRONT-scope WebACL and an ACM certificate through the us-east-1 provider,
  TLSv1.2_2021, HTTP/2 and 3, SPA error routing, access logs (CloudWatch Logs v2 delivery) and WAF logs to a
  KMS-encrypted `aws-waf-logs-…` bucket, and the alias record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.component import Cluster
from components.edge import spec
from components.edge.config import CloudFrontConfig, EdgeConfig, NlbConfig
from components.network.cidr import plan_subnets
from components.network.component import Network
from core import iam, kubernetes
from core.blocks import PodRoleSpec, addon, customer_key, namespace_labels_patch, network_policies
from core.buckets import secure_bucket
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Edge"
INGRESS_CLASS = "alb"
"""The IngressClass every public application Ingress names (`spec.ingressClassName`)."""
ACCESS_LOG_PREFIX = "alb"


@dataclass(frozen=True, kw_only=True)
class EdgeArgs:
    ctx: StackContext
    config: EdgeConfig
    network: Network
    """The ALB's public subnets and security group, and the VPC the controller and NLBs work in."""
    cluster: Cluster
    """The load balancer controller runs in it; load balancers reach its nodes' security group."""
    app_namespaces: tuple[str, ...] = ()
    """The application namespaces (`workloads.namespaces`): `edge.ingressHosts` may grant hosts only to them."""
    global_provider: aws.Provider | None = None
    """A us-east-1 provider for CloudFront's certificate and WAF (required when `config.cloudfront` is set)."""


class Edge(PlatformComponent):
    ingress_class_name: str
    ingress_group: str
    load_balancer_name: str
    web_acl_arn: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    certificate_validation_records: pulumi.Output[Any]
    access_log_bucket: str
    nlb_security_group_id: pulumi.Output[str] | None
    cloudfront_domain_name: pulumi.Output[str] | None
    spa_bucket: str | None

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        cfg = args.config
        if cfg.cloudfront is not None and args.global_provider is None:
            raise ValueError("edge.cloudFront needs the us-east-1 provider (EdgeArgs.global_provider)")
        network, cluster = args.network, args.cluster
        unknown = sorted(set(cfg.ingress_hosts) - set(args.app_namespaces))
        if unknown:
            raise ValueError(
                f"edge.ingressHosts: {', '.join(unknown)} is not an application namespace "
                f"(workloads.namespaces: {', '.join(args.app_namespaces) or 'none'})"
            )
        zones = sorted(network.public_subnet_ids)
        self.ingress_class_name = INGRESS_CLASS
        self.ingress_group = ctx.namer.physical("public")
        self.load_balancer_name = ctx.namer.physical("public", service="load-balancer")

        key = self._logs_key()
        web_acl = self._regional_waf(cfg, key)
        self.web_acl_arn = web_acl.arn
        certificate_arn = self._certificate(cfg)
        log_bucket_name = ctx.namer.physical("alb-logs", ctx.account_id, ctx.region, service="s3-bucket")
        log_bucket = secure_bucket(
            self,
            "alb-access-logs",
            ctx=ctx,
            bucket_name=log_bucket_name,
            kms_key_arn=None,
            sse_s3_reason="ELB access log delivery supports SSE-S3 only",
            statements=spec.alb_log_statements(
                partition=ctx.partition,
                region=ctx.region,
                account_id=ctx.account_id,
                bucket_arn=f"arn:{ctx.partition}:s3:::{log_bucket_name}",
                prefix=ACCESS_LOG_PREFIX,
            ),
            expire_days=cfg.access_log_days,
            # A replaced or deleted log object stays as long as the bucket keeps logs: the retention it serves.
            noncurrent_days=cfg.access_log_days,
            protect=ctx.protect,
        )
        self.access_log_bucket = log_bucket.name

        # Network paths to the pods --------------------------------------------------------------------------------
        self._to_nodes("alb", network.alb_security_group_id, cluster.node_security_group_id)
        self.nlb_security_group_id = None
        if cfg.nlb is not None:
            nlb_sg = aws.ec2.SecurityGroup(
                self.child_name("nlb"),
                vpc_id=network.vpc_id,
                description=f"{cfg.nlb.scheme} NLBs for gRPC/HTTP2 Services: 443 from known client ranges",
                tags=self._tags("nlb"),
                opts=self.child_opts("nlb"),
            )
            for key, (cidr, source) in nlb_clients(cfg.nlb, vpc_cidr=network.cidr).items():
                aws.vpc.SecurityGroupIngressRule(
                    self.child_name(f"nlb-443-{key}"),
                    security_group_id=nlb_sg.id,
                    description=f"TLS from {source}",
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_ipv4=cidr,
                    tags=self._tags("nlb-443"),
                    opts=self.child_opts(f"nlb-443-{key}"),
                )
            aws.vpc.SecurityGroupEgressRule(
                self.child_name("nlb-to-vpc"),
                security_group_id=nlb_sg.id,
                description="to targets inside the VPC only",
                ip_protocol="tcp",
                from_port=0,
                to_port=65535,
                cidr_ipv4=network.cidr,
                tags=self._tags("nlb-to-vpc"),
                opts=self.child_opts("nlb-to-vpc"),
            )
            self._to_nodes("nlb", nlb_sg.id, cluster.node_security_group_id)
            self.nlb_security_group_id = nlb_sg.id

        # Controller ------------------------------------------------------------------------------------------------
        controller = addon(
            self,
            "lb-controller",
            ctx=ctx,
            cluster=cluster,
            namespace=spec.LB_CONTROLLER_NAMESPACE,
            release_name=spec.LB_CONTROLLER_CHART,
            chart=spec.LB_CONTROLLER_CHART,
            version=cfg.lb_controller_chart_version,
            repository=spec.LB_CONTROLLER_REPOSITORY,
            values=spec.lb_controller_values(
                cluster_name=cluster.cluster_name,
                region=ctx.region,
                vpc_id=network.vpc_id,
                ssl_policy=cfg.ssl_policy,
                tags=ctx.tags,
            ),
            role=PodRoleSpec(
                service_account=spec.LB_CONTROLLER_SERVICE_ACCOUNT,
                description=f"AWS Load Balancer Controller of {cluster.cluster_name} (EKS Pod Identity)",
                policy=spec.lb_controller_policy(ctx.partition),
                policy_name="aws-load-balancer-controller",
                tags=self._tags("lb-controller"),
            ),
        ).release
        network_policies(
            self,
            [spec.lb_controller_network_policy(vpc_cidr=network.cidr, database_cidrs=database_cidrs(network))],
            cluster=cluster,
            depends_on=[controller],
        )

        # Ingress class ---------------------------------------------------------------------------------------------
        # Only labelled namespaces may use the class: the application namespaces (workloads) and kube-system, where the
        # platform's group anchor lives (a label patch; kube-system is not ours to create).
        alb_label = dict([kubernetes.ALB_INGRESS_LABEL])
        anchor_ns = namespace_labels_patch(self, spec.LB_CONTROLLER_NAMESPACE, cluster=cluster, labels=alb_label)
        params = spec.ingress_class_params(
            name=INGRESS_CLASS,
            namespace_labels=alb_label,
            group=self.ingress_group,
            load_balancer_name=self.load_balancer_name,
            subnet_ids=[network.public_subnet_ids[az] for az in zones],
            ssl_policy=cfg.ssl_policy,
            certificate_arn=certificate_arn,
            web_acl_arn=web_acl.arn,
            attributes=spec.load_balancer_attributes(
                bucket=log_bucket.name, prefix=ACCESS_LOG_PREFIX, deletion_protection=ctx.protect
            ),
            tags=merge_tags(ctx.tags, {}, self.load_balancer_name),
        )
        params_cr = k8s.apiextensions.CustomResource(
            self.child_name("ingress-class-params"),
            api_version=params["apiVersion"],
            kind=params["kind"],
            metadata=params["metadata"],
            spec=params["spec"],
            opts=self.child_opts(
                "ingress-class-params", provider=cluster.provider, depends_on=[controller, log_bucket.policy]
            ),
        )
        klass = spec.ingress_class(INGRESS_CLASS, INGRESS_CLASS)
        ingress_class = k8s.networking.v1.IngressClass(
            self.child_name("ingress-class"),
            metadata=klass["metadata"],
            spec=klass["spec"],
            opts=self.child_opts("ingress-class", provider=cluster.provider, depends_on=[controller, params_cr]),
        )
        anchor = spec.group_anchor_ingress(
            name="platform-edge",
            namespace=spec.LB_CONTROLLER_NAMESPACE,
            ingress_class_name=INGRESS_CLASS,
            alb_security_group_id=network.alb_security_group_id,
        )
        k8s.networking.v1.Ingress(
            self.child_name("group-anchor"),
            metadata=anchor["metadata"],
            spec=anchor["spec"],
            opts=self.child_opts(
                "group-anchor", provider=cluster.provider, depends_on=[controller, ingress_class, anchor_ns]
            ),
        )
        admission = spec.ingress_admission(
            ingress_class=INGRESS_CLASS,
            hosts=cfg.ingress_hosts,
            namespace_labels=dict([kubernetes.APPLICATION_NAMESPACE_LABEL]),
        )
        admission_policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            self.child_name("ingress-admission"),
            metadata=admission[0]["metadata"],
            spec=admission[0]["spec"],
            opts=self.child_opts("ingress-admission", provider=cluster.provider),
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            self.child_name("ingress-admission"),
            metadata=admission[1]["metadata"],
            spec=admission[1]["spec"],
            opts=self.child_opts("ingress-admission", provider=cluster.provider, depends_on=[admission_policy]),
        )

        # CloudFront ------------------------------------------------------------------------------------------------
        self.cloudfront_domain_name = None
        self.spa_bucket = None
        if cfg.cloudfront is not None:
            assert cfg.hosted_zone_id is not None and args.global_provider is not None
            self._cloudfront(cfg, cfg.cloudfront, cfg.hosted_zone_id, args.global_provider)

        self.register_outputs(
            {
                "ingressClass": self.ingress_class_name,
                "webAclArn": self.web_acl_arn,
                "certificateArn": self.certificate_arn,
                "accessLogBucket": self.access_log_bucket,
            }
        )

    # -----------------------------------------------------------------------------------------------------------------

    def _tags(self, name: str, component: Mapping[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, dict(component or {}), self._ctx.namer.physical(name))

    def _to_nodes(self, what: str, source: pulumi.Input[str], nodes: pulumi.Input[str]) -> None:
        aws.vpc.SecurityGroupIngressRule(
            self.child_name(f"nodes-from-{what}"),
            security_group_id=nodes,
            description=f"{what.upper()} to pods (IP targets) on any TCP port",
            ip_protocol="tcp",
            from_port=0,
            to_port=65535,
            referenced_security_group_id=source,
            tags=self._tags(f"nodes-from-{what}"),
            opts=self.child_opts(f"nodes-from-{what}"),
        )

    def _logs_key(self) -> aws.kms.Key:
        ctx = self._ctx
        return customer_key(
            self,
            "edge-logs",
            ctx=ctx,
            description=f"{ctx.namer.base} WAF logs",
            policy=iam.kms_key_policy(ctx, [iam.logs_key_statement(ctx, "aws-waf-logs-*")]),
            tags=self._tags("edge-logs"),
            alias=ctx.namer.alias("edge-logs"),
        )

    def _web_acl(
        self, what: str, scope: str, purpose: str, rate_limit: int, provider: aws.Provider | None = None
    ) -> aws.wafv2.WebAcl:
        ctx = self._ctx
        acl_name = ctx.namer.physical(what, service="wafv2")
        return aws.wafv2.WebAcl(
            self.child_name(what),
            name=acl_name,
            description=f"{ctx.namer.base} {purpose}",
            scope=scope,
            default_action={"allow": {}},
            rules=spec.waf_rules(acl_name, rate_limit),
            visibility_config=spec.waf_visibility(acl_name),
            tags=self._tags(f"{what}-waf"),
            opts=self.child_opts(what, provider=provider),
        )

    def _regional_waf(self, cfg: EdgeConfig, key: aws.kms.Key) -> aws.wafv2.WebAcl:
        ctx = self._ctx
        web_acl = self._web_acl("alb", "REGIONAL", "public ALB", cfg.waf_rate_limit)
        group_name = spec.waf_log_group_name(ctx.namer.base, "alb")
        group = aws.cloudwatch.LogGroup(
            self.child_name("waf-alb"),
            name=group_name,
            retention_in_days=ctx.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags("waf-alb"),
            opts=self.child_opts("waf-alb", protect=ctx.protect),
        )
        resource_policy = aws.cloudwatch.LogResourcePolicy(
            self.child_name("waf-log-delivery"),
            policy_name=ctx.namer.physical("waf-log-delivery"),
            policy_document=spec.waf_log_resource_policy(
                partition=ctx.partition,
                region=ctx.region,
                account_id=ctx.account_id,
                group_prefix=spec.waf_log_group_name(ctx.namer.base, ""),
            ),
            opts=self.child_opts("waf-log-delivery"),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            self.child_name("alb"),
            resource_arn=web_acl.arn,
            log_destination_configs=[group.arn],
            redacted_fields=spec.waf_redacted_fields(),
            opts=self.child_opts("alb", depends_on=[resource_policy]),
        )
        return web_acl

    def _certificate(self, cfg: EdgeConfig) -> pulumi.Output[str]:
        cert = aws.acm.Certificate(
            self.child_name("alb"),
            domain_name=cfg.domain,
            subject_alternative_names=[f"*.{cfg.domain}"],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags=self._tags("alb-certificate"),
            opts=self.child_opts("alb"),
        )
        self.certificate_validation_records = cert.domain_validation_options
        if cfg.hosted_zone_id is None:
            # No zone: the certificate stays PENDING_VALIDATION until the exported record is created by hand.
            self.certificate_arn = cert.arn
            return cert.arn
        self.certificate_arn = self._validate(cert, cfg.hosted_zone_id, "alb")
        return self.certificate_arn

    def _validate(
        self, cert: aws.acm.Certificate, zone_id: str, what: str, provider: aws.Provider | None = None
    ) -> pulumi.Output[str]:
        # The domain and its wildcard share one validation record, so one Route 53 record validates both.
        option = cert.domain_validation_options[0]
        record = aws.route53.Record(
            self.child_name(f"{what}-certificate-validation"),
            zone_id=zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=self.child_opts(f"{what}-certificate-validation"),
        )
        validation = aws.acm.CertificateValidation(
            self.child_name(f"{what}-certificate"),
            certificate_arn=cert.arn,
            validation_record_fqdns=[record.fqdn],
            opts=self.child_opts(f"{what}-certificate", provider=provider),
        )
        return validation.certificate_arn

    def _cloudfront(self, cfg: EdgeConfig, cf: CloudFrontConfig, zone_id: str, global_provider: aws.Provider) -> None:
        ctx = self._ctx
        key = customer_key(
            self,
            "cdn",
            ctx=ctx,
            description=f"{ctx.namer.base} SPA origin and CDN logs",
            policy=iam.kms_key_policy(
                ctx,
                [
                    spec.cloudfront_key_statement(partition=ctx.partition, account_id=ctx.account_id),
                    spec.log_delivery_key_statement(ctx.account_id, ctx.partition),
                ],
            ),
            tags=self._tags("cdn"),
            alias=ctx.namer.alias("cdn"),
        )

        origin_name = ctx.namer.physical("spa", ctx.account_id, ctx.region, service="s3-bucket")
        origin = secure_bucket(
            self,
            "spa",
            ctx=ctx,
            bucket_name=origin_name,
            kms_key_arn=key.arn,
            statements=spec.cloudfront_origin_statements(
                partition=ctx.partition, account_id=ctx.account_id, bucket_arn=f"arn:{ctx.partition}:s3:::{origin_name}"
            ),
            noncurrent_days=30,
            protect=ctx.protect,
        )
        self.spa_bucket = origin_name
        logs_name = spec.waf_log_group_name(ctx.namer.base, f"cdn-{ctx.account_id}")
        logs = secure_bucket(
            self,
            "cdn-logs",
            ctx=ctx,
            bucket_name=logs_name,
            kms_key_arn=key.arn,
            statements=spec.vended_log_statements(
                partition=ctx.partition, account_id=ctx.account_id, bucket_arn=f"arn:{ctx.partition}:s3:::{logs_name}"
            ),
            expire_days=cfg.access_log_days,
            noncurrent_days=cfg.access_log_days,
            protect=ctx.protect,
        )

        web_acl = self._web_acl("cdn", "CLOUDFRONT", "CloudFront SPA", cfg.waf_rate_limit, global_provider)
        aws.wafv2.WebAclLoggingConfiguration(
            self.child_name("cdn"),
            resource_arn=web_acl.arn,
            log_destination_configs=[logs.bucket.arn],
            redacted_fields=spec.waf_redacted_fields(),
            opts=self.child_opts("cdn", provider=global_provider, depends_on=[logs.policy]),
        )
        cert = aws.acm.Certificate(
            self.child_name("cdn"),
            domain_name=cf.domain,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags=self._tags("cdn-certificate"),
            opts=self.child_opts("cdn", provider=global_provider),
        )
        certificate_arn = self._validate(cert, zone_id, "cdn", global_provider)
        oac = aws.cloudfront.OriginAccessControl(
            self.child_name("spa"),
            name=ctx.namer.physical("spa"),
            description=f"{ctx.namer.base} SPA bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self.child_opts("spa"),
        )
        origin_id = "spa-bucket"
        distribution = aws.cloudfront.Distribution(
            self.child_name("spa"),
            comment=f"{ctx.namer.base} SPA",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=cf.price_class,
            aliases=[cf.domain],
            default_root_object="index.html",
            web_acl_id=web_acl.arn,
            origins=[
                {
                    "domain_name": origin.bucket.bucket_regional_domain_name,
                    "origin_id": origin_id,
                    "origin_access_control_id": oac.id,
                }
            ],
            default_cache_behavior={
                "target_origin_id": origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": spec.CACHING_OPTIMIZED_POLICY_ID,
                "response_headers_policy_id": spec.SECURITY_HEADERS_POLICY_ID,
            },
            # A single-page app routes on the client: unknown paths serve index.html.
            custom_error_responses=[
                {
                    "error_code": code,
                    "response_code": 200,
                    "response_page_path": "/index.html",
                    "error_caching_min_ttl": 10,
                }
                for code in (403, 404)
            ],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={
                "acm_certificate_arn": certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            },
            tags=self._tags("spa"),
            opts=self.child_opts("spa", depends_on=[origin.policy]),
        )
        self.cloudfront_domain_name = distribution.domain_name
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                self.child_name(f"spa-{record_type.lower()}"),
                zone_id=zone_id,
                name=cf.domain,
                type=record_type,
                aliases=[
                    {
                        "name": distribution.domain_name,
                        "zone_id": distribution.hosted_zone_id,
                        "evaluate_target_health": False,
                    }
                ],
                opts=self.child_opts(f"spa-{record_type.lower()}"),
            )

        # Access logs (CloudFront standard logging v2): source, destination and delivery live in us-east-1.
        source = aws.cloudwatch.LogDeliverySource(
            self.child_name("cdn-access"),
            name=ctx.namer.physical("cdn-access"),
            log_type="ACCESS_LOGS",
            resource_arn=distribution.arn,
            tags=self._tags("cdn-access"),
            opts=self.child_opts("cdn-access", provider=global_provider),
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            self.child_name("cdn-access"),
            name=ctx.namer.physical("cdn-access-s3"),
            output_format="json",
            delivery_destination_configuration={"destination_resource_arn": logs.bucket.arn},
            tags=self._tags("cdn-access-s3"),
            opts=self.child_opts("cdn-access", provider=global_provider, depends_on=[logs.policy]),
        )
        aws.cloudwatch.LogDelivery(
            self.child_name("cdn-access"),
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            tags=self._tags("cdn-access-delivery"),
            opts=self.child_opts("cdn-access", provider=global_provider),
        )


def database_cidrs(network: Network) -> list[str]:
    """The database subnets' blocks (the network's subnet plan)."""
    return [str(block) for block in plan_subnets(network.cidr, network.zones).database.values()]


def nlb_clients(nlb: NlbConfig, *, vpc_cidr: str) -> dict[str, tuple[str, str]]:
    """Where NLB clients may come from, by rule key: (CIDR, what it is). Default: the VPC's own block (key `vpc`, the
    same in every stack); else each of `allowedCidrs` (inside the VPC, keyed by itself); plus each named peer range
    (`peer-<name>`)."""
    if nlb.allowed_cidrs is None:
        clients = {"vpc": (vpc_cidr, f"this VPC ({vpc_cidr})")}
    else:
        clients = {cidr: (cidr, cidr) for cidr in nlb.allowed_cidrs}
    for name, cidr in nlb.peer_ranges.items():
        clients[f"peer-{name}"] = (cidr, f"peer range {name} ({cidr})")
    return clients
