# The two commands: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# ariadne-codegen pins a graphql-core and a ruff older than the project's: a venv of its own.
CODEGEN_VENV := .venv-codegen
CODEGEN_STAMP := $(CODEGEN_VENV)/.installed

.PHONY: run test lint typecheck schema schema-check clients clients-check bench graphiql-assets clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(CODEGEN_STAMP): clients/python/codegen-requirements.txt
	$(PYTHON) -m venv $(CODEGEN_VENV)
	$(CODEGEN_VENV)/bin/pip install --quiet -r clients/python/codegen-requirements.txt
	touch $(CODEGEN_STAMP)

run: $(STAMP)
	$(BIN)/chatgql serve

test: $(STAMP) lint typecheck schema-check clients-check
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

# The typed clients (Python: ariadne-codegen; TypeScript: GraphQL Code Generator, needs npm)
# from schema.graphql and clients/operations/*.graphql.
clients: $(STAMP) $(CODEGEN_STAMP)
	$(BIN)/python clients/generate.py --ariadne $(CODEGEN_VENV)/bin/ariadne-codegen

clients-check: $(STAMP) $(CODEGEN_STAMP)
	$(BIN)/python clients/generate.py --ariadne $(CODEGEN_VENV)/bin/ariadne-codegen --check

bench: $(STAMP)
	$(BIN)/python -m bench

graphiql-assets: $(STAMP)
	$(BIN)/python scripts/vendor_graphiql.py

clean:
	rm -rf $(VENV) $(CODEGEN_VENV) clients/typescript/node_modules .pytest_cache .mypy_cache .ruff_cache
