# Entry points named in the README. Every target creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run test lint ext bench bench-accuracy bench-classify bench-bank bench-proxy bench-store sanitize clean

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

bench-classify: ext
	$(PY) bench/bench_classify.py

bench-bank: ext
	$(PY) bench/bench_bank.py

bench-proxy: ext
	$(PY) bench/bench_proxy.py

bench-store: ext
	$(PY) bench/bench_store.py

bench: bench-accuracy bench-classify bench-bank bench-proxy bench-store

# The C extension built with ASan/UBSan into the tree, then the differential
# tests under it (libasan preloaded: the interpreter itself is not built with
# it). Rebuilds the plain extension afterwards.
SANITIZE_TESTS := tests/unit/test_native_diff.py tests/unit/test_classify_diff.py \
	tests/unit/test_classify_bank.py tests/unit/test_classify_ids.py
sanitize: $(VENV)/.test
	LLR_SANITIZE=1 $(PY) setup.py --quiet build_ext --inplace --force
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(PY) -m pytest -p no:cacheprovider $(SANITIZE_TESTS); \
	status=$$?; $(PY) setup.py --quiet build_ext --inplace --force; exit $$status

clean:
	rm -rf build $(VENV) *.egg-info router/classify/_native*.so .pytest_cache .mypy_cache
