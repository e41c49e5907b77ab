# The two commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= $(if $(wildcard config.toml),config.toml,config.example.toml)

.PHONY: serve test lint bench install screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/jinlin serve --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest


bench: $(STAMP)
	$(BIN)/python bench/bench_parse.py
	$(BIN)/python bench/bench_webhook.py

# The pictures in the README: page tests take them (tests/screenshots/), these are kept.
README_SHOTS := console_board console_reports

screenshots: $(STAMP)
	$(BIN)/pytest -q tests/bot/web/console/test_console_browser.py
	mkdir -p docs/images
	for name in $(README_SHOTS); do cp tests/screenshots/$$name.png docs/images/; done
