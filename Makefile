# Task runner. Every target sets up what it needs, so a fresh clone needs exactly `make plan` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?=
STACKS := $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml))

.PHONY: help install plan test lint typecheck unit actionlint fmt bench preview up clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(STAMP) ## Create .venv and install the program and dev tools

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

preview: $(STAMP) ## Real `pulumi preview` (needs the Pulumi CLI and AWS credentials): make preview STACK=stg
	@test -n "$(STACK)" || { echo "usage: make preview STACK=<$(STACKS)>"; exit 2; }
	pulumi preview --stack $(STACK) --diff

up: $(STAMP) ## Real `pulumi up` (needs the Pulumi CLI and AWS credentials): make up STACK=stg
	@test -n "$(STACK)" || { echo "usage: make up STACK=<$(STACKS)>"; exit 2; }
	pulumi up --stack $(STACK)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
