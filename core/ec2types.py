"""The EC2 instance-type catalogue, read from the data botocore ships (the `InstanceType` enum of the EC2 API).

Used by config validation so that a node pool family or size that does not exist is a config error, not a node
pool that silently never launches anything.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping


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
