# pykube: the two commands are `make up` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv test unit integration e2e up down bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

test: venv
	$(PY) -m pytest -q -x --durations=15 $(PYTEST_ARGS)

unit: venv
	$(PY) -m pytest -q tests/unit

integration: venv
	$(PY) -m pytest -q tests/integration

e2e: venv
	$(PY) -m pytest -q tests/e2e

bench: venv
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) build *.egg-info
