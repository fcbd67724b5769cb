"""The offline plan: render a stack (or every stack) under the mock engine, with no cloud account and no Pulumi CLI.

    python -m offline.plan                    # every stack
    python -m offline.plan --stack prod       # one stack (repeatable)
    python -m offline.plan --json plan.json   # also write every resource as JSON

For each stack it prints the resource tree grouped by component, the count per resource type, the stack's exports
and the verdict of every policy in the CrossGuard pack (`policy/`, configured from the stack's environment profile:
offline/policy_config.py).
Exit status: 0 when every stack renders and passes every mandatory policy, 1 on a mandatory policy violation, 2 on a
bad stack or policy configuration, or a program the Pulumi engine would refuse (printed as a message, without a
traceback).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import runpy
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core.loading import ConfigError
from offline.mocks import EngineRuleError, Recorded, run_under_mocks
from offline.policies import PolicyConfigError, Verdict, check, print_verdict
from offline.stackfiles import ROOT, StackFile, StackFileError, parse_stack_file, read_stack, stack_names

PROGRAM = ROOT / "__main__.py"


@dataclass
class Plan:
    stack: str
    project: str
    resources: list[Recorded]
    exports: dict[str, Any]
    secret_exports: list[str] = field(default_factory=list)
    verdict: Verdict | None = None

    def by_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Recorded:
        found = [r for r in self.by_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.by_type(typ)]
            raise LookupError(f"expected exactly one {typ} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def children(self, parent: Recorded) -> list[Recorded]:
        return [r for r in self.resources if r.parent == parent.urn]

    def counts(self) -> Counter[str]:
        return Counter(r.type for r in self.resources)


def render(
    stack: str, *, program: Path = PROGRAM, stack_file: StackFile | None = None, caller_role: str | None = None
) -> Plan:
    """Run the program for `stack` under recording mocks and return everything it registered, as the CI deployer
    would (`caller_role`: the role whose session runs it; the stack's `deployerRoleName` unless given).

    Raises `ConfigError` (before anything runs) when the stack's configuration is invalid.
    """
    sf = stack_file or read_stack(stack)
    cfg = parse_stack_file(sf.stack, sf)  # fail fast, with the parser's message
    run = run_under_mocks(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        project=sf.project,
        stack=sf.stack,
        config=sf.config,
        secret_keys=sf.secret_keys,
        account_id=cfg.account_id,
        region=cfg.region,
        caller_role=caller_role or cfg.deployer_role_name,
    )
    return Plan(
        stack=sf.stack,
        project=sf.project,
        resources=sorted(run.monitor.recorded, key=lambda r: r.urn),
        exports=run.exports,
        secret_exports=run.secret_exports,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Printing


def print_plan(plan: Plan, out: TextIO) -> None:
    out.write(f"\n=== stack {plan.stack}: {len(plan.resources)} resources ===\n")
    by_parent: dict[str | None, list[Recorded]] = {}
    urns = {r.urn for r in plan.resources}
    for r in plan.resources:
        parent = r.parent if r.parent in urns else None
        by_parent.setdefault(parent, []).append(r)

    def walk(parent: str | None, depth: int) -> None:
        # Components first, then resources, each sorted by type and name: the same plan prints the same way.
        for r in sorted(by_parent.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            flags = " [protected]" if r.protect else ""
            marker = "+" if r.custom else "*"
            out.write(f"{'  ' * depth}{marker} {r.name} ({r.type}){flags}\n")
            walk(r.urn, depth + 1)

    walk(None, 1)
    out.write("\n  resources by type:\n")
    for typ, count in sorted(plan.counts().items()):
        out.write(f"    {count:4d}  {typ}\n")
    out.write("\n  exports:\n")
    for key in sorted(plan.exports):
        shown = "[secret]" if key in plan.secret_exports else json.dumps(plan.exports[key], sort_keys=True, default=str)
        out.write(f"    {key}: {shown}\n")


def write_json(plans: Sequence[Plan], path: Path) -> None:
    doc = {
        p.stack: {
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "provider": r.provider_urn,
                    "protect": r.protect,
                    "inputs": r.inputs,
                    "dependencies": r.dependencies,
                    "propertyDependencies": r.property_dependencies,
                    "options": r.options,
                }
                for r in p.resources
            ],
            "exports": {k: ("[secret]" if k in p.secret_exports else v) for k, v in p.exports.items()},
            "policy": None
            if p.verdict is None
            else {
                "levels": p.verdict.levels,
                "diagnostics": [
                    {"policy": d.policy, "level": d.level, "urn": d.urn, "message": d.message}
                    for d in p.verdict.diagnostics
                ],
            },
        }
        for p in plans
    }
    path.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


@dataclass
class StackResult:
    stack: str
    plan: Plan | None
    stdout: str
    stderr: str
    status: int


def run_stack(stack: str, quiet: bool = False) -> StackResult:
    """Render one stack and judge it with the policy pack; what main() prints, captured."""
    out = io.StringIO()
    try:
        plan = render(stack)
        plan.verdict = check(stack, plan.resources)
    except (ConfigError, PolicyConfigError, StackFileError, FileNotFoundError, EngineRuleError) as err:
        return StackResult(stack, None, "", f"{err}\n", 2)
    failed = len(plan.verdict.mandatory)
    if quiet:
        out.write(f"stack {stack}: {len(plan.resources)} resources, {failed} mandatory policy violations\n")
    else:
        print_plan(plan, out)
        print_verdict(plan.verdict, out)
    stderr = f"stack {stack}: {failed} mandatory policy violation(s)\n" if failed else ""
    return StackResult(stack, plan, out.getvalue(), stderr, 1 if failed else 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="offline.plan", description="Render stacks under the mock engine, without a cloud account."
    )
    parser.add_argument("--stack", action="append", help="stack to render (repeatable); default: every stack")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every resource and export as JSON")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line per stack")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="stacks rendered in parallel")
    args = parser.parse_args(argv)

    stacks = args.stack or stack_names()
    # Each stack renders in its own process (the Pulumi runtime is process-global); results print in stack order.
    if args.jobs > 1 and len(stacks) > 1:
        with ProcessPoolExecutor(max_workers=min(args.jobs, len(stacks))) as pool:
            results = list(pool.map(run_stack, stacks, [args.quiet] * len(stacks)))
    else:
        results = [run_stack(stack, args.quiet) for stack in stacks]
    for result in results:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
    if args.json:
        write_json([r.plan for r in results if r.plan is not None], args.json)
        sys.stdout.write(f"\nwrote {args.json}\n")
    return max((r.status for r in results), default=0)


if __name__ == "__main__":
    sys.exit(main())
