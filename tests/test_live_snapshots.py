"""Joining a stream this process generates: the snapshot comes from the generation itself.

It holds text the database does not have yet (flushes here are a minute apart), so a join needs
no flush and no gap fill; ownership and the single terminal event hold as with the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from gql_api import jobs
from gql_api.streams import engine as engine_module
from gql_api.streams.snapshots import Snapshot, Transcript
from gql_api.streams.watch import watch
from models.messages import Message
from tests.conftest import unflushed_settings
from tests.streaming import EVENTS, new_conversation, send
from tests.support import ApiServer, start_api


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiServer]:
    """Nothing is flushed while these tests look: what a join sees came from memory."""
    async with start_api(unflushed_settings(tmp_path, database_url)) as api:
        yield api


async def generating(api: ApiServer, *, tokens: int = 50) -> tuple[str, str]:
    """A long answer under way with at least `tokens` deltas out: (stream id, message id)."""
    sent = await send(api, await new_conversation(api), "long [demo:words=3000]")
    stream_id = sent["stream"]["id"]
    async with asyncio.timeout(10):
        while api.services.engine._running[stream_id].buf.seq < tokens:
            await asyncio.sleep(0.005)
    return stream_id, sent["assistantMessage"]["id"]


async def saved_text(api: ApiServer, message_id: str) -> str:
    async with api.services.db.read() as session:
        message = await session.get(Message, message_id)
    assert message is not None
    return message.content


async def test_a_join_gets_the_text_generated_so_far_and_continues_from_it(
    api: ApiServer,
) -> None:
    stream_id, message_id = await generating(api)
    assert await saved_text(api, message_id) == ""  # nothing flushed: the database has no text
    flushes = api.services.engine.flusher.transactions
    events: list[dict[str, Any]] = []
    async with api.ws() as session:
        request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "m": None, "o": 0})
        async for event in session.subscribe(request):
            events.append(event["streamEvents"])
            if len(events) == 3:
                break
    snapshot, first, second = events
    assert snapshot["__typename"] == "StreamSnapshot" and snapshot["status"] == "STREAMING"
    assert len(snapshot["text"]) == snapshot["length"] > 0 and snapshot["seq"] >= 50
    # Live deltas follow on from it, with nothing missing and nothing written to get there.
    assert first["__typename"] == second["__typename"] == "StreamDelta"
    assert first["offset"] == snapshot["length"]
    assert second["offset"] == first["offset"] + len(first["text"])
    assert api.services.engine.flusher.transactions == flushes
    assert api.services.engine.is_running(stream_id)


async def test_a_join_from_an_offset_gets_only_the_rest(api: ApiServer) -> None:
    stream_id, _ = await generating(api)
    engine = api.services.engine
    whole = engine.live_snapshot(stream_id, 0)
    assert whole is not None
    rest = engine.live_snapshot(stream_id, 10)
    assert rest is not None and rest.offset == 10
    assert whole.text[10:].startswith(rest.text) and rest.length == 10 + len(rest.text)
    beyond = engine.live_snapshot(stream_id, 10**9)
    assert beyond is not None and beyond.text == "" and beyond.offset == 10**9
    assert whole.length <= beyond.length < 10**9  # the answer's own length, still growing


async def test_another_user_cannot_join_a_live_stream(api: ApiServer) -> None:
    stream_id, _ = await generating(api)
    assert api.services.engine.live_snapshot(stream_id, 0, owner_id="someone-else") is None
    request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "m": None, "o": 0})
    async with api.ws("bob") as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(request):
                pytest.fail("bob received an event of alice's answer")
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_generation_that_learnt_its_rows_are_gone_gives_no_snapshot(
    api: ApiServer,
) -> None:
    stream_id, _ = await generating(api)
    engine = api.services.engine
    assert engine.live_snapshot(stream_id, 0) is not None
    engine._running[stream_id].buf.gone = True
    assert engine.live_snapshot(stream_id, 0) is None


async def test_a_join_while_the_answer_finishes_gets_its_final_state(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its end is published before the generation leaves the engine: a snapshot from memory
    in that window would say STREAMING and wait for an end that already went by."""
    entered, release = asyncio.Event(), asyncio.Event()
    announce = engine_module.announce_finished

    async def held(*args: Any) -> None:
        entered.set()
        await release.wait()
        await announce(*args)

    monkeypatch.setattr(engine_module, "announce_finished", held)
    sent = await send(api, await new_conversation(api), "short [demo:words=20]")
    stream_id = sent["stream"]["id"]
    engine = api.services.engine
    await asyncio.wait_for(entered.wait(), 10)
    assert engine.is_running(stream_id)  # the end is out, the generation not yet gone
    try:
        async with asyncio.timeout(5):
            events = [
                e
                async for e in watch(
                    api.services.db, api.services.broker, stream_id, 0, live=engine
                )
            ]
    finally:
        release.set()
    snapshot, end = events
    assert isinstance(snapshot, Snapshot) and snapshot.status == "completed"
    assert snapshot.text == await saved_text(api, sent["assistantMessage"]["id"])
    assert isinstance(end, dict) and end["type"] == "end" and end["status"] == "completed"


async def test_an_answer_deleted_under_its_watchers_ends_their_subscriptions(
    api: ApiServer,
) -> None:
    """Joined from memory, then the conversation goes: they get NOT_FOUND, not an endless wait."""
    stream_id, _ = await generating(api)
    conversation = await api.gql(
        "query($s: ID!) { stream(id: $s) { conversationId } }", {"s": stream_id}
    )
    request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "m": None, "o": 0})
    received: list[str] = []

    async def watcher() -> None:
        async with api.ws() as session:
            async for event in session.subscribe(request):
                received.append(event["streamEvents"]["__typename"])

    watching = asyncio.create_task(watcher())
    async with asyncio.timeout(10):
        while not received:
            await asyncio.sleep(0.005)
    await api.gql(
        "mutation($c: ID!) { deleteConversation(id: $c) { id } }",
        {"c": conversation["stream"]["conversationId"]},
    )
    api.services.engine.flusher.flush_soon()  # where the generation learns it
    with pytest.raises(TransportQueryError) as ended:
        await asyncio.wait_for(watching, 10)
    assert ended.value.errors is not None
    assert ended.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert received[0] == "StreamSnapshot" and "StreamEnd" not in received
    assert not api.services.engine.is_running(stream_id)


async def test_an_answer_taken_over_after_a_join_from_memory_ends_as_the_database_says(
    api: ApiServer,
) -> None:
    """Another process's sweeper took this one for dead (its heartbeat reads as older than the
    threshold: here a threshold in the future), marked the answer interrupted and announced the
    end before this subscriber joined; the generation, not knowing yet, gave it a STREAMING
    snapshot."""
    stream_id, message_id = await generating(api)
    db, broker, engine = api.services.db, api.services.broker, api.services.engine
    swept = await jobs.sweep_orphans(db, broker, me="another-node", stale_after=-3600)
    assert swept == [stream_id]
    events = watch(db, broker, stream_id, 0, live=engine)
    snapshot = await anext(events)
    assert isinstance(snapshot, Snapshot) and snapshot.status == "streaming"
    engine.flusher.flush_soon()  # the generation learns its stream is not its own any more
    async with asyncio.timeout(10):
        rest = [event async for event in events]
    assert isinstance(rest[-1], dict) and rest[-1]["type"] == "end"
    assert rest[-1]["status"] == "interrupted"
    # The end's length is the saved text: a client cuts what it got from memory back to it.
    assert rest[-1]["length"] == len(await saved_text(api, message_id))


def test_a_transcript_joins_its_pieces_once_and_keeps_growing() -> None:
    transcript = Transcript()
    assert transcript.text() == ""
    for piece in ("Hello", ", ", "wörld"):
        transcript.append(piece)
    assert transcript.text() == "Hello, wörld"
    assert transcript._pieces == ["Hello, wörld"]  # joined once, not at every read
    transcript.append("!")
    assert transcript.text() == transcript.text() == "Hello, wörld!"
