"""Cluster: one hardened EKS cluster per environment (pulumi-eks), its system node group and managed add-ons.

Creates:
- a customer KMS key (rotation on) for secrets envelope encryption, the control-plane log group and node volumes;
- the `/aws/eks/<cluster>/cluster` log group with retention and KMS, before the cluster, so EKS never creates an
  unmanaged, never-expiring one;
- the cluster service role (AmazonEKSClusterPolicy, AmazonEKSVPCResourceController for Security Groups for Pods,
  plus use of the key);
- explicit security groups: an additional control-plane group and the node group, with control plane -> nodes on
  443, 10250 and the usual webhook ports, node <-> node, nodes -> control plane on 443 (pulumi-eks's defaults are
  skipped so every rule is visible in the plan);
- the cluster itself through `pulumi_eks.Cluster`: private subnets, private endpoint, public endpoint off or limited
  to configured CIDRs, all five log types, access entries only (API mode) with the platform-admin roles as cluster
  admins, OIDC provider (IRSA), STANDARD upgrade policy, deletion protection, no default node group, no
  self-managed bootstrap add-ons;
- managed add-ons with pinned versions: vpc-cni (network policy on, pod ENIs for Security Groups for Pods in the
  `standard` enforcing mode), kube-proxy and eks-pod-identity-agent before the
  nodes; coredns (tolerating the system taint, spread over AZs, with a PDB), aws-ebs-csi-driver (Pod Identity role)
  and metrics-server after them;
- the system managed node group: a launch template (IMDSv2 required, hop limit 1, encrypted gp3 root volume under the
  key, detailed monitoring per config), taint CriticalAddonsOnly=true:NoSchedule, label node-role/system=true, a node
  role with only the worker, CNI, ECR pull-only and SSM managed policies, and no SSH key;
- the Kubernetes provider every later component uses, and a default encrypted gp3 StorageClass that retains its
  volumes where the stack protects stateful resources (`reclaim_policy`).

The component is the cluster handle (`core.handles.ClusterHandle`) the components built on it receive: `cluster_name`
(literal, for documents and tags), `name` (an Output resolving once the control plane exists, for every API call that
needs the cluster), `provider`, and `ready` (the system node group and the add-ons that run after it), so no consumer
writes a dependency on the cluster by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.cluster.config import ClusterConfig
from components.network.component import Network
from core import iam
from core.blocks import customer_key
from core.component import PlatformComponent
from core.context import StackContext
from core.kubernetes import SYSTEM_TAINT, system_node_affinity, system_node_label, system_toleration, zone_spread
from core.tags import merge_tags

TYPE = "aws-platform:platform:Cluster"

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# Control plane -> nodes: kubelet, HTTPS and the ports admission webhooks and aggregated APIs commonly listen on
# (metrics-server 4443/10251, Karpenter 8443, AWS Load Balancer Controller 9443, Prometheus adapter 6443).
CONTROL_PLANE_TO_NODE_PORTS = (443, 4443, 6443, 8443, 9443, 10250, 10251)
NODE_MANAGED_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
AFTER_NODES = ("coredns", "aws-ebs-csi-driver", "metrics-server")
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
VPC_RESOURCE_CONTROLLER_POLICY = "AmazonEKSVPCResourceController"


def reclaim_policy(protected: bool) -> str:
    """The default StorageClass's reclaim policy: `Retain` where the stack protects stateful resources (production
    profiles), so deleting a PersistentVolumeClaim, a namespace or a release never deletes the EBS volume behind it;
    `Delete` elsewhere, so experiments leave no orphaned volumes."""
    return "Retain" if protected else "Delete"


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    ctx: StackContext
    config: ClusterConfig
    name: str
    network: Network
    """The cluster's VPC: its private subnets hold the control-plane interfaces and the system nodes."""


class Cluster(PlatformComponent):
    cluster_name: str
    """The cluster's name, literal: for policy documents and tags (see `core.handles.ClusterHandle`)."""
    name: pulumi.Output[str]
    """The same name, resolving only once the EKS control plane exists: for every API call that needs the cluster."""
    ready: list[pulumi.Resource]
    """What must exist before pods can be scheduled: the system node group and the after-nodes add-ons."""
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    system_node_group_name: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, opts)
        self._ctx = ctx = args.ctx
        cfg = args.config
        self.cluster_name = cluster_name = args.name
        log_group_name = f"/aws/eks/{cluster_name}/cluster"

        key = customer_key(
            self,
            "cluster",
            ctx=ctx,
            description=f"EKS {cluster_name}: secrets envelope encryption, control-plane logs, node volumes",
            policy=iam.kms_key_policy(
                ctx,
                [
                    iam.logs_key_statement(ctx, f"/aws/eks/{cluster_name}/*"),
                    *iam.ebs_key_statements(ctx),
                ],
            ),
            tags=self._tags("cluster"),
            alias=ctx.namer.alias("eks"),
        )
        self.kms_key_arn = key.arn

        log_group = aws.cloudwatch.LogGroup(
            self.child_name("control-plane"),
            name=log_group_name,
            retention_in_days=ctx.log_retention_days,
            kms_key_id=key.arn,
            tags=self._tags("control-plane-logs"),
            opts=self.child_opts("control-plane", protect=ctx.protect),
        )

        service_role = aws.iam.Role(
            self.child_name("cluster"),
            description=f"EKS control plane of {cluster_name}",
            assume_role_policy=iam.service_trust(
                ctx, "eks", source_account=False, actions=("sts:AssumeRole", "sts:TagSession")
            ),
            tags=self._tags("cluster"),
            opts=self.child_opts("cluster"),
        )
        aws.iam.RolePolicyAttachment(
            self.child_name("cluster-policy"),
            role=service_role.name,
            policy_arn=ctx.managed_policy("AmazonEKSClusterPolicy"),
            opts=self.child_opts("cluster-policy"),
        )
        # Security Groups for Pods: the VPC resource controller (in the control plane, as this role) creates the trunk
        # and branch network interfaces that carry a pod's own security groups (EKS User Guide, "Security groups for
        # Pods", step 2).
        aws.iam.RolePolicyAttachment(
            self.child_name("cluster-vpc-resource-controller"),
            role=service_role.name,
            policy_arn=ctx.managed_policy(VPC_RESOURCE_CONTROLLER_POLICY),
            opts=self.child_opts("cluster-vpc-resource-controller"),
        )
        aws.iam.RolePolicy(
            self.child_name("cluster-encryption"),
            role=service_role.id,
            policy=key.arn.apply(
                lambda arn: iam.document(
                    [
                        iam.statement(
                            "EnvelopeEncryption",
                            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
                            arn,
                        )
                    ]
                )
            ),
            opts=self.child_opts("cluster-encryption"),
        )

        cluster_sg, node_sg, sg_rules = self._security_groups(args, cluster_name)

        admin_entries = {
            f"platform-admin-{index}": eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={
                    "cluster-admin": eks.AccessPolicyAssociationArgs(
                        policy_arn=ctx.eks_access_policy(CLUSTER_ADMIN_POLICY),
                        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    )
                },
            )
            for index, arn in enumerate(cfg.admin_role_arns)
        }
        cluster = eks.Cluster(
            self.child_name("eks"),
            name=cluster_name,
            version=cfg.kubernetes_version,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=cfg.upgrade_policy),
            vpc_id=args.network.vpc_id,
            subnet_ids=_private_subnet_ids(args.network),
            endpoint_private_access=True,
            endpoint_public_access=cfg.endpoint_public_access,
            public_access_cidrs=list(cfg.public_access_cidrs) if cfg.endpoint_public_access else None,
            encryption_config_key_arn=key.arn,
            enabled_cluster_log_types=LOG_TYPES,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=admin_entries,
            deletion_protection=cfg.deletion_protection,
            skip_default_node_group=True,
            skip_default_security_groups=True,
            cluster_security_group=cluster_sg,
            service_role=service_role,
            create_oidc_provider=True,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            node_associate_public_ip_address=False,
            tags=self._tags("eks"),
            cluster_tags=self._tags("eks"),
            opts=self.child_opts("eks", protect=ctx.protect, depends_on=[log_group]),
        )

        # The kubeconfig exists once the control plane does: the name derived from it carries that dependency.
        self.name = pulumi.Output.unsecret(cluster.kubeconfig.apply(lambda _: cluster_name))
        kubeconfig = cluster.kubeconfig.apply(_as_dict)
        self.endpoint = kubeconfig.apply(lambda kc: kc["clusters"][0]["cluster"]["server"])
        self.certificate_authority = kubeconfig.apply(
            lambda kc: kc["clusters"][0]["cluster"]["certificate-authority-data"]
        )
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_issuer = cluster.oidc_issuer
        self.cluster_security_group_id = cluster_sg.id
        self.node_security_group_id = node_sg.id

        # Add-ons and the node group name the cluster by `self.name`: they wait for the control plane through it.
        early = self._addons(cfg, BEFORE_NODES)
        # Nodes join and serve only once their security-group rules exist (egress, kubelet and webhook ports), and a
        # destroy removes the rules only after the nodes: whatever waits for `ready` waits for the rules too.
        node_group = self._system_node_group(args, cluster_name, key, node_sg, depends_on=[*early, *sg_rules])
        self.system_node_group_name = node_group.node_group_name
        ebs_role = self._ebs_csi_role(cluster_name, key)
        late = self._addons(cfg, AFTER_NODES, depends_on=[node_group], ebs_csi_role=ebs_role)
        self.ready = [node_group, *late]

        self.provider = k8s.Provider(
            self.child_name("k8s"),
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            delete_unreachable=False,
            opts=self.child_opts("k8s", depends_on=[node_group]),
        )
        k8s.storage.v1.StorageClass(
            self.child_name("gp3"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gp3-encrypted",
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters=key.arn.apply(lambda arn: {"type": "gp3", "encrypted": "true", "kmsKeyId": arn}),
            reclaim_policy=reclaim_policy(ctx.protect),
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=self.child_opts(
                "gp3",
                provider=self.provider,
                depends_on=late,
                # The API server refuses to update a StorageClass's reclaimPolicy (or parameters): a change replaces
                # the class, and its fixed name means the old one goes first. Volumes keep the policy they were
                # provisioned with.
                replace_on_changes=["reclaimPolicy", "parameters", "provisioner", "volumeBindingMode"],
                delete_before_replace=True,
            ),
        )

        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "oidcProviderArn": self.oidc_provider_arn,
                "oidcIssuer": self.oidc_issuer,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "nodeSecurityGroupId": self.node_security_group_id,
                "kmsKeyArn": self.kms_key_arn,
                "systemNodeGroupName": self.system_node_group_name,
            }
        )

    # -----------------------------------------------------------------------------------------------------------------

    def _tags(self, name: str, component: Mapping[str, str] | None = None) -> dict[str, str]:
        return merge_tags(self._ctx.tags, dict(component or {}), self._ctx.namer.physical(name))

    def _security_groups(
        self, args: ClusterArgs, cluster_name: str
    ) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup, list[pulumi.Resource]]:
        """The control-plane and node security groups, and their rules."""
        discovery = {"karpenter.sh/discovery": cluster_name}
        cluster_sg = aws.ec2.SecurityGroup(
            self.child_name("control-plane"),
            vpc_id=args.network.vpc_id,
            description=f"EKS {cluster_name} control plane (additional group)",
            tags=self._tags("control-plane"),
            opts=self.child_opts("control-plane"),
        )
        node_sg = aws.ec2.SecurityGroup(
            self.child_name("nodes"),
            vpc_id=args.network.vpc_id,
            description=f"EKS {cluster_name} nodes (system node group and Karpenter nodes)",
            tags=self._tags("nodes", {**discovery, f"kubernetes.io/cluster/{cluster_name}": "owned"}),
            opts=self.child_opts("nodes"),
        )

        rules: list[pulumi.Resource] = []

        def ingress(key: str, group: aws.ec2.SecurityGroup, description: str, **rule: Any) -> None:
            rules.append(
                aws.vpc.SecurityGroupIngressRule(
                    self.child_name(key),
                    security_group_id=group.id,
                    description=description,
                    tags=self._tags(key),
                    opts=self.child_opts(key),
                    **rule,
                )
            )

        for port in CONTROL_PLANE_TO_NODE_PORTS:
            ingress(
                f"nodes-from-control-plane-{port}",
                node_sg,
                f"control plane to nodes on {port}",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=cluster_sg.id,
            )
        ingress(
            "nodes-from-nodes",
            node_sg,
            "node to node, all traffic",
            ip_protocol="-1",
            referenced_security_group_id=node_sg.id,
        )
        ingress(
            "control-plane-from-nodes",
            cluster_sg,
            "nodes to the Kubernetes API",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=node_sg.id,
        )
        egress = aws.vpc.SecurityGroupEgressRule(
            self.child_name("nodes-egress"),
            security_group_id=node_sg.id,
            description="nodes reach AWS APIs, registries and the internet through NAT",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            tags=self._tags("nodes-egress"),
            opts=self.child_opts("nodes-egress"),
        )
        to_nodes = aws.vpc.SecurityGroupEgressRule(
            self.child_name("control-plane-to-nodes"),
            security_group_id=cluster_sg.id,
            description="control plane to nodes (kubelet, webhooks)",
            ip_protocol="tcp",
            from_port=0,
            to_port=65535,
            referenced_security_group_id=node_sg.id,
            tags=self._tags("control-plane-to-nodes"),
            opts=self.child_opts("control-plane-to-nodes"),
        )
        return cluster_sg, node_sg, [*rules, egress, to_nodes]

    def _addons(
        self,
        cfg: ClusterConfig,
        names: Sequence[str],
        *,
        depends_on: Sequence[pulumi.Resource] = (),
        ebs_csi_role: aws.iam.Role | None = None,
    ) -> list[aws.eks.Addon]:
        created = []
        for addon in names:
            settings = ADDON_CONFIGURATION.get(addon)
            identities = None
            if addon == "aws-ebs-csi-driver" and ebs_csi_role is not None:
                identities = [
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=ebs_csi_role.arn, service_account=EBS_CSI_SERVICE_ACCOUNT
                    )
                ]
            created.append(
                aws.eks.Addon(
                    self.child_name(addon),
                    cluster_name=self.name,
                    addon_name=addon,
                    addon_version=cfg.addon_versions[addon],
                    configuration_values=json.dumps(settings, sort_keys=True) if settings else None,
                    pod_identity_associations=identities,
                    resolve_conflicts_on_create="OVERWRITE",
                    resolve_conflicts_on_update="OVERWRITE",
                    tags=self._tags(f"addon-{addon}"),
                    opts=self.child_opts(addon, depends_on=depends_on),
                )
            )
        return created

    def _system_node_group(
        self,
        args: ClusterArgs,
        cluster_name: str,
        key: aws.kms.Key,
        node_sg: aws.ec2.SecurityGroup,
        *,
        depends_on: Sequence[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        ctx = self._ctx
        ng = args.config.system_node_group
        role = aws.iam.Role(
            self.child_name("system-nodes"),
            description=f"EKS {cluster_name} system node group",
            assume_role_policy=iam.service_trust(ctx, "ec2", source_account=False),
            tags=self._tags("system-nodes"),
            opts=self.child_opts("system-nodes"),
        )
        for policy in NODE_MANAGED_POLICIES:
            aws.iam.RolePolicyAttachment(
                self.child_name(f"system-nodes-{policy}"),
                role=role.name,
                policy_arn=ctx.managed_policy(policy),
                opts=self.child_opts(f"system-nodes-{policy}"),
            )
        bottlerocket = ng.ami_type.startswith("BOTTLEROCKET")
        # Bottlerocket keeps the OS on /dev/xvda and containers on /dev/xvdb; AL2023 has one root volume.
        device = "/dev/xvdb" if bottlerocket else "/dev/xvda"
        volume_tags = self._tags("system-node")
        template = aws.ec2.LaunchTemplate(
            self.child_name("system-nodes"),
            description=f"EKS {cluster_name} system nodes: IMDSv2 only, encrypted gp3",
            update_default_version=True,
            vpc_security_group_ids=[node_sg.id],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=device,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=ng.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=key.arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=ng.detailed_monitoring),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=volume_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=self._tags("system-nodes"),
            opts=self.child_opts("system-nodes"),
        )
        return aws.eks.NodeGroup(
            self.child_name("system"),
            cluster_name=self.name,
            node_group_name_prefix="system-",
            node_role_arn=role.arn,
            subnet_ids=_private_subnet_ids(args.network),
            ami_type=ng.ami_type,
            capacity_type="ON_DEMAND",
            instance_types=list(ng.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=ng.min_size, desired_size=ng.desired_size, max_size=ng.max_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=ng.max_unavailable),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels=system_node_label(),
            taints=[aws.eks.NodeGroupTaintArgs(**SYSTEM_TAINT)],
            tags=self._tags("system"),
            opts=self.child_opts(
                "system",
                depends_on=depends_on,
                # The cluster autoscaler is Karpenter; only the floor and ceiling come from config.
                ignore_changes=["scalingConfig.desiredSize"],
                # Replacing the group must not remove the only nodes the system add-ons and Karpenter run on.
                delete_before_replace=False,
            ),
        )

    def _ebs_csi_role(self, cluster_name: str, key: aws.kms.Key) -> aws.iam.Role:
        ctx = self._ctx
        role = aws.iam.Role(
            self.child_name("ebs-csi"),
            description=f"EKS {cluster_name} EBS CSI controller (Pod Identity)",
            assume_role_policy=iam.pod_identity_trust(
                ctx, cluster=cluster_name, namespace="kube-system", service_account=EBS_CSI_SERVICE_ACCOUNT
            ),
            tags=self._tags("ebs-csi"),
            opts=self.child_opts("ebs-csi"),
        )
        aws.iam.RolePolicyAttachment(
            self.child_name("ebs-csi-driver"),
            role=role.name,
            policy_arn=ctx.managed_policy("service-role/AmazonEBSCSIDriverPolicy"),
            opts=self.child_opts("ebs-csi-driver"),
        )
        aws.iam.RolePolicy(
            self.child_name("ebs-csi-kms"),
            role=role.id,
            policy=key.arn.apply(lambda arn: iam.document(iam.kms_use_for_aws_resources(arn))),
            opts=self.child_opts("ebs-csi-kms"),
        )
        return role


def _as_dict(kubeconfig: Any) -> dict[str, Any]:
    return json.loads(kubeconfig) if isinstance(kubeconfig, str) else dict(kubeconfig)


def _private_subnet_ids(network: Network) -> list[pulumi.Output[str]]:
    return [network.private_subnet_ids[az] for az in network.zones]


ADDON_CONFIGURATION: dict[str, dict[str, Any]] = {
    # Security Groups for Pods (EKS User Guide, "Security groups for Pods"): ENABLE_POD_ENI lets the VPC resource
    # controller attach a trunk interface to each node and a branch interface, with the pod's own groups, to each pod a
    # SecurityGroupPolicy selects. The enforcing mode is `standard`, not the default `strict`: the network-policy agent
    # (enableNetworkPolicy) enforces NetworkPolicies on such pods only in standard mode (EKS Best Practices,
    # "Security groups for pods"), and in strict mode a branch-interface pod cannot reach the EKS Pod Identity agent's
    # link-local address (aws/amazon-vpc-cni-k8s#2797), which the database client needs for its credentials. In
    # standard mode the kubelet reaches its pods without TCP early demux being disabled (same guide). Both keys are in
    # the managed add-on's configuration schema (`Env`: ENABLE_POD_ENI, POD_SECURITY_GROUP_ENFORCING_MODE;
    # `aws eks describe-addon-configuration --addon-name vpc-cni`).
    "vpc-cni": {
        "enableNetworkPolicy": "true",
        "nodeAgent": {"enablePolicyEventLogs": "false"},
        "env": {"ENABLE_POD_ENI": "true", "POD_SECURITY_GROUP_ENFORCING_MODE": "standard"},
    },
    "coredns": {
        "replicaCount": 2,
        "tolerations": [system_toleration()],
        "affinity": {"nodeAffinity": system_node_affinity()},
        "topologySpreadConstraints": zone_spread({"k8s-app": "kube-dns"}),
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}},
    },
    "aws-ebs-csi-driver": {
        "controller": {
            "replicaCount": 2,
            "tolerations": [system_toleration()],
            "affinity": {"nodeAffinity": system_node_affinity()},
            "topologySpreadConstraints": zone_spread({"app": "ebs-csi-controller"}),
        }
    },
    "metrics-server": {
        "replicas": 2,
        "tolerations": [system_toleration()],
        "affinity": {"nodeAffinity": system_node_affinity()},
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
    },
}
