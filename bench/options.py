"""What-if switches for the server under test, to measure proposals without shipping them.

`python -m bench --server-options parser-cache,shared-exec ...` (or BENCH_OPTIONS in the server's
environment). Each is bench code that patches the app at start-up. (`no-deflate`, measured here
first, is now how chatgql serves: gql_api.cli.SERVER_OPTIONS, and the bare baseline matches it.)

- `parser-cache`: Strawberry's `ParserCache` added to the schema's extensions (resolvers/schema.py).
- `validation-cache`: the limit rules built once plus `ValidationCache` (now how resolvers/schema.py
  builds the schema), with `ParserCache`.
(`shared-exec`, a prototype sharing one execution per delta, grew into resolvers/delivery.py.)
"""

from __future__ import annotations

from typing import Any

KNOWN = ("parser-cache", "validation-cache")


def parse(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ValueError(f"unknown server option(s) {unknown}; known: {', '.join(KNOWN)}")
    return names


def patch_app(names: list[str]) -> None:
    """Patch `gql_api.app.build_schema` before `create_app` runs."""
    if not {"parser-cache", "validation-cache"} & set(names):
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
        return schema

    gql_api.app.build_schema = patched
