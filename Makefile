# Contango — every target sets itself up from the repository: a fresh machine needs only Python 3.11.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
export CONTANGO_DATA_DIR ?= $(CURDIR)/var/data

.PHONY: help install run worker samples test test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install the pinned dependencies

run: $(STAMP) ## Load the bundled sample data (first time only) and start Contango on embedded defaults
	$(BIN)/contango samples load --if-empty
	$(BIN)/contango tour
	$(BIN)/contango serve

worker: $(STAMP) ## A Celery worker for scale-out (QUEUES=backtest SLOTS=4; needs CONTANGO_JOB_BACKEND=celery)
	$(BIN)/celery -A contango.workers.celery_app worker -Q $(or $(QUEUES),data,backtest,risk,ml) -c $(or $(SLOTS),2)

samples: $(STAMP) ## Regenerate the bundled sample data into CONTANGO_DATA_DIR
	$(BIN)/contango samples load

test: $(STAMP) ## Run the whole test suite, then the engine's tests again as plain Python (the kernels' twins)
	$(BIN)/python -m pytest -n 2 -q
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -n 2 -q -p no:cacheprovider tests/unit tests/regression

test-fast: $(STAMP) ## Unit tests only, without the slow ones
	$(BIN)/python -m pytest -q tests/unit -m "not slow"

lint: $(STAMP) ## ruff, mypy and the import contracts
	$(BIN)/ruff check backend tests benchmarks migrations
	$(BIN)/ruff format --check backend tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP) ## Apply ruff's formatter and safe fixes
	$(BIN)/ruff format backend tests benchmarks migrations
	$(BIN)/ruff check --fix backend tests benchmarks migrations

bench: $(STAMP) ## Run the benchmarks and print their figures
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
