# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup system runtime-python demo test test-fast lint checkov format bench synth clean

$(STAMP): pyproject.toml lambdas/requirements.txt
	@scripts/ensure-system.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## A Python of the Lambda runtime's version (3.14): bundling compiles the assets' bytecode with it, the
## cold-start benchmark runs on it. Without it (no python3.14, Debian unreachable) assets ship source only.
runtime-python:
	@scripts/runtime-python.sh >/dev/null || echo "warning: no Python 3.14; Lambda assets will ship without bytecode"

## Run the whole job end to end in the embedded sandbox (no AWS account needed).
demo: setup runtime-python
	$(VENV)/bin/responder sandbox demo

## Install everything the tests need (venv, packages, Node, Chromium) and run the whole suite.
test: setup runtime-python
	@scripts/ensure-system.sh --browser
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not e2e and not browser"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy lambdas/responder infra responder_cli app.py

## checkov on the synthesized template; every finding is triaged per resource (README "Reliability").
CHECKOV := .build/checkov-venv
$(CHECKOV)/.installed:
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet --disable-pip-version-check checkov==3.3.30
	@touch $@

checkov: setup runtime-python $(CHECKOV)/.installed
	rm -rf .build/checkov && mkdir -p .build/checkov
	$(PY) -c "import json; from infra.synth import synth_template; t, _ = synth_template({}, '.build/checkov/cdk.out'); open('.build/checkov/template.json', 'w').write(json.dumps(t))"
	$(CHECKOV)/bin/checkov --framework cloudformation --compact --quiet --skip-download -f .build/checkov/template.json

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup runtime-python
	$(PY) -m benchmarks

## The templates in cdk.out/ (or CDK_OUT=dir), offline: app.py makes no AWS calls and needs no CDK CLI.
## With the CDK CLI instead, its telemetry (CLI 2.1100.0 and up) and notices can be turned off as the CDK
## documents: CDK_DISABLE_CLI_TELEMETRY=true npx aws-cdk@2 synth --no-notices (or, in cdk.json,
## "cli-telemetry": false and "notices": false; `cdk acknowledge ID` hides one notice).
CDK_OUT ?= cdk.out
synth: setup runtime-python
	CDK_OUTDIR=$(CDK_OUT) $(PY) app.py
	@echo "synthesized into $(CDK_OUT)/:"
	@for t in $(CDK_OUT)/*.template.json; do echo "  $$t"; done
	@echo "(with the CDK CLI: CDK_DISABLE_CLI_TELEMETRY=true npx aws-cdk@2 synth --no-notices)"

clean:
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache
