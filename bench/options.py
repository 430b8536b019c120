"""What-if switches for the server under test, to measure proposals without shipping them.

`python -m bench --server-options parser-cache ...` (or BENCH_OPTIONS in the server's
environment). Each is bench code that patches the app at start-up.

- `parser-cache`: Strawberry's `ParserCache` added to the schema's extensions (resolvers/schema.py).

Measured here first and since shipped: `no-deflate` (gql_api.cli.SERVER_OPTIONS; the bare baseline
matches it), `validation-cache` (resolvers/schema.py validates each document once), and
`shared-exec`, which grew into resolvers/delivery.py.
"""

from __future__ import annotations

from typing import Any

KNOWN = ("parser-cache",)


def parse(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ValueError(f"unknown server option(s) {unknown}; known: {', '.join(KNOWN)}")
    return names


def patch_app(names: list[str]) -> None:
    """Patch `gql_api.app.build_schema` before `create_app` runs."""
    if "parser-cache" not in names:
        return
    from strawberry.extensions import ParserCache

    import gql_api.app
    from resolvers.schema import build_schema

    def patched(settings: Any = None) -> Any:
        schema = build_schema(settings)
        schema.extensions = (*schema.extensions, lambda: ParserCache(maxsize=256))
        return schema

    gql_api.app.build_schema = patched
