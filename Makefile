# Two commands: `make run` serves the demo shop with GraphiQL; `make test` runs every test.
# Dependencies are installed from the lock files (exact versions); `make lock` refreshes them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
RUN_LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
DB ?= data/gateway.sqlite3
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint schema bench install lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The lock pins every package; the project itself is installed on top without resolving again.
$(RUN_STAMP): pyproject.toml $(RUN_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(RUN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

# The demo shop is imported into a database that does not exist yet (PostgreSQL: one without
# the gateway's tables, which `gateway export` refuses).
run: $(RUN_STAMP)
	@case '$(DB)' in \
	  postgres*://*) $(BIN)/gateway export --db '$(DB)' > /dev/null 2>&1 || \
	                 $(BIN)/gateway import data/demo-catalog.json --db '$(DB)' ;; \
	  *) test -f '$(DB)' || $(BIN)/gateway import data/demo-catalog.json --db '$(DB)' ;; \
	esac
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql  (demo shop in $(DB); Ctrl+C stops)"
	$(BIN)/gateway serve --db '$(DB)' --host $(HOST) --port $(PORT)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check gateway tests bench scripts
	$(BIN)/mypy gateway

schema: $(RUN_STAMP)
	$(BIN)/gateway schema > schema.graphql
	$(BIN)/python -m gateway.api.federation.sdl > subgraph.graphql

# Re-resolve the pins from pyproject.toml (needs the registry). The runtime lock is constrained
# by the test lock, so both install the same version of every shared package.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile --quiet --python $(BIN)/python --extra test pyproject.toml \
		--output-file $(TEST_LOCK) --custom-compile-command 'make lock'
	$(BIN)/uv pip compile --quiet --python $(BIN)/python pyproject.toml \
		--constraint $(TEST_LOCK) --output-file $(RUN_LOCK) --custom-compile-command 'make lock'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
