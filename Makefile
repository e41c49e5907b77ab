# The two commands of the README: `make serve` (the demo with its WeChat simulator) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The README's images come from the page tests (the simulator's and the console's).
README_IMAGES := simulator_resident simulator_template console_board console_broadcast console_reports console_bindings

.PHONY: serve test lint bench install screenshots train evaluate

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Jinlin on a demo database beside a local WeChat simulator: no config, no WeChat account.
# `make serve ARGS=--reset` starts the demo over; running for real is `jinlin serve --config`.
serve: $(STAMP)
	$(BIN)/jinlin simulate $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest


screenshots: $(STAMP)
	$(BIN)/pytest tests/bot/simulator/test_page.py tests/bot/web/console/test_console_browser.py -q
	mkdir -p docs/images
	for name in $(README_IMAGES); do cp tests/screenshots/$$name.png docs/images/; done

# Refit the parser's learned scorer to the labelled data and rewrite nlp/weights.json
# (byte for byte the same on every run); then `make evaluate` for honest scores.
train: $(STAMP)
	$(BIN)/python -m nlp.training

evaluate: $(STAMP)
	$(BIN)/python -m nlp.evaluate

bench: $(STAMP)
	$(BIN)/python bench/bench_parse.py
	$(BIN)/python bench/bench_webhook.py
	$(BIN)/python bench/bench_broadcast.py
	$(BIN)/python bench/bench_delivery.py
