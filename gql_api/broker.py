"""Live events between processes: broadcaster channels, fanned out to bounded local queues.

broadcaster 0.3 stays the channel layer. This module adds what it lacks: one upstream subscription
per channel, bounded queues (merge or RESYNC, never a silent loss), JSON events, and a watchdog that
rebuilds the backend after a Redis drop and tells every subscriber to resynchronise.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import urlparse

from broadcaster import Broadcast
from broadcaster import Event as BroadcastEvent
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend

from gql_api.redis_backend import BACKEND_ERRORS, IO_TIMEOUT, ReliableRedisBackend

log = logging.getLogger(__name__)


class Resync(enum.Enum):
    RESYNC = "RESYNC"


# RESYNC: events may have been missed here (a full queue that could not merge, or a backend
# outage). Whatever was queued before it is dropped; re-read state, then go on with what follows.
RESYNC: Final = Resync.RESYNC
Event: TypeAlias = dict[str, Any]  # shared by every subscriber of the channel: treat as read-only
Message: TypeAlias = Event | Literal[Resync.RESYNC]
# Called only when a subscription's queue is full, with its last queued event and the new one:
# return one event standing for both (a new dict), or None to fall back to RESYNC.
Merge: TypeAlias = Callable[[Event, Event], Event | None]
# Takes an event inline, in the channel's fan-out loop, instead of queueing it: True if it did.
# Must not block; see Subscription.express.
Express: TypeAlias = Callable[[Event], bool]


class BrokerUnavailable(Exception):
    """The backend is down or the broker is not connected; nothing was sent."""


class SubscriptionClosed(Exception):
    """The subscription was left or the broker disconnected."""


@dataclass(frozen=True)
class BrokerStats:
    channels: int  # broadcaster-level subscriptions (one per channel with local subscribers)
    subscriptions: int
    queued: int
    tasks: int  # pump and watchdog tasks alive
    reconnects: int
    # events handed to local subscribers since start; a running total, not state left behind
    delivered: int = field(default=0, compare=False)


class Subscription:
    """One consumer's events on one channel: dicts, or RESYNC when some may have been missed.

    `express`, when set, is offered each event while the consumer is parked on an empty queue,
    that is, when it has finished with everything it took before. Delivering there, in the
    channel's one fan-out loop, saves a task switch and the consumer's own per-event work for
    every subscriber; order holds because an event it declines is queued, and from then on
    everything queues until the consumer has caught up and parks again.
    """

    # Thousands of these live as long as their subscribers: slots, and a list for the queue. It
    # is nearly always empty (at most queue_size, and lagging deltas merge), and an empty deque
    # is ten times the size of an empty list.
    __slots__ = (
        "channel",
        "express",
        "_items",
        "_queue_size",
        "_merge",
        "_waiter",
        "_closed",
        "_parked",
    )

    def __init__(self, channel: str, queue_size: int, merge: Merge | None) -> None:
        self.channel = channel
        self.express: Express | None = None
        self._items: list[Message] = []
        self._queue_size = queue_size
        self._merge = merge
        self._waiter: asyncio.Future[None] | None = None  # only while the consumer waits
        self._closed = False
        self._parked = False  # waiting in get() with nothing queued

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    async def get(self, timeout: float | None = None) -> Message:
        """The next item; TimeoutError after `timeout` seconds, SubscriptionClosed once closed."""
        if timeout is None:
            await self._wait()
        else:
            async with asyncio.timeout(timeout):
                await self._wait()
        if self._closed:
            raise SubscriptionClosed(self.channel)
        item = self._items.pop(0)
        # A consumer that fell behind takes its backlog as one event where it merges: it
        # catches up instead of paying per piece (and per websocket frame) while it lags.
        while self._merge is not None and item is not RESYNC and self._items:
            following = self._items[0]
            if following is RESYNC:
                break
            try:
                merged = self._merge(item, following)
            except Exception:
                log.exception("merge failed on %s", self.channel)
                break
            if merged is None:
                break
            item = merged
            del self._items[0]
        return item

    async def _wait(self) -> None:
        # A future made on demand rather than an asyncio.Event: thousands of idle subscribers
        # each keep one, and an Event with its waiter deque is the larger object.
        while not self._items and not self._closed:
            self._waiter = asyncio.get_running_loop().create_future()
            self._parked = True
            try:
                await self._waiter
            finally:
                self._parked = False
                self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _offer(self, event: Event) -> None:
        express = self.express
        # Parked with nothing queued: everything it took is done, and nothing waits to go first
        # (a declined event stays queued until the consumer, no longer parked, has taken it).
        if express is not None and self._parked and not self._items and not self._closed:
            try:
                if express(event):
                    return
            except Exception:
                log.exception("express delivery failed on %s; queueing", self.channel)
        self._put(event)

    def _put(self, event: Event) -> None:
        if self._closed:
            return
        if len(self._items) < self._queue_size:
            self._items.append(event)
        else:
            last, merged = self._items[-1], None
            if self._merge is not None and last is not RESYNC:
                try:
                    merged = self._merge(last, event)
                except Exception:
                    log.exception("merge failed on %s; sending RESYNC", self.channel)
            if merged is None:
                return self._resync()
            self._items[-1] = merged
        self._wake()

    def _resync(self) -> None:
        # what is queued is superseded: the consumer re-reads state after RESYNC anyway
        self._items.clear()
        self._items.append(RESYNC)
        self._wake()

    def _close(self) -> None:
        self._closed = True
        self.express = None
        self._items.clear()
        self._wake()


@dataclass(eq=False)
class _Upstream:
    backend: BroadcastBackend
    broadcast: Broadcast

    def listeners(self) -> list[asyncio.Task[None]]:
        tasks = [self.broadcast._listener_task]
        if isinstance(self.backend, ReliableRedisBackend) and self.backend._listener is not None:
            tasks.append(self.backend._listener)
        return tasks


@dataclass(eq=False)
class _Channel:
    name: str
    subs: set[Subscription] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pump: asyncio.Task[None] | None = None
    upstream: _Upstream | None = None
    ready: asyncio.Future[None] | None = None  # the pump's upstream subscribe is done


def _decode(event: BroadcastEvent) -> Event | None:
    with suppress(TypeError, ValueError):
        data = json.loads(event.message)
        if isinstance(data, dict):
            return data
    log.warning("dropping a message that is not a JSON object on %s", event.channel)
    return None


class Broker:
    """Publish JSON events and subscribe to channels; survives backend restarts (see RESYNC)."""

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 256,
        health_interval: float = 1.0,
        reconnect_min: float = 0.05,
        reconnect_max: float = 5.0,
    ) -> None:
        if urlparse(url).scheme not in ("memory", "redis", "rediss"):
            raise ValueError("broker url must be memory:// or redis://host:port/db")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._url = url
        self._queue_size = queue_size
        self._health_interval = health_interval
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._upstream: _Upstream | None = None
        self._channels: dict[str, _Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._dirty = False  # the upstream lost a listener or a pump: rebuild it
        self._healthy = False
        self._reconnects = 0
        self._delivered = 0

    @property
    def healthy(self) -> bool:
        return self._healthy and self._upstream is not None

    async def connect(self) -> None:
        """Connect, or raise BrokerUnavailable if the backend cannot be reached now."""
        if self._watchdog is not None:
            raise RuntimeError("broker already connected")
        try:
            self._upstream = await self._open()
        except BACKEND_ERRORS as exc:
            raise BrokerUnavailable(f"cannot reach the broker backend: {exc!r}") from exc
        self._healthy = True
        self._watchdog = self._spawn(self._watch())

    async def disconnect(self) -> None:
        watchdog, self._watchdog, self._healthy = self._watchdog, None, False
        if watchdog is not None:
            watchdog.cancel()
        for ch in self._channels.values():
            ch.pump = ch.upstream = None
            for sub in ch.subs:
                sub._close()
        self._channels.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        upstream, self._upstream = self._upstream, None
        if upstream is not None:
            await self._close(upstream)

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        upstream = self._upstream
        if upstream is None or not self._healthy:
            raise BrokerUnavailable("the broker backend is down")
        message = json.dumps(event, separators=(",", ":"))
        try:
            async with asyncio.timeout(IO_TIMEOUT):
                await upstream.broadcast.publish(channel, message)
        except BACKEND_ERRORS as exc:
            self._wake.set()  # let the watchdog look now rather than at its next tick
            raise BrokerUnavailable(f"publish on {channel!r} failed: {exc!r}") from exc

    def subscribe(
        self, channel: str, *, merge: Merge | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """Live from return on; if the backend is down, the first item will be RESYNC."""
        return self._subscription(channel, merge)

    def subscribers(self, channel: str) -> int:
        """Subscriptions of this process to `channel`."""
        ch = self._channels.get(channel)
        return len(ch.subs) if ch is not None else 0

    def stats(self) -> BrokerStats:
        upstream = self._upstream
        subscribers = upstream.broadcast._subscribers.values() if upstream else ()
        subs = [sub for ch in self._channels.values() for sub in ch.subs]
        return BrokerStats(
            channels=sum(len(queues) for queues in subscribers),
            subscriptions=len(subs),
            queued=sum(len(sub._items) for sub in subs),
            tasks=sum(not task.done() for task in self._tasks),
            reconnects=self._reconnects,
            delivered=self._delivered,
        )

    def subscriber_counts(self) -> dict[str, int]:
        """Live subscriptions by channel kind: the part of a channel's name before its ':'."""
        counts: dict[str, int] = {}
        for name, ch in self._channels.items():
            kind = name.partition(":")[0]
            counts[kind] = counts.get(kind, 0) + len(ch.subs)
        return counts

    @asynccontextmanager
    async def _subscription(self, channel: str, merge: Merge | None) -> AsyncIterator[Subscription]:
        if self._watchdog is None:
            raise BrokerUnavailable("broker is not connected")
        # No await between lookup and add: whoever holds `ch` is in ch.subs, so none is orphaned.
        ch = self._channels.setdefault(channel, _Channel(channel))
        sub = Subscription(channel, self._queue_size, merge)
        ch.subs.add(sub)
        try:
            async with ch.lock:
                with suppress(BrokerUnavailable):  # the rebuild will subscribe it and send RESYNC
                    await self._ensure_pump(ch)
            yield sub
        finally:
            sub._close()
            ch.subs.discard(sub)
            if not ch.subs:
                async with ch.lock:
                    if not ch.subs:
                        await self._stop_pump(ch)
                    if not ch.subs and self._channels.get(channel) is ch:
                        del self._channels[channel]

    async def _ensure_pump(self, ch: _Channel) -> None:
        """Start the channel's upstream subscription and pump if needed; caller holds ch.lock."""
        upstream = self._upstream
        if upstream is None or (ch.upstream is upstream and ch.pump and not ch.pump.done()):
            return
        await self._stop_pump(ch)
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # mark its exception retrieved even if our waiter is cancelled
        ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        ch.pump, ch.upstream = self._spawn(self._pump(ch, upstream, ready)), upstream
        ch.ready = ready
        # Shielded: a subscriber cancelled while waiting must not cancel `ready` under the pump,
        # whose set_result would then fail and count as a backend loss (a rebuild for all).
        await asyncio.shield(ready)

    async def _pump(self, ch: _Channel, upstream: _Upstream, ready: asyncio.Future[None]) -> None:
        """Own the channel's one broadcaster subscription; decode each message once, fan it out."""
        try:
            async with upstream.broadcast.subscribe(ch.name) as source:
                ready.set_result(None)
                while True:
                    event = _decode(await source.get())
                    if event is not None:
                        self._delivered += len(ch.subs)
                        for sub in ch.subs:
                            sub._offer(event)
        except Exception as exc:  # subscribe or unsubscribe failed: the backend is in trouble
            if not ready.done():
                ready.set_exception(BrokerUnavailable(f"cannot subscribe to {ch.name!r}: {exc!r}"))
            self._lost(upstream)
        finally:
            if not ready.done():
                ready.set_exception(BrokerUnavailable(f"{ch.name!r} was torn down"))

    async def _stop_pump(self, ch: _Channel) -> None:
        pump, ready = ch.pump, ch.ready
        ch.pump = ch.upstream = ch.ready = None
        if pump is not None:
            if ready is not None:
                # Let a subscribe in flight end first (bounded by IO_TIMEOUT). Cancelled half
                # way, redis-py drops the pub/sub connection and broadcaster raises KeyError:
                # the whole upstream would be rebuilt, with a RESYNC for every subscriber.
                await asyncio.wait({ready})
            pump.cancel()
            await asyncio.wait({pump})

    async def _watch(self) -> None:
        while True:
            with suppress(TimeoutError):
                async with asyncio.timeout(self._health_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if self._upstream is None or self._dirty or not await self._alive(self._upstream):
                    await self._rebuild()
            except Exception:  # a bug here must not end reconnects for the life of the process
                log.exception("broker watchdog failed")

    async def _alive(self, upstream: _Upstream) -> bool:
        try:
            async with asyncio.timeout(IO_TIMEOUT):
                if isinstance(upstream.backend, ReliableRedisBackend):
                    await upstream.backend.ping()
        except BACKEND_ERRORS:
            return False
        return not any(task.done() for task in upstream.listeners())

    async def _rebuild(self) -> None:
        """Replace the upstream (with backoff), re-subscribe live channels, RESYNC everyone."""
        self._healthy = False
        log.warning("broker backend lost; reconnecting")
        delay = self._reconnect_min
        while True:
            stale, self._upstream, self._dirty = self._upstream, None, False
            for ch in list(self._channels.values()):
                async with ch.lock:
                    await self._stop_pump(ch)
            if stale is not None:
                await self._close(stale)
            try:
                self._upstream = await self._open()
                for ch in list(self._channels.values()):
                    async with ch.lock:
                        if ch.subs:
                            await self._ensure_pump(ch)
                break
            except (*BACKEND_ERRORS, BrokerUnavailable) as exc:
                log.info("broker reconnect failed (%r); next try in %.2fs", exc, delay)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._reconnect_max)
        self._healthy = True
        self._reconnects += 1
        for ch in self._channels.values():
            for sub in ch.subs:
                sub._resync()
        log.warning("broker backend reconnected")

    async def _open(self) -> _Upstream:
        scheme = urlparse(self._url).scheme
        backend = (
            MemoryBackend(self._url) if scheme == "memory" else ReliableRedisBackend(self._url)
        )
        broadcast = Broadcast(backend=backend)
        await broadcast.connect()  # on failure our Redis backend has already closed itself
        upstream = _Upstream(backend, broadcast)
        for task in upstream.listeners():
            task.add_done_callback(functools.partial(self._lost, upstream))
        return upstream

    async def _close(self, upstream: _Upstream) -> None:
        listener = upstream.broadcast._listener_task
        try:
            await upstream.broadcast.disconnect()
        except Exception:  # its listener's error, re-raised before it closed the backend
            await upstream.backend.disconnect()
        await asyncio.wait({listener})  # Broadcast.disconnect cancels it without waiting

    def _lost(self, upstream: _Upstream, *_: object) -> None:
        if upstream is self._upstream:
            self._dirty = True
            self._wake.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
