"""broadcaster's Redis backend, made to fail loudly instead of going quiet.

The stock backend reconnects and re-subscribes on its own (losing what was published meanwhile,
unnoticed), can leave its listener deaf when a subscribe races its ready flag, leaks its listener
when connect fails, and does not wait for Redis to confirm a subscribe. This one fails instead,
and gql_api.broker rebuilds it and tells every subscriber to resynchronise.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Final

from broadcaster import Event as BroadcastEvent
from broadcaster._backends.redis import RedisBackend
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
IO_TIMEOUT: Final = 1.0  # bounds every Redis round trip, so an outage is noticed, never waited out
BACKEND_ERRORS: Final = (RedisError, OSError)  # OSError includes TimeoutError


def _client(url: str, retries: int) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url,
        retry=Retry(NoBackoff(), retries),
        socket_timeout=IO_TIMEOUT,
        socket_connect_timeout=IO_TIMEOUT,
    )


class ReliableRedisBackend(RedisBackend):
    def __init__(self, url: str) -> None:
        # No super().__init__(): its clients retry and reconnect on their own. Pub/sub gets no
        # retry at all: redis-py would re-subscribe after a drop and lose the gap unnoticed.
        self._conn, self._subscriber = _client(url, 1), _client(url, 0)
        self._pubsub = self._subscriber.pubsub()
        self._queue: asyncio.Queue[BroadcastEvent] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        self._confirmations: dict[bytes, asyncio.Future[None]] = {}

    async def connect(self) -> None:
        try:
            await self._pubsub.connect()
            await self._conn.ping()
        except BaseException:
            await self.disconnect()
            raise
        # Only now: the stock backend starts its listener first and leaks it when connect fails.
        self._listener = asyncio.create_task(self._pubsub_listener())

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait({self._listener})
        for client in (self._pubsub, self._subscriber, self._conn):
            with suppress(*BACKEND_ERRORS):
                await client.aclose()

    async def subscribe(self, channel: str) -> None:
        # Wait for Redis to confirm, so a publish right after we return reaches us. (The stock one
        # sets _ready before subscribing, which can leave its listener deaf for good.) Broadcast
        # subscribes once per channel and our channel lock serialises that: one waiter at most.
        confirmed = self._confirmations[channel.encode()] = asyncio.Future()
        try:
            await self._pubsub.subscribe(channel)
            async with asyncio.timeout(IO_TIMEOUT):
                await confirmed
        finally:
            self._confirmations.pop(channel.encode(), None)

    async def ping(self) -> None:
        await self._conn.ping()

    async def _pubsub_listener(self) -> None:
        # A blocking read with nothing subscribed simply waits: no _ready flag to race with.
        try:
            while True:
                message = await self._pubsub.get_message(timeout=None)
                if message is not None and message["type"] == "message":
                    event = BroadcastEvent(message["channel"].decode(), message["data"].decode())
                    await self._queue.put(event)
                elif message is not None and message["type"] == "subscribe":
                    waiter = self._confirmations.pop(message["channel"], None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
        except BACKEND_ERRORS as exc:
            log.warning("redis pub/sub connection lost: %r", exc)
