# Entry points named in the README. Every target creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run test lint ext bench-accuracy clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-install only when the packaging changes.
$(VENV)/.run: $(PY) pyproject.toml setup.py
	$(PY) -m pip install --quiet .
	touch $@

$(VENV)/.test: $(PY) pyproject.toml setup.py
	$(PY) -m pip install --quiet -e ".[test,lint]"
	touch $@

ext: $(VENV)/.test
	$(PY) setup.py --quiet build_ext --inplace

# Serves the example policy; LLR_HOST/LLR_PORT/LLR_POLICY from the environment win.
run: $(VENV)/.run
	LLR_POLICY="$${LLR_POLICY:-policy.example.yaml}" $(BIN)/llm-router serve

test: ext
	$(PY) -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check router tests bench
	$(BIN)/ruff format --check router tests bench
	$(BIN)/mypy

bench-accuracy: ext
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) bench/bench_accuracy.py

clean:
	rm -rf build $(VENV) *.egg-info router/classify/_native*.so .pytest_cache .mypy_cache
