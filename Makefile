# One command per gate. `make dev` and `make test` work on a fresh clone: they create .venv first.
PORT ?= 3000
AWS_PORT ?= 5000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The SAM CLI in a venv of its own (inside .venv): its boto3 and pins differ from the project's.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := $(VENV)/sam
SAM := $(SAM_VENV)/bin/sam
SAM_INSTALLED := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)
# The functions and layers as `sam build` lays them out, staged without SAM for the import check.
LAMBDA_BUILD := build/lambda
ARTIFACTS := $(PY) -m tests.artifacts.lambda_artifacts
# An interpreter of the template's Python version (python3.12 on PATH, else pyenv's).
LAMBDA_PYTHON = $(shell $(PY) -c 'from tests.artifacts.lambda_artifacts import runtime_python; print(runtime_python() or "")')

.PHONY: install dev invoke lint test test-fast e2e bench lambda-artifacts build deploy clean

$(INSTALLED): requirements-dev.txt layers/deps/requirements.txt layers/media_tools/requirements.txt pyproject.toml
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

test: lint lambda-artifacts  ## ruff, mypy, cfn-lint, then unit + integration + end-to-end tests
	$(PY) -m pytest

test-fast: install lambda-artifacts  ## everything but the end-to-end tests
	$(PY) -m pytest -m "not e2e"

e2e: install
	$(PY) -m pytest -m e2e

# The benchmarks' own dependencies (libvips as the baseline), never in the Lambda layers.
BENCH_INSTALLED := $(VENV)/.bench-installed
$(BENCH_INSTALLED): $(INSTALLED) bench/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: $(BENCH_INSTALLED)  ## every benchmark, or some: make bench ONLY=imaging,catalogue,stack (QUALITY_REF=rev for ONLY=quality)
	$(PY) bench/run.py $(if $(ONLY),--only $(ONLY)) $(if $(QUALITY_REF),--quality-ref $(QUALITY_REF))

# The layers built by their Makefiles, the functions' code copied, all compiled for the runtime;
# about 10 s, then nothing until an input changes. Without the runtime's Python it stages
# nothing and the import check skips.
$(LAMBDA_BUILD)/.staged: $(INSTALLED) template.yaml layers/deps/Makefile layers/deps/requirements.txt \
		layers/media_tools/Makefile layers/media_tools/requirements.txt \
		shared/Makefile $(shell find shared/medialib functions -name '*.py' 2>/dev/null)
	$(ARTIFACTS) stage $(LAMBDA_BUILD)

lambda-artifacts: $(LAMBDA_BUILD)/.staged

$(SAM_INSTALLED):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

# Deployable artifacts in .aws-sam/build for the template's architecture, without Docker: SAM
# builds the layers through their Makefiles (wheels for the Lambda platform, compiled for its
# Python), the functions' code is compiled after it, the unzipped sizes are printed (each
# function with its layers must stay under 250 MiB) and every handler is imported from them.
build: install $(SAM_INSTALLED)
	@python="$(LAMBDA_PYTHON)"; \
	test -n "$$python" || { echo "make build needs the template's Python (python3.12) on PATH or in pyenv" >&2; exit 1; }; \
	echo "sam build with $$python"; \
	PATH="$$(dirname "$$python"):$$PATH" LAMBDA_PYTHON="$$python" SAM_CLI_TELEMETRY=0 $(SAM) build
	$(ARTIFACTS) compile .aws-sam/build
	$(ARTIFACTS) sizes .aws-sam/build
	MEDIALIB_LAMBDA_BUILD=.aws-sam/build $(PY) -m pytest -q tests/artifacts

deploy: build
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided

clean:
	rm -rf $(VENV) .aws-sam $(LAMBDA_BUILD) .pytest_cache .ruff_cache
