# Nightshift. Two commands matter: `make demo` and `make test`. Both install everything first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
ANVIL_BIN := $(CURDIR)/node_modules/@foundry-rs/anvil-linux-amd64/bin

# The solc-js front (.venv/bin/solc) and anvil come first on PATH; py-solc-x keeps its
# compiler registry inside the repo so another clone's copy is never picked up.
export PATH := $(VENV)/bin:$(ANVIL_BIN):$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PYTHONUNBUFFERED := 1

PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
SOLC_STAMP := .solcx/.imported

.PHONY: help install compile test test-contracts demo gas bench adversary soak lint clean

help:
	@echo "make demo   run the main job on a local devnet (installs everything first)"
	@echo "make test   run the tests (installs everything first)"
	@echo "make gas    gas per job for each lifecycle path at batch sizes 1, 16, 64, 256: docs/gas.md"
	@echo "make bench  every benchmark on fresh devnets (~10 min): bench/results/latest.{json,md,png}"
	@echo "make adversary  each attack on the real contracts, many rounds: bench/results/adversary.{json,md}"
	@echo "make soak   the stateful property test for 10,000 steps, then 52 kill -9 trials: bench/results/{soak,kills}.json"
	@echo "make lint   ruff and mypy"

install: $(PY_STAMP) $(NPM_STAMP) $(SOLC_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# A native-looking `solc` that runs solc-js, registered with py-solc-x for ape-solidity.
$(SOLC_STAMP): $(PY_STAMP) $(NPM_STAMP) scripts/solc.js
	printf '#!/bin/sh\nexec node "%s/scripts/solc.js" "$$@"\n' "$(CURDIR)" > $(VENV)/bin/solc
	chmod +x $(VENV)/bin/solc
	rm -rf .solcx && mkdir -p .solcx
	$(VENV)/bin/python -c "import solcx; print('solc imported:', solcx.import_installed_solc())"
	touch $@

compile: install
	ape compile

# pytest exits 5 when no test ran; that fails `make test` like any other error.
test: compile lint
	ape test tests/ -q -p no:cacheprovider

test-contracts: compile
	ape test tests/contracts -q

gas: compile
	python -m bench.gas --doc docs/gas.md

# Not part of `make test`: timings belong in benchmarks, measured as ratios in one run.
bench: compile
	python -m bench --doc docs/performance.md

# Each attack of the security review, against the real contracts, measured against the theory.
adversary: compile
	python -m bench.adversary

soak: compile
	python -m bench.soak --steps 10000
	python -m bench.kills --trials 52

demo: compile
	python scripts/demo.py

lint: install
	ruff check node verifier faults scripts tests bench
	ruff format --check node verifier faults scripts tests bench
	mypy node verifier faults scripts bench
	lint-imports

clean:
	rm -rf .build .solcx .devnet
