# The two commands: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck schema schema-check bench graphiql-assets clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chatgql serve

test: $(STAMP) lint typecheck schema-check
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/python -m resolvers.export > schema.graphql

schema-check: $(STAMP)
	$(BIN)/python -m resolvers.export --check schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

graphiql-assets: $(STAMP)
	$(BIN)/python scripts/vendor_graphiql.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
