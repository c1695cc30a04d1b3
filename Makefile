# Developer tasks. Each target creates or reuses the virtual environment in $(VENV).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench clean

install: $(STAMP)

# setup.py and the kernel's C source: a change recompiles the training kernel in place.
$(STAMP): pyproject.toml setup.py core/_kernel.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: start the service with its embedded defaults (127.0.0.1:8000, SQLite under ./data)
run: install
	$(BIN)/planenet serve

## test: run the whole test suite
test: install
	$(BIN)/python -m pytest

## lint: the quality gates CI applies (db check: the migrations match the tables in code)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/planenet db check --data-dir "$$(mktemp -d)"

## format: rewrite the sources in the house style
format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: print the benchmarks' figures
bench: install
	$(BIN)/python -m bench.core_training
	$(BIN)/python -m bench.service_http
	$(BIN)/python -m bench.predict_vs_baseline
	$(BIN)/python -m bench.event_streams
	$(BIN)/python -m bench.request_body
	$(BIN)/python -m bench.concurrent_jobs
	$(BIN)/python -m bench.figures
	$(BIN)/python -m bench.inference_http
	$(BIN)/python -m bench.progress_writes
	$(BIN)/python -m bench.pickup_latency
	$(BIN)/python -m bench.client
	$(BIN)/python -m bench.references

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
