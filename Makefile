# One command per gate. `make dev` and `make test` work on a fresh clone: they create .venv first.
PORT ?= 3000
AWS_PORT ?= 5000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install dev invoke lint test test-fast e2e bench build deploy clean

$(INSTALLED): requirements-dev.txt layers/deps/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(INSTALLED)

install: $(INSTALLED)

dev: install  ## the local stack on 127.0.0.1 (Ctrl-C stops it)
	$(PY) -m devstack --port $(PORT) --aws-port $(AWS_PORT)

invoke: install  ## one function on one event against `make dev`'s emulator: make invoke FN=MediaApiFunction EVENT=events/get-media.json
	$(PY) -m devstack invoke $(or $(FN),-) -e $(EVENT) --aws-url $${AWS_ENDPOINT_URL:-http://127.0.0.1:$(AWS_PORT)}

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared/medialib functions devstack
	$(VENV)/bin/cfn-lint template.yaml

test: lint  ## ruff, mypy, cfn-lint, then unit + integration + end-to-end tests
	$(PY) -m pytest

test-fast: install  ## everything but the end-to-end tests
	$(PY) -m pytest -m "not e2e"

e2e: install
	$(PY) -m pytest -m e2e

bench: install
	$(PY) bench/bench_imaging.py

build:  ## needs the SAM CLI (pip install aws-sam-cli); no Docker needed
	sam build

deploy: build
	sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache
