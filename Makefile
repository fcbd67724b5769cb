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

.PHONY: help install policy-venv plan test lint typecheck unit actionlint fmt bench preview up clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(STAMP) ## Create .venv and install the program and dev tools

# The policy pack runs in its own virtualenv (PulumiPolicy.yaml: virtualenv venv), as the Pulumi CLI expects.
$(POLICY_STAMP): policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	touch $@

policy-venv: $(POLICY_STAMP) ## Create policy/venv for `pulumi preview/up --policy-pack policy`

plan: $(STAMP) ## Offline plan of every stack (or STACK=prod); JSON=file also writes every resource as JSON
	$(PY) -m offline.plan $(if $(STACK),--stack $(STACK)) $(if $(JSON),--json $(JSON))

test: lint typecheck unit actionlint ## Everything CI checks: ruff, basedpyright, pytest, actionlint

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/basedpyright

unit: $(STAMP)
	$(PY) -m pytest

actionlint: $(STAMP)
	$(VENV)/bin/actionlint -color=false

fmt: $(STAMP) ## Format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP) ## Time the offline plan of all stacks (target: under 10 s on 2 cores)
	$(PY) benchmarks/bench_plan.py

preview: $(STAMP) $(POLICY_STAMP) ## Real `pulumi preview` with the policy pack (needs Pulumi CLI + AWS): STACK=stg
	@test -n "$(STACK)" || { echo "usage: make preview STACK=<$(STACKS)>"; exit 2; }
	pulumi preview --stack $(STACK) --diff $(POLICY_FLAGS)

up: $(STAMP) $(POLICY_STAMP) ## Real `pulumi up` with the policy pack (needs Pulumi CLI + AWS): STACK=stg
	@test -n "$(STACK)" || { echo "usage: make up STACK=<$(STACKS)>"; exit 2; }
	pulumi up --stack $(STACK) $(POLICY_FLAGS)

clean: ## Remove the virtualenvs and caches
	rm -rf $(VENV) policy/venv .pytest_cache .ruff_cache .hypothesis
