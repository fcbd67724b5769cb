"""Network invariants: no security-group ingress from the whole internet except HTTP/HTTPS."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationPolicy

from guardrails._util import ResourceArgs, config, fail, get, items, num

MANDATORY = EnforcementLevel.MANDATORY
ANYWHERE = ("0.0.0.0/0", "::/0")
DEFAULT_PUBLIC_PORTS = [80, 443]


def _rules(args: ResourceArgs) -> list[dict[str, Any]]:
    """Ingress rules as (protocol, from, to, sources), for inline and standalone rule resources."""
    typ, props = args.resource_type, args.props
    if typ in ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        return [
            {
                "protocol": get(r, "protocol"),
                "from": get(r, "fromPort"),
                "to": get(r, "toPort"),
                "sources": items(get(r, "cidrBlocks")) + items(get(r, "ipv6CidrBlocks")),
            }
            for r in items(get(props, "ingress"))
        ]
    if typ == "aws:ec2/securityGroupRule:SecurityGroupRule" and get(props, "type") == "ingress":
        sources = items(get(props, "cidrBlocks")) + items(get(props, "ipv6CidrBlocks"))
        return [{"protocol": get(props, "protocol"), "from": get(props, "fromPort"), "to": get(props, "toPort"),
                 "sources": sources}]  # fmt: skip
    if typ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        sources = [get(props, "cidrIpv4"), get(props, "cidrIpv6")]
        return [{"protocol": get(props, "ipProtocol"), "from": get(props, "fromPort"), "to": get(props, "toPort"),
                 "sources": [s for s in sources if s]}]  # fmt: skip
    return []


def _no_public_ingress(args: ResourceArgs, report: ReportViolation) -> None:
    ports = set(config(args, "publicPorts", DEFAULT_PUBLIC_PORTS))
    for rule in _rules(args):
        open_to = [s for s in rule["sources"] if s in ANYWHERE]
        if not open_to:
            continue
        protocol = str(rule["protocol"]).lower()
        single_port = rule["from"] == rule["to"] and rule["from"] in ports
        if protocol in ("tcp", "6") and single_port:
            continue
        fail(
            report,
            args,
            "ingress from the whole internet on a port other than " + "/".join(num(p) for p in sorted(ports)),
            {"protocol": rule["protocol"], "fromPort": rule["from"], "toPort": rule["to"], "sources": open_to},
            "restrict the source to known CIDRs or security groups, or expose the service through the ALB",
        )


no_public_ingress = ResourceValidationPolicy(
    name="security-group-no-public-ingress",
    description="Security groups admit 0.0.0.0/0 or ::/0 only on TCP 80 and 443 (inline and standalone rules).",
    enforcement_level=MANDATORY,
    validate=_no_public_ingress,
    config_schema=PolicyConfigSchema(
        properties={
            "publicPorts": {
                "type": "array",
                "items": {"type": "integer"},
                "default": DEFAULT_PUBLIC_PORTS,
                "description": "TCP ports that may be open to the internet.",
            }
        }
    ),
)

POLICIES = [no_public_ingress]
