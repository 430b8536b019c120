"""The GraphQL floor of one delivery: Strawberry executing the benchmark's subscription document
for one StreamDelta, JSON included, in a worker process with no network and no database.

Whatever else the server does, each subscriber of each delta costs at least this much CPU.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection
from typing import Any

from bench.clients import SUBSCRIPTION
from bench.common import Workers

EVENTS = 20_000


async def _cost() -> float:
    from gql_api.settings import Settings
    from gql_api.streams import events
    from resolvers.schema import build_schema
    from resolvers.streams import per_event_executor, to_event

    schema = build_schema(Settings(env="test", jwt_secret="x" * 40, anthropic_api_key=None))
    schema.execution_context_class = per_event_executor(schema.execution_context_class)

    async def source(*_: Any, **__: Any) -> AsyncIterator[Any]:
        for seq in range(1, EVENTS + 1):
            yield to_event(events.delta(seq, seq * 32, f"t{seq}:{time.time_ns()} filler text."))

    # The real resolver checks the caller and reads the database; here the events are given.
    subscription = schema._schema.subscription_type
    assert subscription is not None
    subscription.fields["streamEvents"].subscribe = source
    results = await schema.subscribe(SUBSCRIPTION, variable_values={"s": "s1"})
    assert not isinstance(results, Exception) and hasattr(results, "__aiter__")
    started, count = time.perf_counter(), 0
    async for result in results:
        message = {"id": "1", "type": "next", "payload": {"data": result.data}}
        json.dumps(message, separators=(",", ":"))
        count += 1
    return (time.perf_counter() - started) / count * 1e6


def floor_worker(_job: None, conn: Connection) -> None:
    conn.send(("result", asyncio.run(_cost())))


def graphql_us_per_event() -> float:
    with Workers(floor_worker, [None]) as workers:
        return round(float(workers.collect("result", 120)[0]), 1)
