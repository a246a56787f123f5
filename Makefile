# The README's commands. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test test-unit lint check-defs format demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Lint, the definitions as dg loads them, then every layer of focus_pipeline_tests/: unit,
# integration, dagster, e2e.
test: $(STAMP) lint check-defs
	$(PY) -m pytest -q

# The unit layer alone: no server, no Dagster instance; runs in seconds.
test-unit: $(STAMP)
	$(PY) -m pytest focus_pipeline_tests/unit -q

# Loading the definitions needs the two required settings; example values are enough (an
# existing .env or environment wins for every other variable).
EXAMPLE_SETTINGS := VIRTUAL_ENV=$(abspath $(VENV)) \
	FOCUS_OCI_BUCKET=ocid1.tenancy.oc1..aaaaaaaaexampleexampleexample FOCUS_S3_BUCKET=byod-example

check-defs: $(STAMP)
	$(EXAMPLE_SETTINGS) $(VENV)/bin/dg check defs
	$(EXAMPLE_SETTINGS) $(VENV)/bin/dg list defs >/dev/null

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache
