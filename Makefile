# Task runner. Every target sets up what it needs, so a fresh clone needs exactly `make plan` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?=
STACKS := $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml))
POLICY_STAMP := policy/venv/.installed
POLICY_FLAGS = --policy-pack policy --policy-pack-config policy/config/$(STACK).json

# uv, pinned, in a tool virtualenv of its own (git-ignored): a fresh machine needs only Python and make. .tools/bin
# holds nothing but uv, so it can go on PATH for the Pulumi CLI (Pulumi.yaml: toolchain uv) without shadowing python.
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_STAMP := $(TOOLS)/.uv-$(UV_VERSION)
# Dependencies come from the locks only: `uv sync --frozen` installs exactly uv.lock (policy/uv.lock), never re-locks.
# uv does not compile bytecode at install (pip did); Python writes each module's .pyc on first import instead. Where
# PYTHONDONTWRITEBYTECODE forbids that, every process would recompile pulumi-aws (plan and tests twice as slow), so
# there the sync compiles everything once (10-20 s).
SYNC := $(UV) sync --frozen $(if $(PYTHONDONTWRITEBYTECODE),--compile-bytecode)
EXPORT := $(UV) export --frozen --no-dev --no-hashes --format requirements-txt
LOCK_HEADER = \# Generated from $(1)uv.lock by `make lock` (the uv export below), for pip users; do not edit.

.PHONY: help install policy-venv lock plan test lint typecheck unit actionlint zizmor fmt bench policy-config docs preview up clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV_STAMP):
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)/venv
	$(TOOLS)/venv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sf ../venv/bin/uv $(UV)
	touch $@

# The program and the dev group ([dependency-groups] dev, which includes the policy pack's pins) into .venv.
$(STAMP): pyproject.toml uv.lock | $(UV_STAMP)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(SYNC)
	touch $@

install: $(STAMP) ## Create .venv and install the program and dev tools

# The policy pack runs in its own virtualenv (PulumiPolicy.yaml: virtualenv venv), as the Pulumi CLI expects.
$(POLICY_STAMP): policy/pyproject.toml policy/uv.lock | $(UV_STAMP)
	UV_PROJECT_ENVIRONMENT=venv $(SYNC) --directory policy
	touch $@

policy-venv: $(POLICY_STAMP) ## Create policy/venv for `pulumi preview/up --policy-pack policy`

lock: | $(UV_STAMP) ## After changing a pin in (policy/)pyproject.toml: re-lock, re-export requirements.txt
	$(UV) lock
	$(UV) lock --directory policy
	{ echo '$(call LOCK_HEADER,)'; $(EXPORT); } > requirements.txt
	{ echo '$(call LOCK_HEADER,policy/)'; $(EXPORT) --directory policy; } > policy/requirements.txt

plan: $(STAMP) ## Offline plan of every stack (or STACK=prod); JSON=file also writes every resource as JSON
	$(PY) -m offline.plan $(if $(STACK),--stack $(STACK)) $(if $(JSON),--json $(JSON))

test: lint typecheck unit actionlint zizmor ## Everything CI checks: ruff, basedpyright, pytest, actionlint, zizmor

# `uv lock --check` fails when a pyproject.toml changed without `make lock` (a current lock needs no network).
lint: $(STAMP)
	$(UV) lock --check --quiet
	$(UV) lock --check --quiet --directory policy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/basedpyright

unit: $(STAMP)
	$(PY) -m pytest

actionlint: $(STAMP)
	$(VENV)/bin/actionlint -color=false

# The workflows' security audit (template injection, credential persistence, inherited secrets, ...), offline: no
# network, no GitHub token. Any finding fails; an accepted one carries an inline `# zizmor: ignore[<audit>] <why>`.
zizmor: $(STAMP)
	$(VENV)/bin/zizmor --offline --no-progress .github/workflows

fmt: $(STAMP) ## Format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP) ## Time the offline plan of all stacks (target: under 10 s on 2 cores)
	$(PY) benchmarks/bench_plan.py

# The Pulumi CLI runs the program through uv (Pulumi.yaml: toolchain uv): the pinned uv goes first on PATH, and
# UV_FROZEN keeps it from re-locking.
PULUMI := PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" UV_FROZEN=1 pulumi

# The policy pack's config of a stack is derived from its environment profile (offline/policy_config.py), never kept
# by hand: this writes it where --policy-pack-config reads it (git-ignored).
policy-config: $(STAMP) ## Write policy/config/$(STACK).json from the stack's profile: STACK=stg
	@test -n "$(STACK)" || { echo "usage: make policy-config STACK=<$(STACKS)>"; exit 2; }
	$(PY) -m offline.policy_config --stack $(STACK) --out policy/config/$(STACK).json

docs: $(STAMP) ## Regenerate docs/configuration.md from the declared config schema
	$(PY) -m offline.config_docs

preview: $(STAMP) $(POLICY_STAMP) policy-config ## Real `pulumi preview` with the policy pack (needs Pulumi CLI + AWS): STACK=stg
	@test -n "$(STACK)" || { echo "usage: make preview STACK=<$(STACKS)>"; exit 2; }
	$(PULUMI) preview --stack $(STACK) --diff $(POLICY_FLAGS)

up: $(STAMP) $(POLICY_STAMP) policy-config ## Real `pulumi up` with the policy pack (needs Pulumi CLI + AWS): STACK=stg
	@test -n "$(STACK)" || { echo "usage: make up STACK=<$(STACKS)>"; exit 2; }
	$(PULUMI) up --stack $(STACK) $(POLICY_FLAGS)

clean: ## Remove the virtualenvs, the pinned uv and caches
	rm -rf $(VENV) policy/venv $(TOOLS) .pytest_cache .ruff_cache .hypothesis
