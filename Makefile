# CosmoCore: every target sets up what it needs itself (a .venv in this folder).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_DIR ?= out/demo

.PHONY: install test test-all lint bench demo clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of torch first (it lies on this machine's disk); the project's torch range accepts it.
	$(BIN)/pip install --quiet torch==2.13.0 || $(BIN)/pip install --quiet "torch>=2.4"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q

test-all: $(STAMP)
	$(BIN)/pytest -q -m ""

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/cosmocore bench sandbox

demo: $(STAMP)
	$(BIN)/cosmocore demo --out $(DEMO_DIR)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
