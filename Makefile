# The two commands of the README:  `make up` runs the product, `make test` runs the tests.
# Each creates the local virtual environment (.venv) and installs what it needs by itself.
# `make test` runs `make lint` first: ruff (lint and formatting) and mypy, configured in pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: up demo lint test test-postgres bench chaos clean

up: $(VENV)/.installed
	$(BIN)/hotline up

# ruff over the whole tree; mypy over the product packages (the `files` of [tool.mypy]:
# workflows/ domain/ activities/ api/ catalog/ readmodel/ core/ hotline/ simulator/ worker.py).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite on SQLite (the embedded default), then everything that touches the read model
# again on a real PostgreSQL server (its binaries come from the pgserver package).
test: lint
	$(BIN)/pytest
	$(BIN)/pytest --postgres tests/readmodel tests/activities tests/api tests/workflows

test-postgres: $(VENV)/.installed-dev
	$(BIN)/pytest --postgres tests/readmodel tests/activities tests/api tests/workflows

# A day of citizens' requests played into the running product (`make up` in another terminal).
demo: $(VENV)/.installed
	$(BIN)/hotline demo

bench: $(VENV)/.installed
	HOTLINE_LOG_LEVEL=WARNING $(BIN)/hotline bench

# The parts as separate processes, SIGKILLed at random while N tickets run their lifecycle; prints
# kills, retries, 5xx, duplicates, lost, stuck, mismatches (not part of `make test`). N=200 by default.
N ?= 200
chaos: $(VENV)/.installed
	$(BIN)/hotline chaos --tickets $(N)

$(VENV)/bin/python:
	@echo "Creating the virtual environment $(VENV) with $(PYTHON)..."
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	@echo "Installing the product into $(VENV) (first run, or after pyproject.toml changed; usually 1-2 minutes)..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@echo "Installed."
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	@echo "Installing the product and its test tools into $(VENV) (first run, or after pyproject.toml changed; usually 1-3 minutes)..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@echo "Installed."
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) data .pytest_cache
