"""The broker: fan-out, one upstream subscription per channel, bounded queues, Redis restarts."""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from redis import asyncio as aioredis

from gql_api.broker import RESYNC, Broker, BrokerStats, BrokerUnavailable, Message, Subscription
from tests.servers import RedisServer, start_redis

Factory = Callable[..., Awaitable[Broker]]
FAST: dict[str, Any] = {"health_interval": 0.1, "reconnect_min": 0.02, "reconnect_max": 0.2}
IDLE = BrokerStats(channels=0, subscriptions=0, queued=0, tasks=1, reconnects=0)


def new_channel() -> str:
    return f"test:{uuid4().hex}"


def merge_deltas(last: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """What the stream engine does: contiguous text deltas become one."""
    if last.get("type") == new.get("type") == "delta":
        if last["offset"] + len(last["text"]) == new["offset"]:
            return {**new, "offset": last["offset"], "text": last["text"] + new["text"]}
    return None


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def read(sub: Subscription, count: int, timeout: float = 5.0) -> list[Message]:
    return [await sub.get(timeout=timeout) for _ in range(count)]


async def numsub(url: str, channel: str) -> int:
    """Subscriptions Redis itself counts on the channel (ground truth for the upstream side)."""
    client = aioredis.Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
async def make_broker() -> AsyncIterator[Factory]:
    brokers: list[Broker] = []

    async def make(url: str, **options: Any) -> Broker:
        broker = Broker(url, **{**FAST, **options})
        await broker.connect()
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        await broker.disconnect()


@pytest.fixture
async def broker(make_broker: Factory, url: str) -> Broker:
    return await make_broker(url)


@pytest.fixture
def own_redis(tmp_path: Path, redis_server: RedisServer) -> Iterator[RedisServer]:
    """A private redis-server that tests may kill and restart (the session one stays up)."""
    server = start_redis(tmp_path)
    try:
        yield server
    finally:
        server.stop()


async def test_round_trip(broker: Broker) -> None:
    channel = new_channel()
    async with broker.subscribe(channel) as sub:
        await broker.publish(channel, {"type": "hello", "n": 1, "text": "héllo ✓"})
        assert await sub.get(timeout=5) == {"type": "hello", "n": 1, "text": "héllo ✓"}
        assert broker.healthy
    assert broker.stats() == IDLE


async def test_two_subscribers_get_every_message_in_order(broker: Broker) -> None:
    channel, other = new_channel(), new_channel()
    async with broker.subscribe(channel) as first, broker.subscribe(channel) as second:
        async with broker.subscribe(other) as unrelated:
            for n in range(50):
                await broker.publish(channel, {"n": n})
            expected = [{"n": n} for n in range(50)]
            assert await read(first, 50) == expected
            received = []
            async for event in second:
                received.append(event)
                if len(received) == 50:
                    break
            assert received == expected
            with pytest.raises(TimeoutError):
                await unrelated.get(timeout=0.1)
        assert broker.stats().channels == 1
    assert broker.stats() == IDLE


@pytest.mark.parametrize("jitter", [0.0, 0.003])
async def test_concurrent_first_subscribes_share_one_upstream(
    broker: Broker, url: str, jitter: float
) -> None:
    for _ in range(10):
        channel = new_channel()

        async def enter(stack: AsyncExitStack, n: int, channel: str = channel) -> Subscription:
            await asyncio.sleep(random.uniform(0, jitter))
            sub = await stack.enter_async_context(broker.subscribe(channel))
            await broker.publish(channel, {"from": n})  # live as soon as subscribe returns
            return sub

        async with AsyncExitStack() as stack:
            subs = await asyncio.gather(*(enter(stack, n) for n in range(50)))
            stats = broker.stats()
            assert (stats.channels, stats.subscriptions, stats.tasks) == (1, 50, 2)
            if url.startswith("redis"):
                assert await numsub(url, channel) == 1
            await broker.publish(channel, {"type": "ping"})
            for n, sub in enumerate(subs):
                received = []
                while (event := await sub.get(timeout=5)) != {"type": "ping"}:
                    received.append(event)
                assert {"from": n} in received
        assert broker.stats() == IDLE


async def test_full_queue_merges_the_example_deltas(make_broker: Factory, url: str) -> None:
    broker = await make_broker(url, queue_size=1)
    channel = new_channel()
    async with (
        broker.subscribe(channel, merge=merge_deltas) as slow,
        broker.subscribe(channel) as fast,
    ):
        for event in (
            {"type": "delta", "seq": 5, "offset": 10, "text": "ab"},
            {"type": "delta", "seq": 6, "offset": 12, "text": "cd"},
        ):
            await broker.publish(channel, event)
            assert await fast.get(timeout=5) == event  # so the pump has handed it to `slow` too
        assert await slow.get(timeout=5) == {
            "type": "delta",
            "seq": 6,
            "offset": 10,
            "text": "abcd",
        }
        with pytest.raises(TimeoutError):
            await slow.get(timeout=0.05)


async def test_slow_subscriber_with_merge_loses_no_text(make_broker: Factory, url: str) -> None:
    broker = await make_broker(url, queue_size=4)
    for _ in range(5):
        channel = new_channel()
        pieces = [
            "".join(random.choices(string.ascii_letters + "éß✓", k=random.randint(1, 5)))
            for _ in range(200)
        ]
        full = "".join(pieces)

        async def consume(sub: Subscription, full: str = full) -> list[dict[str, Any]]:
            events: list[dict[str, Any]] = []
            text = ""
            while len(text) < len(full):
                event = await sub.get(timeout=5)
                assert event is not RESYNC
                assert event["offset"] == len(text)  # contiguous: nothing lost, nothing twice
                text += event["text"]
                events.append(event)
                await asyncio.sleep(random.uniform(0, 0.002))
            assert text == full
            return events

        async with broker.subscribe(channel, merge=merge_deltas) as sub:
            reader = asyncio.create_task(consume(sub))
            offset = 0
            for seq, piece in enumerate(pieces, 1):
                event = {"type": "delta", "seq": seq, "offset": offset, "text": piece}
                await broker.publish(channel, event)
                offset += len(piece)
                assert broker.stats().queued <= 4
                if random.random() < 0.1:
                    await asyncio.sleep(0)
            events = await reader
            assert events[-1]["seq"] == len(pieces)
            assert len(events) < len(pieces)  # it did fall behind and got merged deltas


async def publish_in_step(broker: Broker, channel: str, fast: Subscription, event: Any) -> None:
    """Publish, and wait until a fast subscriber has it: the pump has served everyone by then."""
    await broker.publish(channel, event)
    assert await fast.get(timeout=5) == event


async def test_slow_subscriber_without_merge_gets_resync(make_broker: Factory, url: str) -> None:
    broker = await make_broker(url, queue_size=4)
    channel = new_channel()
    async with broker.subscribe(channel) as slow, broker.subscribe(channel) as fast:
        for n in range(1, 11):
            await publish_in_step(broker, channel, fast, {"type": "delta", "n": n})
            assert broker.stats().queued == len(slow._items) <= 4
        # 1-4 fill the queue; 5 overflows: [RESYNC]; 6-8 fill it; 9: [RESYNC]; 10 follows
        assert await read(slow, 2) == [RESYNC, {"type": "delta", "n": 10}]
        with pytest.raises(TimeoutError):
            await slow.get(timeout=0.05)


async def test_merge_refusal_gives_resync(make_broker: Factory, url: str) -> None:
    broker = await make_broker(url, queue_size=2)
    channel = new_channel()
    async with (
        broker.subscribe(channel, merge=merge_deltas) as slow,
        broker.subscribe(channel) as fast,
    ):
        events = [
            {"type": "delta", "seq": 1, "offset": 0, "text": "ab"},
            {"type": "delta", "seq": 2, "offset": 2, "text": "cd"},
            {"type": "delta", "seq": 3, "offset": 9, "text": "gap"},  # not contiguous
            {"type": "delta", "seq": 4, "offset": 12, "text": "x"},
        ]
        for event in events:
            await publish_in_step(broker, channel, fast, event)
        assert await read(slow, 2) == [RESYNC, events[3]]


async def test_subscribe_churn_leaves_nothing_behind(broker: Broker, url: str) -> None:
    channels = [new_channel() for _ in range(3)]
    for n in range(1000):
        channel = random.choice(channels)
        async with broker.subscribe(channel) as sub:
            if n % 100 == 0:
                await broker.publish(channel, {"n": n})
                assert await sub.get(timeout=5) == {"n": n}
    assert broker.stats() == IDLE

    async def worker() -> None:
        for _ in range(50):
            async with broker.subscribe(random.choice(channels)):
                await asyncio.sleep(random.uniform(0, 0.002))

    await asyncio.gather(*(worker() for _ in range(20)))
    assert broker.stats() == IDLE
    for channel in channels:  # still fully usable after the churn
        async with broker.subscribe(channel) as sub:
            await broker.publish(channel, {"ok": True})
            assert await sub.get(timeout=5) == {"ok": True}
    if url.startswith("redis"):
        for channel in channels:  # Redis itself saw every UNSUBSCRIBE
            async with asyncio.timeout(5):
                while await numsub(url, channel):
                    await asyncio.sleep(0.01)


async def test_disconnect_cancels_everything(url: str) -> None:
    before = asyncio.all_tasks()
    broker = Broker(url, **FAST)
    await broker.connect()
    channel = new_channel()
    received: list[Message] = []

    async def consume() -> str:
        async with broker.subscribe(channel) as sub:
            async for event in sub:
                received.append(event)
        return "ended"

    consumers = [asyncio.create_task(consume()) for _ in range(3)]
    await eventually(lambda: broker.stats().subscriptions == 3)
    async with broker.subscribe(new_channel()):
        await broker.publish(channel, {"n": 1})
        await eventually(lambda: len(received) == 3)
        assert broker.stats().tasks == 3  # watchdog and two pumps
        await broker.disconnect()
    assert await asyncio.gather(*consumers) == ["ended"] * 3
    assert broker.stats().tasks == 0
    assert asyncio.all_tasks() == before
    await broker.disconnect()  # idempotent
    with pytest.raises(BrokerUnavailable):
        await broker.publish(channel, {"n": 2})
    with pytest.raises(BrokerUnavailable):
        async with broker.subscribe(channel):
            pass


@pytest.mark.redis
async def test_redis_restart_gives_resync_then_live_messages(own_redis: RedisServer) -> None:
    before = asyncio.all_tasks()
    broker = Broker(own_redis.url, **FAST)
    await broker.connect()
    channel = new_channel()
    try:
        async with broker.subscribe(channel) as sub:
            for round_ in range(4):
                await broker.publish(channel, {"round": round_, "before": True})
                assert await sub.get(timeout=5) == {"round": round_, "before": True}
                own_redis.stop()
                started = time.monotonic()
                with pytest.raises(BrokerUnavailable):  # before or after the watchdog noticed
                    await broker.publish(channel, {"lost": True})
                assert time.monotonic() - started < 1.0
                if round_ < 3:  # the last round restarts at once, maybe before anyone noticed
                    await eventually(lambda: not broker.healthy, timeout=2)
                    await asyncio.sleep(random.uniform(0, 0.3))
                    started = time.monotonic()
                    with pytest.raises(BrokerUnavailable):
                        await broker.publish(channel, {"lost": True})
                    assert time.monotonic() - started < 1.0
                own_redis.start()
                assert await sub.get(timeout=10) is RESYNC
                await eventually(lambda: broker.healthy)
                assert broker.stats().reconnects == round_ + 1
                assert broker.stats().channels == 1
                assert await numsub(own_redis.url, channel) == 1
                await broker.publish(channel, {"round": round_, "after": True})
                assert await sub.get(timeout=5) == {"round": round_, "after": True}
        assert broker.stats() == BrokerStats(0, 0, 0, 1, reconnects=4)
    finally:
        await broker.disconnect()
    assert asyncio.all_tasks() == before


@pytest.mark.redis
async def test_dropped_pubsub_connection_is_not_silent(own_redis: RedisServer) -> None:
    broker = Broker(own_redis.url, **FAST)
    await broker.connect()
    admin = aioredis.Redis.from_url(own_redis.url)
    channel = new_channel()
    try:
        async with broker.subscribe(channel) as sub:
            await admin.client_kill_filter(_type="pubsub")  # the server stays up
            assert await sub.get(timeout=5) is RESYNC
            await eventually(lambda: broker.healthy)
            await broker.publish(channel, {"after": True})
            assert await sub.get(timeout=5) == {"after": True}
            await admin.publish(channel, "not json")  # someone else's message: skipped
            await admin.publish(channel, '{"raw": 1}')
            assert await sub.get(timeout=5) == {"raw": 1}
    finally:
        await admin.aclose()
        await broker.disconnect()


@pytest.mark.redis
async def test_subscribe_during_outage_recovers(own_redis: RedisServer) -> None:
    broker = Broker(own_redis.url, **FAST)
    await broker.connect()
    channel = new_channel()
    try:
        own_redis.stop()
        await eventually(lambda: not broker.healthy, timeout=2)
        async with broker.subscribe(channel) as sub:
            own_redis.start()
            assert await sub.get(timeout=10) is RESYNC
            await eventually(lambda: broker.healthy)
            await broker.publish(channel, {"after": True})
            assert await sub.get(timeout=5) == {"after": True}
    finally:
        await broker.disconnect()


@pytest.mark.redis
async def test_connect_to_a_dead_redis_fails_fast(own_redis: RedisServer) -> None:
    own_redis.stop()
    broker = Broker(own_redis.url, **FAST)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable):
        await broker.connect()
    assert time.monotonic() - started < 1.5
    assert not broker.healthy and broker.stats().tasks == 0
    await broker.disconnect()


@pytest.mark.redis
async def test_disconnect_during_outage_leaves_nothing(own_redis: RedisServer) -> None:
    before = asyncio.all_tasks()
    broker = Broker(own_redis.url, **FAST)
    await broker.connect()
    async with broker.subscribe(new_channel()) as sub:
        own_redis.stop()
        await eventually(lambda: not broker.healthy, timeout=2)
        await asyncio.sleep(random.uniform(0, 0.3))  # somewhere in the reconnect loop
        started = time.monotonic()
        await broker.disconnect()
        assert time.monotonic() - started < 1.5
        with pytest.raises(StopAsyncIteration):
            await anext(sub)
    assert broker.stats().tasks == 0
    assert asyncio.all_tasks() == before
