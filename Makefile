# Two commands a newcomer needs: `make serve` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup serve test lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Serve the example graphs on http://127.0.0.1:8123 (SQLite file under examples/.graphport/)
serve: setup
	$(VENV)/bin/graphport serve --config examples/langgraph.json

# Lint, type check (mypy --strict over src/, configured in pyproject.toml), the whole test suite
# (starts PostgreSQL and Redis first when they are installed but down, installs Debian's chromium
# for the browser tests when it is missing and apt-get can), then the black-box API
# suite again against a server on PostgreSQL
test: setup
	scripts/services.sh
	scripts/browser.sh
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(PY) -m pytest
	GRAPHPORT_TEST_BACKEND=postgres $(PY) -m pytest tests/api

lint: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

# graphport beside the reference on the shared harness (see bench/README.md)
bench: setup
	bench/run.sh
