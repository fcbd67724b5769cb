"""The EC2 instance-type catalogue, read from the data botocore ships (the `InstanceType` enum of the EC2 API), and
the CPU architecture of each family.

Used by config validation so that an instance type, a node pool family or size that does not exist, or one of the
wrong architecture, is a config error, not a node group or node pool that silently never launches anything.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Literal

Architecture = Literal["amd64", "arm64", "x86_64_mac", "arm64_mac"]
"""`amd64`/`arm64` as Kubernetes names them (the `kubernetes.io/arch` node label); Mac instances run only macOS, so
they keep EC2's own names (`x86_64_mac`, `arm64_mac`) and match no Linux AMI or node pool."""


@functools.cache
def instance_types() -> frozenset[str]:
    import botocore.loaders

    model = botocore.loaders.Loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


@functools.cache
def sizes_by_family() -> Mapping[str, frozenset[str]]:
    families: dict[str, set[str]] = {}
    for name in instance_types():
        family, _, size = name.partition(".")
        families.setdefault(family, set()).add(size)
    return {family: frozenset(sizes) for family, sizes in families.items()}


ARCHITECTURE_EXCEPTIONS: Mapping[str, Architecture] = {
    "a1": "arm64",  # AWS Graviton (first generation), named before the "g" attribute existed
    "p6e-gb200": "arm64",  # NVIDIA GB200 superchips: Grace (Arm Neoverse V2) CPUs; the "g" belongs to "gb200"
    "mac1": "x86_64_mac",  # Intel Mac mini
}
"""Families the naming rule gets wrong. Source: EC2 DescribeInstanceTypes, `ProcessorInfo.SupportedArchitectures`,
as published in Karpenter's generated instance-type reference (aws/karpenter-provider-aws,
website/content/en/v1.14/reference/instance-types.md, label `kubernetes.io/arch`) for every family it lists, and the
EC2 User Guide ("Amazon EC2 instance type specifications", "Amazon EC2 Mac instances") for the families it omits
(previous generation, Mac, GB200). tests/test_config_cluster.py checks the result for every family botocore lists."""

_FAMILY = re.compile(r"^[a-z]+-?(\d+)([a-z]*)")
"""Family names: series letters (`c`, `hpc`, `u-`), the generation digits, then attribute letters (`g` Graviton,
`a` AMD, `i` Intel, `d` local NVMe, `n` network, `e` extra memory/storage, ...), then optional suffixes (`-flex`)."""


@functools.cache
def architecture_of_family(family: str) -> Architecture:
    """The CPU architecture of an instance family: arm64 for AWS Graviton families (a `g` among the attribute letters
    right after the generation digits: m7g, c6gn, t4g, r8g, x2gd, im4gn, is4gen) and the exceptions above, the Mac
    architectures for Mac families, amd64 for the rest."""
    known = ARCHITECTURE_EXCEPTIONS.get(family)
    if known is not None:
        return known
    if family.startswith("mac"):
        return "arm64_mac"  # every Mac family since mac2 is Apple silicon (M1, M2, M2 Pro, M1/M3 Ultra, M4, ...)
    match = _FAMILY.match(family)
    return "arm64" if match is not None and "g" in match.group(2) else "amd64"


def architecture_of_instance_type(instance_type: str) -> Architecture:
    """The CPU architecture of an instance type (`m7g.large` -> arm64), from its family."""
    return architecture_of_family(instance_type.split(".", 1)[0])
