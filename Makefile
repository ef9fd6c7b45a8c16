# CosmoCore: every target sets up what it needs itself (a .venv in this folder).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_DIR ?= out/demo

.PHONY: install test test-all test-verl lint bench demo clean

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

# verl pins numpy < 2 (0.7) or transformers < 5.11 (0.9), so its loader tests get a venv of their own.
VERL_VENV := .venv-verl
test-verl:
	$(PY) -m venv $(VERL_VENV)
	$(VERL_VENV)/bin/pip install --quiet --upgrade pip
	$(VERL_VENV)/bin/pip install --quiet torch==2.13.0 || $(VERL_VENV)/bin/pip install --quiet "torch>=2.4"
	$(VERL_VENV)/bin/pip install --quiet -e ".[verl]" "verl==0.7.1" "pyarrow<20" "pytest>=8" "pytest-timeout>=2.3" "hypothesis>=6.100"
	$(VERL_VENV)/bin/pytest -q -m slow tests/integration/test_integrations_verl_loaders.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/cosmocore bench sandbox

demo: $(STAMP)
	$(BIN)/cosmocore demo --out $(DEMO_DIR)

clean:
	rm -rf $(VENV) $(VERL_VENV) .pytest_cache .mypy_cache .ruff_cache
