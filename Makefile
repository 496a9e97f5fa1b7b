# The two commands of the README:  `make up` runs the product, `make test` runs the tests.
# Each creates the local virtual environment (.venv) and installs what it needs by itself.
# `make test` runs `make lint` first: ruff (lint and formatting) and mypy, configured in pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: up demo lint test test-postgres bench bench-assessment bench-triage bench-web browser chaos clean

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

# The assessment on a synthetic month of a Qingdao-sized center (450,000 tickets) in PostgreSQL.
bench-assessment: $(VENV)/.installed-dev
	HOTLINE_LOG_LEVEL=WARNING $(BIN)/hotline bench-assessment

# The workbench's browser tests (tests/web/) drive Debian's Chromium through Debian's chromedriver;
# a CJK font so the pages' Chinese is drawn in the screenshots. Installed once, as root (CI is).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=zh | grep -q . || { \
	  echo "Installing Chromium, chromedriver and a Chinese font for the browser tests (apt, about a minute)..."; \
	  $$(command -v sudo || true) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$(command -v sudo || true) apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; }

# With 10,000 open tickets in a scratch read model: the first render of every workbench page.
bench-web: $(VENV)/.installed
	HOTLINE_LOG_LEVEL=WARNING $(BIN)/hotline bench-web

# Intake triage on the held-out evaluation set (TRIAGE_SET=path/to/set.toml for another one).
TRIAGE_SET ?= tests/data/triage_eval.toml
bench-triage: $(VENV)/.installed
	HOTLINE_LOG_LEVEL=WARNING $(BIN)/hotline bench-triage $(TRIAGE_SET)

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
	@$(MAKE) --no-print-directory browser
	@echo "Installed."
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) data .pytest_cache
