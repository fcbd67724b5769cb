"""Helpers shared by the tests: build components under recording mocks and query what they registered."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
from pydantic import BaseModel

from core.context import StackContext
from core.providers import aws_provider
from offline.mocks import MockRun, Recorded, run_under_mocks
from offline.stackfiles import ROOT, read_stack
from stacks.config import EnvironmentConfig, SharedServicesConfig, StackConfig, parse


def any_config(stack: str, **changes: Any) -> StackConfig:
    """The parsed configuration of any stack of the repository, with `changes` applied unvalidated."""
    sf = read_stack(stack)
    cfg = parse(sf.config, stack=sf.stack, project=sf.project)
    return replace(cfg, **changes) if changes else cfg


def stack_config(stack: str, **changes: Any) -> EnvironmentConfig:
    """The configuration of an environment stack (profile kind `workload`)."""
    cfg = any_config(stack, **changes)
    assert isinstance(cfg, EnvironmentConfig), f"{stack} is not an environment stack"
    return cfg


def shared_config(**changes: Any) -> SharedServicesConfig:
    """The configuration of the shared-services stack."""
    cfg = any_config("shared-services", **changes)
    assert isinstance(cfg, SharedServicesConfig)
    return cfg


def replace(config: Any, **changes: Any) -> Any:
    """A copy of a config object (a frozen dataclass or a frozen pydantic model) with `changes` applied unvalidated."""
    if isinstance(config, BaseModel):
        return config.model_copy(update=changes)
    return dataclasses.replace(config, **changes)


def build(cfg: StackConfig, body: Callable[[StackContext, pulumi.ResourceOptions], Any]) -> Resources:
    """Run `body(ctx, opts)` under recording mocks, with the stack's explicit AWS provider in `opts`."""

    def program() -> None:
        provider = aws_provider(cfg)
        body(StackContext.from_config(cfg), pulumi.ResourceOptions(providers=[provider]))

    run = run_under_mocks(
        program,
        project=cfg.project,
        stack=cfg.stack,
        config={},
        account_id=cfg.account_id,
        region=cfg.region,
    )
    return Resources(run)


class Resources:
    """Query helpers over one mock run."""

    def __init__(self, run: MockRun) -> None:
        self.run = run
        self.all: list[Recorded] = run.monitor.recorded

    def of(self, typ: str) -> list[Recorded]:
        return [r for r in self.all if r.type == typ]

    def named(self, typ: str, name: str) -> Recorded:
        found = [r for r in self.of(typ) if r.name == name]
        assert len(found) == 1, f"expected one {typ} named {name!r}, got {[r.name for r in self.of(typ)]}"
        return found[0]

    def by_id(self, resource_id: str) -> Recorded:
        found = [r for r in self.all if r.custom and r.outputs.get("id") == resource_id]
        assert len(found) == 1, f"no single resource with id {resource_id!r}"
        return found[0]

    def by_urn(self, urn: str) -> Recorded:
        return self.run.monitor.by_urn[urn]

    def where(self, typ: str, **inputs: Any) -> list[Recorded]:
        return [r for r in self.of(typ) if all(r.inputs.get(k) == v for k, v in inputs.items())]


def ids(records: Iterable[Recorded]) -> set[str]:
    return {r.outputs["id"] for r in records}


def pulumi_aws_module(module_name: str) -> ModuleType:
    """The pulumi-aws SDK module of a type token's module (`lambda` is `pulumi_aws.lambda_`: a Python keyword)."""
    import importlib
    import keyword

    if module_name == "index":
        return importlib.import_module("pulumi_aws")
    return importlib.import_module(f"pulumi_aws.{module_name}{'_' if keyword.iskeyword(module_name) else ''}")


def taggable(type_token: str) -> bool:
    """Whether a pulumi-aws resource type takes a `tags` input, read from the installed SDK."""
    import inspect

    package, module_path, cls_name = type_token.split(":")
    if package != "aws":
        return False
    module = pulumi_aws_module(module_path.split("/")[0])
    cls = getattr(module, cls_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def copy_project(dest: Path, stacks: Iterable[str]) -> None:
    """A runnable copy of the program, its policy pack and the given stack files, to break on purpose."""
    for name in ("Pulumi.yaml", "__main__.py", *(f"Pulumi.{s}.yaml" for s in stacks)):
        shutil.copy(ROOT / name, dest / name)
    for package in ("core", "components", "stacks", "offline", "policy"):
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "venv"))


def offline_plan(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.plan", *args], cwd=project, capture_output=True, text=True, check=False
    )
