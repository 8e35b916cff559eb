# Tessera's two set-up commands (`make run`, `make test`) and the developer's others.
# Everything a fresh Debian machine lacks is installed here: Python packages into .venv, and
# Debian's packages (PostgreSQL's server, Chromium, wrk) with apt-get where missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: install run test lint unit integration e2e bench bench-growth soak system-deps bench-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# `make run ACQUIRER_SIM=1` also starts `tessera acquirer-sim` (ISO 8583 on port 8583, ledger in .tessera/)
# and sends test-mode payments through it instead of the in-process sandbox.
ACQUIRER_SIM ?=
run: install
ifeq ($(ACQUIRER_SIM),)
	$(BIN)/tessera serve
else
	@mkdir -p .tessera
	$(BIN)/tessera acquirer-sim --port 8583 --ledger .tessera/acquirer-sim.db --control-port 8584 & \
	sim=$$!; trap 'kill $$sim' EXIT INT TERM; \
	TESSERA_TEST_PROCESSOR='iso8583://127.0.0.1:8583?header=2' $(BIN)/tessera serve
endif

# Debian packages the tests need: PostgreSQL's server (initdb/pg_ctl) and Chromium for page tests.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; \
	fi

bench-deps: system-deps
	@command -v wrk >/dev/null 2>&1 || { $(APT) update -qq && $(APT) install -y -qq --no-install-recommends wrk; }

lint: install
	$(BIN)/ruff check tessera tests bench soak
	$(BIN)/ruff format --check tessera tests bench soak
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

integration: install system-deps
	$(BIN)/pytest tests/integration

e2e: install system-deps
	$(BIN)/pytest tests/e2e

test: install system-deps lint
	$(BIN)/pytest

bench: install bench-deps
	$(BIN)/python -m bench.run

# Issue 15's growth check alone: 1,000,000 one-call payments per backend; writes docs/benchmarks-growth.md.
bench-growth: install bench-deps
	BENCH_ONLY_GROWTH=1 $(BIN)/python -m bench.run

# The fault and fuzz suite (tests/faults) at its long size; writes docs/reliability.md (about an hour).
soak: install system-deps
	$(BIN)/python -m soak.run

clean:
	rm -rf $(VENV) .tessera .pytest_cache .mypy_cache .ruff_cache
