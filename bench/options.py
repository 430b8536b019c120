"""What-if switches for the server under test, to measure proposals without shipping them.

`python -m bench --server-options parser-cache,shared-exec ...` (or BENCH_OPTIONS in the server's
environment). Each is bench code that patches the app at start-up. (`no-deflate`, measured here
first, is now how chatgql serves: gql_api.cli.SERVER_OPTIONS, and the bare baseline matches it.)

- `parser-cache`: Strawberry's `ParserCache` added to the schema's extensions (resolvers/schema.py).
- `validation-cache`: the limit rules built once plus `ValidationCache` (now how resolvers/schema.py
  builds the schema), with `ParserCache`.
- `shared-exec`: a prototype that executes the subscription selection set once per delta and
  query (document, variables) and shares the result between the subscribers of that stream.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from graphql import ExecutionResult
from graphql.execution import Executor

KNOWN = ("parser-cache", "validation-cache", "shared-exec")
SHARED_RESULTS = 1024


def parse(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ValueError(f"unknown server option(s) {unknown}; known: {', '.join(KNOWN)}")
    return names


def patch_app(names: list[str]) -> None:
    """Patch `gql_api.app.build_schema` before `create_app` runs."""
    if not {"parser-cache", "validation-cache", "shared-exec"} & set(names):
        return
    from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache

    import gql_api.app
    from resolvers.schema import build_schema

    def patched(settings: Any = None) -> Any:
        schema = build_schema(settings)
        if "parser-cache" in names or "validation-cache" in names:
            schema.extensions = (*schema.extensions, lambda: ParserCache(maxsize=256))
        if "validation-cache" in names:
            rules: list[Any] = []
            kept: list[Any] = []
            for factory in schema.extensions:
                made = factory() if callable(factory) else factory
                if type(made) is not AddValidationRules and isinstance(made, AddValidationRules):
                    rules.extend(made.validation_rules)  # QueryDepthLimiter, MaxAliasesLimiter
                else:
                    kept.append(factory)
            schema.extensions = (
                *kept,
                lambda: AddValidationRules(rules),
                lambda: ValidationCache(maxsize=256),
            )
        if "shared-exec" in names:
            # create_app wraps it once more in the per-event memo fix: harmless, it nests.
            schema.execution_context_class = shared_executor(schema.execution_context_class)
        return schema

    gql_api.app.build_schema = patched


def shared_executor(base: type[Executor]) -> type[Executor]:
    import resolvers.streams

    fixed = resolvers.streams.per_event_executor(base)
    results: OrderedDict[tuple[Any, ...], ExecutionResult] = OrderedDict()

    class SharedDeltaExecutor(fixed):  # type: ignore[valid-type,misc]
        shared_deltas = True

        def build_per_event_executor(self, payload: Any) -> Executor:
            executor = super().build_per_event_executor(payload)
            if type(payload).__name__ == "StreamDelta":
                prefix = self.__dict__.get("_share_prefix")
                if prefix is None:
                    loc = self.operation.loc
                    body = loc.source.body if loc is not None else id(self.operation)
                    user = getattr(getattr(self.context_value, "user", None), "id", None)
                    variables = json.dumps(self.variable_values, sort_keys=True, default=str)
                    prefix = self._share_prefix = (body, variables, user)
                executor._share_key = (prefix, payload.seq, payload.offset, payload.text)
            return executor

        def execute_operation(self, serially: bool | None = None) -> Any:
            key = self.__dict__.get("_share_key")
            if key is not None and (hit := results.get(key)) is not None:
                return hit
            result = super().execute_operation(serially)
            if key is not None and isinstance(result, ExecutionResult) and not result.errors:
                results[key] = result
                if len(results) > SHARED_RESULTS:
                    results.popitem(last=False)
            return result

    return SharedDeltaExecutor
