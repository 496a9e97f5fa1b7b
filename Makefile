# The two commands of the README:  `make up` runs the product, `make test` runs the tests.
# Each creates the local virtual environment (.venv) and installs what it needs by itself.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: up test test-postgres bench bench-triage clean

up: $(VENV)/.installed
	$(BIN)/hotline up

# The whole suite on SQLite (the embedded default), then everything that touches the read model
# again on a real PostgreSQL server (its binaries come from the pgserver package).
test: $(VENV)/.installed-dev
	$(BIN)/pytest
	$(BIN)/pytest --postgres tests/readmodel tests/activities tests/api tests/workflows

test-postgres: $(VENV)/.installed-dev
	$(BIN)/pytest --postgres tests/readmodel tests/activities tests/api tests/workflows

bench: $(VENV)/.installed
	HOTLINE_LOG_LEVEL=WARNING $(BIN)/hotline bench

# Intake triage on the held-out evaluation set (TRIAGE_SET=path/to/set.toml for another one).
TRIAGE_SET ?= tests/data/triage_eval.toml
bench-triage: $(VENV)/.installed
	HOTLINE_LOG_LEVEL=WARNING $(BIN)/hotline bench-triage $(TRIAGE_SET)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) data .pytest_cache
