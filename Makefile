# medbill: `make demo` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv install lint typecheck test unit integration infra-test e2e demo local synth bench deploy clean mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # functions -> entry -> domain -> models/x12, one way (docs/architecture.md)

typecheck: $(STAMP)
	$(BIN)/mypy layers/medbill/python/medbill functions infra

test: lint typecheck
	$(BIN)/pytest -n 2 -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

infra-test: $(STAMP)
	$(BIN)/pytest -q tests/infra

e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

# Mutation testing of the rule modules (not part of `make test`: minutes per subset). Default subsets, or
# `make mutation SUBSETS="posting ledger"`; `python -m tests.mutation.run --list` names them (docs/testing.md).
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation.run $(SUBSETS)

demo: $(STAMP)
	$(BIN)/python -m infra.local.demo

local: $(STAMP)
	$(BIN)/python -m infra.local.server

synth: $(STAMP)
	$(BIN)/python -m infra.app && echo "CloudFormation template written to cdk.out/"

bench: $(STAMP)
	$(BIN)/python -m bench

deploy: $(STAMP)
	npx --yes aws-cdk@2 deploy  # Node's npx (cdk.json runs the app with .venv's Python)

clean:
	rm -rf $(VENV) cdk.out demo-output .pytest_cache .mypy_cache .ruff_cache
