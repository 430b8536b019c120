"""Test helpers for the live feeds: a subscription collecting its events in the background."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.support import ApiServer


class Feed:
    """Events of one subscription as they arrive; one with errors is kept as
    `{"__typename": "errors", "errors": [...]}` (and ends the subscription)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def errors(self) -> list[Any]:
        return [e["errors"] for e in self.events if e["__typename"] == "errors"]

    async def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The first `count` events; errors fail at once."""
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                assert not self.errors(), self.errors()
                await asyncio.sleep(0.01)
        return self.events[:count]


@asynccontextmanager
async def subscribed(
    api: ApiServer, query: str, variables: dict[str, Any] | None = None, *, user: str = "alice"
) -> AsyncIterator[Feed]:
    """Subscribe over a websocket; entered once the server holds the broker subscription (or
    the subscription failed)."""
    feed = Feed()
    subscriptions = api.services.broker.stats().subscriptions

    async def run() -> None:
        async with api.ws(user) as session:
            request = GraphQLRequest(query, variable_values=variables or {})
            try:
                async for event in session.subscribe(request):
                    feed.events.append(next(iter(event.values())))
            except TransportQueryError as exc:
                feed.events.append({"__typename": "errors", "errors": exc.errors})

    task = asyncio.create_task(run())
    async with asyncio.timeout(5):
        while api.services.broker.stats().subscriptions <= subscriptions and not task.done():
            await asyncio.sleep(0.005)
    try:
        yield feed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
