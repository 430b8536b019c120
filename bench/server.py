"""The chatgql server under test: the real app, with the stamped model and write counters.

`python -m bench.server --port P` (settings from CHATGQL_* as usual). Bench code only: the app is
built with `create_app(settings)`, after `gql_api.runtime.make_models` is wrapped so that it
returns the stamped provider. Two extra routes drive the run: `POST /bench/gate/{name}` opens a
gate, `GET /bench/stats` returns the write counters.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tracemalloc

import uvicorn
from fastapi import FastAPI
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from bench import options
from bench.counters import WriteCounters
from bench.provider import Gates, StampedProvider
from gql_api import logs, runtime
from gql_api.app import create_app, with_cross_origin
from gql_api.cli import SERVER_OPTIONS
from gql_api.db import Database
from gql_api.migrate import upgrade
from gql_api.providers.base import ModelProvider
from gql_api.providers.catalog import ModelCatalog
from gql_api.secrets_box import SecretBox
from gql_api.services import Services
from gql_api.settings import Settings


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def _add_tracemalloc_routes(app: FastAPI) -> None:
    """Diagnostics for the memory benchmark: where the bytes allocated since a mark live."""
    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC", "1")))
    marks: list[tracemalloc.Snapshot] = []

    async def mark() -> JSONResponse:
        gc.collect()
        tracemalloc.reset_peak()
        marks[:] = [tracemalloc.take_snapshot()]
        return JSONResponse({"marked": True})

    async def diff(limit: int = 25, group: str = "lineno") -> JSONResponse:
        gc.collect()
        stats = tracemalloc.take_snapshot().compare_to(marks[0], group)
        top = [
            {
                "kb": round(s.size_diff / 1024, 1),
                "count": s.count_diff,
                "where": "\n".join(s.traceback.format(most_recent_first=True)),
            }
            for s in stats[:limit]
        ]
        total = round(sum(s.size_diff for s in stats) / 1024)
        current, peak = (round(n / 1024) for n in tracemalloc.get_traced_memory())
        return JSONResponse({"total_kb": total, "current_kb": current, "peak_kb": peak, "top": top})

    app.add_api_route("/bench/trace/mark", mark, methods=["POST"])
    app.add_api_route("/bench/trace/diff", diff, methods=["GET"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings().model_copy(update={"host": "127.0.0.1", "port": args.port})
    logs.configure(settings.log_format, settings.log_level)  # as `chatgql serve` does
    asyncio.run(_migrate(settings.database_url))

    counters = WriteCounters()
    counters.install()
    gates = Gates()
    provider = StampedProvider(gates)

    real_make_models = runtime.make_models

    def make_models(
        settings: Settings, db: Database
    ) -> tuple[ModelCatalog, SecretBox | None, ModelProvider]:
        catalog, box, _ = real_make_models(settings, db)
        return catalog, box, provider  # bench only: the stamped model instead of the configured

    runtime.make_models = make_models
    chosen = options.parse(os.environ.get("BENCH_OPTIONS", ""))
    options.patch_app(chosen)

    app = create_app(settings)

    async def open_gate(name: str) -> JSONResponse:
        gates.open(name)
        return JSONResponse({"opened": name})

    async def stats(connection: HTTPConnection) -> JSONResponse:
        services: Services = connection.state.services
        broker = services.broker.stats()
        return JSONResponse(
            {
                **counters.snapshot(),
                "flusher_transactions": services.engine.flusher.transactions,
                "subscriptions": broker.subscriptions,
                "queued": broker.queued,
            }
        )

    app.add_api_route("/bench/gate/{name}", open_gate, methods=["POST"])
    app.add_api_route("/bench/stats", stats, methods=["GET"])
    if os.environ.get("BENCH_TRACEMALLOC"):
        _add_tracemalloc_routes(app)
    # The same server settings as `chatgql serve` (gql_api/cli.py).
    uvicorn.run(
        with_cross_origin(app, settings),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        log_level="warning",
        log_config=None,
        access_log=False,  # chatgql's own access line instead, as `chatgql serve` runs
        **SERVER_OPTIONS,
    )


if __name__ == "__main__":
    main()
