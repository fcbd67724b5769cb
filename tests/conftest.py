from __future__ import annotations

import pytest

from offline.plan import Plan, render
from offline.stackfiles import stack_names

STACKS = stack_names()
WORKLOAD_STACKS = ["prod", "stg", "sandbox"]


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """Every stack in the repository rendered once under the mock engine (whole-program runs)."""
    return {stack: render(stack) for stack in STACKS}
