"""Races on purpose: late joins, random offsets, refreshes, stops mid-flush, slow readers, load."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest
from sqlalchemy import select

from gql_api import jobs
from gql_api.streams.snapshots import Snapshot
from gql_api.streams.watch import watch
from models.messages import Message
from models.streams import Stream, StreamChunk
from tests.conftest import make_settings, unflushed_settings
from tests.streaming import EVENTS, new_conversation, rebuild, send, stored_answer, wait_finished
from tests.support import ApiServer, start_api, subscribe_all

pytestmark = pytest.mark.slow


async def stored_text(api: ApiServer, message_id: str) -> str:
    async with api.services.db.read() as session:
        return (await session.get(Message, message_id)).content  # type: ignore[union-attr]


async def late_subscriber(api: ApiServer, stream_id: str, message_id: str, seed: int) -> str:
    """Join at a random moment with a random offset the client could really hold."""
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 0.4))
    known = await stored_text(api, message_id)
    offset = rng.randint(0, len(known))
    async with api.ws() as session:
        events = await subscribe_all(session, EVENTS, {"s": stream_id, "m": None, "o": offset})
    text, end = rebuild(events, offset)
    assert end["status"] == "COMPLETED"
    return known[:offset] + text


async def refreshing_subscriber(api: ApiServer, stream_id: str, seed: int) -> str:
    """Watch for a while, drop the connection (a refresh), resume from the offset reached."""
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 0.2))
    have = ""
    async with api.ws() as session:
        request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "m": None, "o": 0})
        stop_after = rng.randint(1, 40)
        seen: list[dict[str, Any]] = []
        async for event in session.subscribe(request):
            seen.append(event)
            if event["streamEvents"]["__typename"] == "StreamEnd" or len(seen) >= stop_after:
                break
    for item in (e["streamEvents"] for e in seen):
        have += item.get("text", "") if item["__typename"] != "StreamEnd" else ""
    async with api.ws() as session:
        events = await subscribe_all(session, EVENTS, {"s": stream_id, "m": None, "o": len(have)})
    text, _ = rebuild(events, len(have))
    return have + text


async def test_many_late_subscribers_rebuild_the_exact_text(api: ApiServer) -> None:
    """200 websocket subscriptions joining at random moments and offsets, 5 streams at a time."""
    for round_ in range(4):
        conversations = [await new_conversation(api, title=f"r{round_}-{i}") for i in range(5)]
        sent = [await send(api, c, "race [demo:words=300]") for c in conversations]
        tasks = []
        for i, s in enumerate(sent):
            ids = (s["stream"]["id"], s["assistantMessage"]["id"])
            for j in range(6):
                tasks.append(late_subscriber(api, *ids, seed=round_ * 1000 + i * 10 + j))
            for j in range(4):
                tasks.append(refreshing_subscriber(api, ids[0], seed=round_ * 1000 + i * 10 + j))
        results = await asyncio.gather(*tasks)
        for i, s in enumerate(sent):
            final = await stored_text(api, s["assistantMessage"]["id"])
            assert final
            for text in results[i * 10 : (i + 1) * 10]:
                assert text == final


@pytest.mark.parametrize("source", ["database", "memory"])
async def test_resume_in_process_thousands_of_random_joins(api: ApiServer, source: str) -> None:
    """The resume logic alone, without websockets: many joins timed across flush boundaries,
    with the first snapshot read from the database (another process generates the stream) or
    taken from the generation (this process does, up to and through its end)."""
    db, broker = api.services.db, api.services.broker
    live = api.services.engine if source == "memory" else None

    async def join(stream_id: str, message_id: str, rng: random.Random) -> str:
        await asyncio.sleep(rng.uniform(0, 0.3))
        known = await stored_text(api, message_id)
        offset = rng.randint(0, len(known))
        text, position = "", offset
        async for event in watch(db, broker, stream_id, offset, live=live):
            if isinstance(event, Snapshot):
                text, position = event.text, offset + len(event.text)
            elif event["type"] == "delta":
                assert event["offset"] == position, "gap or duplicate"
                text += event["text"]
                position += len(event["text"])
        return known[:offset] + text

    for round_ in range(5):
        conversation = await new_conversation(api, title=f"in-process {round_}")
        sent = await send(api, conversation, "race [demo:words=400]")
        rng = random.Random(round_)
        ids = (sent["stream"]["id"], sent["assistantMessage"]["id"])
        results = await asyncio.gather(
            *(join(*ids, random.Random(rng.random())) for _ in range(200))
        )
        final = await stored_text(api, ids[1])
        assert all(r == final for r in results)


async def test_stop_at_random_moments_keeps_text_consistent(api: ApiServer) -> None:
    rng = random.Random(7)
    for attempt in range(15):
        conversation = await new_conversation(api, title=f"stop {attempt}")
        sent = await send(api, conversation, "stop me [demo:long]")
        stream_id, message_id = sent["stream"]["id"], sent["assistantMessage"]["id"]
        watcher = asyncio.create_task(
            subscribe_once(api, stream_id, offset=0, delay=rng.uniform(0, 0.05))
        )
        await asyncio.sleep(rng.uniform(0, 0.15))
        stopped = await api.gql(
            "mutation($s: ID!) { stopStream(id: $s) { status length } }", {"s": stream_id}
        )
        assert stopped["stopStream"]["status"] in ("CANCELLED", "COMPLETED")
        text, end = rebuild(await watcher)
        final = await stored_text(api, message_id)
        assert text == final
        assert end["length"] == len(final) == stopped["stopStream"]["length"]
        async with api.services.db.read() as session:
            chunks = list(
                await session.scalars(
                    select(StreamChunk)
                    .where(StreamChunk.stream_id == stream_id)
                    .order_by(StreamChunk.seq)
                )
            )
        # Chunks tile the text exactly: no loss, no overlap, whatever moment the stop hit.
        position = 0
        for chunk in chunks:
            assert chunk.offset == position
            position += len(chunk.text)
        assert "".join(c.text for c in chunks) == final


async def subscribe_once(
    api: ApiServer, stream_id: str, *, offset: int, delay: float
) -> list[dict[str, Any]]:
    await asyncio.sleep(delay)
    async with api.ws() as session:
        return await subscribe_all(session, EVENTS, {"s": stream_id, "m": None, "o": offset})


async def test_slow_subscriber_gets_merged_deltas_with_bounded_memory(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, subscription_queue_size=4)
    async with start_api(settings) as api:
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "flood [demo:words=1500]")
        stream_id = sent["stream"]["id"]
        events = watch(api.services.db, api.services.broker, stream_id, 0)
        first = await anext(events)
        assert isinstance(first, Snapshot)
        text = first.text
        largest = 0
        # Read nothing while the answer is generated: the queue must stay bounded.
        while api.services.engine.is_running(stream_id):
            largest = max(largest, api.services.broker.stats().queued)
            await asyncio.sleep(0.005)
        async for event in events:
            if event["type"] == "delta":
                text += event["text"]
        final = await stored_text(api, sent["assistantMessage"]["id"])
        assert text == final
        assert largest <= 4


async def test_fifty_conversations_stream_at_once(api: ApiServer) -> None:
    conversations = [await new_conversation(api, title=f"load {i}") for i in range(50)]
    sent = await asyncio.gather(*(send(api, c, "hello [demo:words=200]") for c in conversations))
    finals = await asyncio.gather(*(wait_finished(api, s["stream"]["id"]) for s in sent))
    assert [f["status"] for f in finals] == ["COMPLETED"] * 50, finals
    for s in sent[:5]:
        answer = await stored_answer(api, s["assistantMessage"]["id"])
        assert len(answer["content"].split()) == 200


async def test_stale_stream_is_interrupted_by_a_live_process(
    tmp_path: Path, database_url: str
) -> None:
    """A stream whose process died (no heartbeat) ends interrupted when continuing is off;
    watchers get the end."""
    settings = make_settings(tmp_path, database_url, auto_continue=False)
    async with start_api(settings) as api:
        await _interrupted_by_a_live_process(api)


async def _interrupted_by_a_live_process(api: ApiServer) -> None:
    conversation = await new_conversation(api)
    sent = await send(api, conversation, "short [demo:words=20]")
    await wait_finished(api, sent["stream"]["id"])
    # A second answer owned by a process that no longer exists, with some text saved.
    retry = "mutation($m: ID!) { retryMessage(id: $m) { stream { id } } }"
    engine = api.services.engine
    original_launch = engine.launch
    engine.launch = lambda **_: None  # type: ignore[method-assign]
    try:
        stream_id = (await api.gql(retry, {"m": sent["assistantMessage"]["id"]}))["retryMessage"][
            "stream"
        ]["id"]
    finally:
        engine.launch = original_launch  # type: ignore[method-assign]
    async with api.services.db.write() as session:
        stream = await session.get(Stream, stream_id)
        assert stream is not None
        stream.node_id = "dead-node"  # no row in `nodes`: nothing proves it alive
        stream.status = "streaming"
        message = await session.get(Message, stream.message_id)
        assert message is not None
        message.content = "partial answer"
        stream.length = len("partial answer")
        retried_answer = message.id  # the retry's new sibling answer
    watcher = asyncio.create_task(subscribe_once(api, stream_id, offset=3, delay=0))
    text, end = rebuild(await asyncio.wait_for(watcher, 20), 3)
    assert text == "tial answer"
    assert end["status"] == "INTERRUPTED" and end["errorCode"] == "NODE_LOST"
    answer = await stored_answer(api, retried_answer)
    assert answer["status"] == "INTERRUPTED" and answer["content"] == "partial answer"
    # Only one process wins the conditional update: sweeping again changes nothing.
    swept = await jobs.sweep_orphans(
        api.services.db, api.services.broker, me="another-node", stale_after=0
    )
    assert swept == []
    again = (await api.gql(retry, {"m": sent["assistantMessage"]["id"]}))["retryMessage"]
    assert (await wait_finished(api, again["stream"]["id"]))["status"] == "COMPLETED"


async def test_cleanup_deletes_chunks_but_the_final_snapshot_remains(api: ApiServer) -> None:
    conversation = await new_conversation(api)
    sent = await send(api, conversation, "keep me [demo:words=100]")
    await wait_finished(api, sent["stream"]["id"])
    final = await stored_text(api, sent["assistantMessage"]["id"])
    # Within the retention period nothing goes.
    assert await jobs.delete_old_chunks(api.services.db, retention=3600) == 0
    deleted = await jobs.delete_old_chunks(api.services.db, retention=0)
    assert deleted > 0
    async with api.services.db.read() as session:
        left = list(await session.scalars(select(StreamChunk.seq)))
    assert left == []
    events = await subscribe_once(api, sent["stream"]["id"], offset=0, delay=0)
    assert rebuild(events)[0] == final


async def test_tool_event_published_before_subscribe_and_after_snapshot_is_not_lost(
    api: ApiServer,
) -> None:
    """The exact window: the owner published a tool call but had not flushed it yet when the
    subscriber read its snapshot, and the subscriber joined the channel after the publish."""
    from gql_api import feeds
    from gql_api.streams import events as stream_events

    conversation = await new_conversation(api)
    engine = api.services.engine
    original_launch = engine.launch
    engine.launch = lambda **_: None  # type: ignore[method-assign]
    try:
        sent = await send(api, conversation, "no generation here")
    finally:
        engine.launch = original_launch  # type: ignore[method-assign]
    stream_id, message_id = sent["stream"]["id"], sent["assistantMessage"]["id"]
    part = {"type": "tool_call", "id": "t1", "name": "calculator", "input": {}, "offset": 0}
    # Published with nobody listening, not yet in the database.
    await api.services.broker.publish(
        feeds.stream_channel(stream_id), stream_events.tool(0, 0, part)
    )
    watcher = watch(api.services.db, api.services.broker, stream_id, 0)
    snapshot = await anext(watcher)
    assert isinstance(snapshot, Snapshot) and snapshot.parts == []
    done = {**part, "result": "ok"}
    async with api.services.db.write() as session:
        message = await session.get(Message, message_id)
        stream = await session.get(Stream, stream_id)
        assert message is not None and stream is not None
        message.content, message.parts, message.status = "done", [done], "complete"
        stream.status, stream.length, stream.last_seq = "completed", 4, 1
    end = stream_events.end(status="completed", seq=1, length=4)
    await api.services.broker.publish(feeds.stream_channel(stream_id), end)
    rest = [event async for event in watcher]
    assert [e["type"] for e in rest] == ["delta", "tool", "end"]  # type: ignore[index]
    assert rest[1]["part"] == done  # type: ignore[index]
    assert rest[0]["text"] == "done"  # type: ignore[index]


async def test_a_gap_is_filled_by_asking_the_owner_to_flush(
    tmp_path: Path, database_url: str
) -> None:
    """With flushes far apart, a subscriber whose snapshot lacks the text already streamed
    asks the owner to write now, and continues while the answer is still being generated."""
    async with start_api(unflushed_settings(tmp_path, database_url)) as api:
        engine = api.services.engine
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "long [demo:words=1500]")
        stream_id = sent["stream"]["id"]
        async with asyncio.timeout(10):
            while engine._running[stream_id].buf.seq < 50:
                await asyncio.sleep(0.005)
        events = watch(api.services.db, api.services.broker, stream_id, 0)
        snapshot = await anext(events)
        assert isinstance(snapshot, Snapshot) and snapshot.text == ""  # nothing saved yet
        first = await anext(events)
        assert first["type"] == "delta" and first["offset"] == 0  # type: ignore[index]
        assert engine.is_running(stream_id), "the gap was only filled when the answer ended"
        text = first["text"]  # type: ignore[index]
        async for event in events:
            if event["type"] == "delta":  # type: ignore[index]
                text += event["text"]  # type: ignore[index]
        assert text == await stored_text(api, sent["assistantMessage"]["id"])
