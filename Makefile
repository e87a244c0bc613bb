# pykube: the two commands are `make up` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# make up / make down settings (see deploy/install.sh): the data dir, the apiserver port,
# extra `pykube server` flags, systemd|background|auto, and PURGE=1 to delete the data dir.
DATA_DIR ?= $(or $(PYKUBE_DATA_DIR),/var/lib/pykube)
PORT ?= 6443
SERVER_ARGS ?=
MODE ?= auto
UNIT ?= pykube-server
PURGE ?=

.PHONY: venv test lint chaos fuzz unit integration e2e up down bench clean dashboard-assets

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

test: venv
	$(PY) -m pytest -q --durations=15 $(PYTEST_ARGS)

# ruff, mypy (strict on api/, client/, apiserver/storage/), and the import-linter contracts
# of DESIGN.md's layering (all configured in pyproject.toml)
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# the chaos suite for a long run: CHAOS_MINUTES (30), CHAOS_SEED, CHAOS_STORE=etcd
CHAOS_MINUTES ?= 30
chaos: venv
	CHAOS_MINUTES=$(CHAOS_MINUTES) $(PY) -m pytest -q -s tests/chaos

# API fuzzing for a long run: FUZZ_REQUESTS (10000) schemathesis requests, FUZZ_SEED to repeat
FUZZ_REQUESTS ?= 10000
FUZZ_SEED ?= 0
fuzz: venv
	FUZZ_REQUESTS=$(FUZZ_REQUESTS) FUZZ_SEED=$(FUZZ_SEED) $(PY) -m pytest -q -s tests/fuzz

unit: venv
	$(PY) -m pytest -q tests/unit

integration: venv
	$(PY) -m pytest -q tests/integration

e2e: venv
	$(PY) -m pytest -q tests/e2e

# A cluster on this machine, with the nginx app served through a LoadBalancer address.
up:
	DATA_DIR="$(DATA_DIR)" PORT="$(PORT)" SERVER_ARGS="$(SERVER_ARGS)" MODE="$(MODE)" \
	  UNIT="$(UNIT)" VENV="$(VENV)" deploy/install.sh server --quickstart

# Stop it and remove every container, rule, bridge, route and mount it made.
down:
	DATA_DIR="$(DATA_DIR)" UNIT="$(UNIT)" VENV="$(VENV)" PURGE="$(PURGE)" deploy/uninstall.sh

bench: venv
	$(PY) bench/api.py

# The dashboard's npm packages (dashboard/frontend/package-lock.json) into dashboard/static/vendor.
dashboard-assets:
	python3 dashboard/frontend/vendor.py

clean:
	rm -rf $(VENV) build *.egg-info
