# Included by every layer's Makefile (`include $(dir $(lastword $(MAKEFILE_LIST)))<path>/lambda.mk`):
# the Lambda platform a layer is built for, whatever machine builds it. SAM runs a layer's
# Makefile from a scratch copy but names the original, so the include resolves from there.
#
# LAMBDA_ARCH is the template's Architecture parameter (x86_64 or arm64); `make build ARCH=arm64`
# exports it. Wheels name arm64 "aarch64".
LAMBDA_PYTHON_VERSION ?= 3.12
LAMBDA_ARCH ?= x86_64
WHEEL_ARCH := $(if $(filter arm64,$(LAMBDA_ARCH)),aarch64,$(LAMBDA_ARCH))
# An interpreter of the runtime's version: python3.12 on PATH, else pyenv's.
LAMBDA_PYTHON ?= $(shell for p in python$(LAMBDA_PYTHON_VERSION) $$(pyenv root 2>/dev/null)/versions/$(LAMBDA_PYTHON_VERSION).*/bin/python$(LAMBDA_PYTHON_VERSION); do "$$p" -c '' 2>/dev/null && { command -v "$$p"; break; }; done)

# pip for the Lambda platform: binary wheels only, for the runtime's CPython and architecture.
# Pillow >= 12.3 ships manylinux_2_28 wheels only, which the python3.12 runtime satisfies.
PIP_INSTALL_FOR_LAMBDA = python3 -m pip install --quiet --no-compile \
	--platform manylinux2014_$(WHEEL_ARCH) --platform manylinux_2_28_$(WHEEL_ARCH) \
	--implementation cp --python-version $(LAMBDA_PYTHON_VERSION) --only-binary=:all:

# Compiled for the runtime's Python: Lambda's /opt is read-only, so a module without a .pyc for
# that version is compiled again on every cold start. unchecked-hash .pyc files are used without
# comparing them to the source (zips do not keep exact modification times). Bytecode does not
# depend on the architecture, so the build machine's python3.12 compiles for either.
COMPILE_FOR_LAMBDA = "$(LAMBDA_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash

# A recipe's first line: fails early, naming what is missing.
REQUIRE_LAMBDA_PYTHON = @test -n "$(LAMBDA_PYTHON)" || { echo "python$(LAMBDA_PYTHON_VERSION) not found: it compiles the layer for the runtime" >&2; exit 1; }
