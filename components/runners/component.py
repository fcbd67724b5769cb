"""In-VPC CI runners: AWS CodeBuild-hosted GitHub Actions runners in the environment's private subnets.

The EKS API endpoint of every environment is private, so GitHub-hosted runners cannot reach it: the Kubernetes half of
a deploy or preview could not run from CI. CodeBuild starts a runner for each queued workflow job that asks for this
project's label (`runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`); the runner sits in
the private subnets behind its own security group, which the control plane admits on 443.

The runner itself holds no AWS permissions beyond starting in the VPC and writing its logs: the job obtains the
deployer's or previewer's credentials through GitHub OIDC as before, so who may deploy is still decided by the role's
trust and the GitHub environment's rules, not by where the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster.component import Cluster
from components.network.component import Network
from components.runners.config import RunnersConfig
from core import iam
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.tags import merge_tags

TYPE = "aws-platform:platform:Runners"
WORKFLOW_JOB_QUEUED = "WORKFLOW_JOB_QUEUED"


def runner_label(project_name: str) -> str:
    """The `runs-on` label a workflow job uses to run on this project's runners (CodeBuild's documented form)."""
    return f"codebuild-{project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


@dataclass(frozen=True, kw_only=True)
class RunnersArgs:
    ctx: StackContext
    config: RunnersConfig
    network: Network
    cluster: Cluster
    github_repository: str
    """owner/name of the platform repository whose workflow jobs the runners serve."""


class Runners(PlatformComponent):
    project_name: str
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: RunnersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts, legacy_aliases=False)
        self._ctx = ctx = args.ctx
        cfg, network = args.config, args.network
        self.project_name = project = ctx.namer.physical("gha-runner")
        group_name = ctx.namer.log_group("ci", "runner")
        project_arn = ctx.arn("codebuild", f"project/{project}")

        key = customer_key(
            self,
            "logs",
            ctx=ctx,
            description=f"{ctx.namer.base} CI runner logs",
            policy=iam.kms_key_policy(ctx, [iam.logs_key_statement(ctx, group_name)]),
            tags=self._tags("runner-logs"),
            alias=ctx.namer.alias("gha-runner-logs"),
        )
        aws.cloudwatch.LogGroup(
            self.child_name("logs"),
            name=group_name,
            retention_in_days=ctx.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags("runner-logs"),
            opts=self.child_opts("logs", protect=ctx.protect),
        )

        sg = aws.ec2.SecurityGroup(
            self.child_name("runner"),
            vpc_id=network.vpc_id,
            description="CI runners: no inbound; HTTPS out (GitHub, Pulumi Cloud, AWS APIs, the EKS endpoint)",
            tags=self._tags("gha-runner"),
            opts=self.child_opts("runner"),
        )
        aws.vpc.SecurityGroupEgressRule(
            self.child_name("runner-https"),
            security_group_id=sg.id,
            description="HTTPS to GitHub, Pulumi Cloud and AWS APIs (through the NAT gateways) and the EKS endpoint",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            tags=self._tags("gha-runner-https"),
            opts=self.child_opts("runner-https"),
        )
        aws.vpc.SecurityGroupIngressRule(
            self.child_name("control-plane-from-runner"),
            security_group_id=args.cluster.cluster_security_group_id,
            referenced_security_group_id=sg.id,
            description="the Kubernetes API from the CI runners",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            tags=self._tags("control-plane-from-gha-runner"),
            opts=self.child_opts("control-plane-from-runner"),
        )
        self.security_group_id = sg.id

        subnet_arns = [
            network.private_subnet_ids[az].apply(lambda subnet: ctx.arn("ec2", f"subnet/{subnet}"))
            for az in network.zones
        ]
        role = aws.iam.Role(
            self.child_name("runner"),
            name=ctx.namer.physical("gha-runner", service="iam-role"),
            description=f"CodeBuild runners of {args.github_repository} in {ctx.namer.base}: VPC and logs only",
            assume_role_policy=iam.service_trust(ctx, "codebuild", source_arn=project_arn),
            tags=self._tags("gha-runner"),
            opts=self.child_opts("runner"),
        )
        policy = aws.iam.RolePolicy(
            self.child_name("runner"),
            name="gha-runner",
            role=role.id,
            policy=pulumi.Output.all(*subnet_arns).apply(
                lambda arns: runner_policy(
                    ctx, group_name=group_name, subnet_arns=list(arns), connection_arn=cfg.connection_arn
                )
            ),
            opts=self.child_opts("runner"),
        )
        runner = aws.codebuild.Project(
            self.child_name("runner"),
            name=project,
            description=f"GitHub Actions runners for {args.github_repository}, inside {ctx.namer.base}'s VPC",
            service_role=role.arn,
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                compute_type=cfg.compute_type,
                image=cfg.image,
                type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD",
            ),
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{args.github_repository}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(type="CODECONNECTIONS", resource=cfg.connection_arn),
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=network.vpc_id,
                subnets=[network.private_subnet_ids[az] for az in network.zones],
                security_group_ids=[sg.id],
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(group_name=group_name)
            ),
            tags=self._tags("gha-runner"),
            opts=self.child_opts("runner", depends_on=[policy]),
        )
        aws.codebuild.Webhook(
            self.child_name("runner"),
            project_name=runner.name,
            build_type="BUILD",
            filter_groups=[
                aws.codebuild.WebhookFilterGroupArgs(
                    filters=[aws.codebuild.WebhookFilterGroupFilterArgs(type="EVENT", pattern=WORKFLOW_JOB_QUEUED)]
                )
            ],
            opts=self.child_opts("runner"),
        )
        self.register_outputs({"projectName": project, "securityGroupId": self.security_group_id})

    def _tags(self, name: str) -> dict[str, str]:
        return merge_tags(self._ctx.tags, None, self._ctx.namer.physical(name))


def runner_policy(ctx: StackContext, *, group_name: str, subnet_arns: list[str], connection_arn: str) -> str:
    """What a CodeBuild project in a VPC needs (CodeBuild User Guide, "Allow CodeBuild to access AWS services required
    to create a VPC network interface"), its own log group, and the GitHub connection; nothing else."""
    group_arn = ctx.arn("logs", f"log-group:{group_name}")
    service = connection_arn.split(":")[2]  # codeconnections, or codestar-connections for older connections
    return iam.document(
        [
            iam.statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [group_arn, f"{group_arn}:*"]),
            iam.statement(
                "VpcNetworkInterfaces",
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
            ),
            iam.statement(
                "NetworkInterfacePermissionInOwnSubnets",
                "ec2:CreateNetworkInterfacePermission",
                ctx.arn("ec2", "network-interface/*"),
                condition={
                    "ArnEquals": {"ec2:Subnet": sorted(subnet_arns)},
                    "StringEquals": {"ec2:AuthorizedService": f"codebuild.{ctx.dns_suffix}"},
                },
            ),
            iam.statement(
                "GitHubConnection",
                [f"{service}:GetConnectionToken", f"{service}:UseConnection"],
                connection_arn,
            ),
        ]
    )
