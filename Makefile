# Contango — every target sets itself up from the repository: a fresh machine needs only Python 3.11.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
export CONTANGO_DATA_DIR ?= $(CURDIR)/var/data
NPM := npm --prefix frontend
WEB_STAMP := frontend/node_modules/.installed

.PHONY: help install web chromium run worker samples test test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install the pinned dependencies

$(WEB_STAMP): frontend/package.json frontend/package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $(WEB_STAMP)

web: $(STAMP) $(WEB_STAMP) ## Build the web app into frontend/dist (contango serve serves it at /)
	$(NPM) run build

chromium: ## Debian's Chromium for the browser tests (installed with apt when missing)
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

run: $(STAMP) web ## Load the bundled sample data (first time only) and start Contango on embedded defaults
	$(BIN)/contango samples load --if-empty
	$(BIN)/contango tour
	$(BIN)/contango serve

worker: $(STAMP) ## A Celery worker for scale-out (QUEUES=backtest SLOTS=4; needs CONTANGO_JOB_BACKEND=celery)
	$(BIN)/celery -A contango.workers.celery_app worker -Q $(or $(QUEUES),data,backtest,risk,ml) -c $(or $(SLOTS),2)

samples: $(STAMP) ## Regenerate the bundled sample data into CONTANGO_DATA_DIR
	$(BIN)/contango samples load

test: $(STAMP) $(WEB_STAMP) chromium ## Every test: Python (compiled, then the engine's twins), the web app's, the browser's
	$(BIN)/python -m pytest -n 2 -q
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -n 2 -q -p no:cacheprovider tests/unit tests/regression
	$(NPM) test
	$(NPM) run build
	E2E_SERVE=backend $(NPM) run e2e

test-fast: $(STAMP) ## Unit tests only, without the slow ones
	$(BIN)/python -m pytest -q tests/unit -m "not slow"

lint: $(STAMP) $(WEB_STAMP) ## ruff, mypy, the import contracts, eslint + tsc, and the API schema the web client is built from
	$(BIN)/ruff check backend tests benchmarks migrations
	$(BIN)/ruff format --check backend tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(NPM) run lint
	$(NPM) run gen >/dev/null
	@git diff --quiet -- frontend/openapi.json frontend/src/client/schema.d.ts || { \
		echo "frontend/openapi.json is stale: commit what 'npm --prefix frontend run gen' wrote"; exit 1; }

format: $(STAMP) ## Apply ruff's formatter and safe fixes
	$(BIN)/ruff format backend tests benchmarks migrations
	$(BIN)/ruff check --fix backend tests benchmarks migrations

bench: $(STAMP) ## Run the benchmarks and print their figures
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean: ## Remove the virtual environment, the web app's packages and build, and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules frontend/dist
