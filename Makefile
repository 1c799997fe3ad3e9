# medbill: `make demo` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv install browser lint typecheck test unit integration infra-test e2e demo local synth bench deploy clean mutation reliability

# The staff console's browser tests: Debian's chromium (Playwright's own download is not reachable)
# and axe-core from npm. Installed when missing; a clean CI machine gets both from the registries.
CHROMIUM := /usr/bin/chromium
AXE := console/node_modules/axe-core/axe.min.js

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv install: $(STAMP)

browser: $(CHROMIUM) $(AXE)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium; \
	else echo "chromium is missing and this user cannot apt-get install it: the console browser tests will skip"; fi

$(AXE): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --silent

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # functions -> entry -> domain -> models/x12, one way (docs/architecture.md)

typecheck: $(STAMP)
	$(BIN)/mypy layers/medbill/python/medbill functions infra bench

test: lint typecheck browser
	$(BIN)/pytest -n 2 -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

infra-test: $(STAMP)
	$(BIN)/pytest -q tests/infra

e2e: $(STAMP) browser
	$(BIN)/pytest -q tests/e2e

# Mutation testing of the rule modules (not part of `make test`: minutes per subset). Default subsets, or
# `make mutation SUBSETS="posting ledger"`; `python -m tests.mutation.run --list` names them (docs/testing.md).
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation.run $(SUBSETS)

# Fuzzing and fault injection at full size (issue 12; docs/reliability.md). `make test` runs the same
# tests small (8 claims, 100 examples). Sizes: RELIABILITY_CLAIMS, FUZZ_EXAMPLES, RELIABILITY_SEED.
RELIABILITY_CLAIMS ?= 1000
FUZZ_EXAMPLES ?= 2000
RELIABILITY_SEED ?= 12
reliability: $(STAMP)
	MEDBILL_RELIABILITY_CLAIMS=$(RELIABILITY_CLAIMS) MEDBILL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	MEDBILL_RELIABILITY_SEED=$(RELIABILITY_SEED) MEDBILL_RELIABILITY_OUT=reliability-output.json \
	$(BIN)/pytest -q tests/reliability

demo: $(STAMP)  # leaves demo-output/console.png when chromium is present (make browser)
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
	rm -rf $(VENV) cdk.out demo-output .pytest_cache .mypy_cache .ruff_cache reliability-output.json
