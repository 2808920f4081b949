# Entry points named in the README. Every target creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run demo test lint ext bench bench-accuracy bench-classify bench-bank bench-proxy bench-store bench-load bench-peers bench-cost sanitize clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-install only when the packaging changes. A venv the test targets
# made holds an editable install of this tree: it is kept (brought up to date
# by its own stamp), since a plain install over it would leave the console
# script running a copy of the code as it was.
$(VENV)/.run: $(PY) pyproject.toml setup.py
	if [ -f $(VENV)/.test ]; then $(MAKE) --no-print-directory $(VENV)/.test; \
	else $(PY) -m pip install --quiet .; fi
	touch $@

# build_ext runs the venv's own setuptools: it must read pyproject's SPDX
# license string (setuptools 77+).
$(VENV)/.test: $(PY) pyproject.toml setup.py
	$(PY) -m pip install --quiet --upgrade "setuptools>=77" wheel
	$(PY) -m pip install --quiet -e ".[test,lint,clients]"
	touch $@

ext: $(VENV)/.test
	$(PY) setup.py --quiet build_ext --inplace

# Serves the example policy; LLR_HOST/LLR_PORT/LLR_POLICY from the environment win.
run: $(VENV)/.run
	LLR_POLICY="$${LLR_POLICY:-policy.example.yaml}" $(BIN)/llm-router serve

# Stand-ins for the three backends on free loopback ports, the router on
# policy.demo.yaml, one request of each kind; stops everything it started.
demo: $(VENV)/.run
	$(PY) bench/demo.py

# The example policy's routing cases first (pytest's summary stays last).
test: ext
	$(BIN)/llm-router test policy.example.yaml policy.example.cases.yaml
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

# wrk drives the 50-connection load when installed (apt-get install wrk);
# without it the built-in generator does.
bench-load: ext
	$(PY) bench/bench_load.py

# Bytecodes (and, with valgrind, instructions) per request: router vs floor.
bench-cost: ext
	$(PY) bench/bench_cost.py $${VALGRIND:+--callgrind}

# Opt-in, not part of `bench`: installs TensorZero, Portkey and LiteLLM into
# ~/.cache/local-llm-router/peers (outside the repo) on first use.
bench-peers: ext
	$(PY) bench/bench_peers.py

bench: bench-accuracy bench-classify bench-bank bench-proxy bench-store bench-load bench-cost

# The C extension built with ASan/UBSan into the tree, then the differential
# tests under it (libasan preloaded: the interpreter itself is not built with
# it). Rebuilds the plain extension afterwards.
SANITIZE_TESTS := tests/unit/test_native_diff.py tests/unit/test_classify_diff.py \
	tests/unit/test_classify_body_diff.py \
	tests/unit/test_classify_bank.py tests/unit/test_classify_ids.py
sanitize: $(VENV)/.test
	LLR_SANITIZE=1 $(PY) setup.py --quiet build_ext --inplace --force
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(PY) -m pytest -p no:cacheprovider $(SANITIZE_TESTS); \
	status=$$?; $(PY) setup.py --quiet build_ext --inplace --force; exit $$status

clean:
	rm -rf build $(VENV) *.egg-info router/classify/_native*.so .pytest_cache .mypy_cache
