# newsflow — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE_STAMP := $(VENV)/.native-installed
# The native keyword step (native/, Rust) needs cargo: rustup puts it in ~/.cargo/bin.
CARGO_BIN ?= $(HOME)/.cargo/bin

.PHONY: install demo test lint unit stack-up stack-up-cluster stack-down stack-status clean browser prometheus

install: $(STAMP) $(NATIVE_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@# Bytecode once at install, as pip does unless PYTHONDONTWRITEBYTECODE is set (then every worker start
	@# compiles its imports again: 2.2 s of CPU per index worker instead of 0.8).
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib pipeline schemas > /dev/null || true
	@touch $(STAMP)

# The native keyword step: built in native/target (1-2 minutes from scratch on 2 cores), installed into the
# venv. If it cannot be built, newsflow runs the Python step (same keywords, slower) and the next `make install`
# tries again; `make test` then fails (tests/unit/test_native_keywords.py) rather than test the Python path only.
$(NATIVE_STAMP): $(STAMP) native/Cargo.toml native/Cargo.lock native/pyproject.toml native/newsflow_native.pyi $(wildcard native/src/*.rs)
	@if PATH="$(CARGO_BIN):$$PATH" $(BIN)/pip install --quiet ./native; then touch $(NATIVE_STAMP); else \
		echo "*** newsflow: the native keyword step (native/) did not build: is cargo (Rust) installed?" >&2; \
		echo "*** newsflow: going on with the Python keyword step; make test will fail until it builds." >&2; fi

demo: install
	$(BIN)/newsflow demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest tests/unit -q

test: install lint browser prometheus
	$(BIN)/pytest -q

# Headless Chromium, its driver and a CJK font (else Chinese renders as boxes) for the browser tests
# (tests/e2e/test_airflow_ui.py, test_search_page.py), from Debian, installed only when missing; sudo only when not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BROWSER_PACKAGES := chromium chromium-driver fonts-noto-cjk

browser:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && fc-list :lang=zh | grep -q . || \
		{ $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PACKAGES); }

# Prometheus and promtool (Debian's `prometheus` package) for the alerting-rule tests and the scrape test
# (tests/unit/test_monitoring.py, tests/integration/test_prometheus.py), installed only when missing; sudo only when
# not root. (Where systemd runs, Debian also starts its own server on :9090; the tests start theirs on free ports.)
PROMETHEUS_PACKAGES := prometheus

prometheus:
	@test -x /usr/bin/prometheus && test -x /usr/bin/promtool || \
		{ $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(PROMETHEUS_PACKAGES); }

stack-up: install
	$(BIN)/newsflow stack up

# Three Kafka brokers and three Elasticsearch nodes instead of one of each (see "Running on clusters" in README.md).
stack-up-cluster: install
	$(BIN)/newsflow stack up --cluster

stack-down: install
	$(BIN)/newsflow stack down

stack-status: install
	$(BIN)/newsflow stack status

# The benchmark (about 10 minutes): fresh bench topics and index on the local stack, removed afterwards.
BENCH_ARTICLES ?= 20000
BENCH_JSON ?= .stack/bench.json
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: bench
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	@touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(BIN)/newsflow stack up
	$(BIN)/newsflow bench --articles $(BENCH_ARTICLES) --json $(BENCH_JSON)

clean: stack-down
	rm -rf .stack
