"""A snapshot read from the database: code points from any offset, one statement, no transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, update

from gql_api.runtime import in_background_job
from gql_api.streams.snapshots import read_snapshot
from models.conversations import Conversation
from models.messages import Message
from models.streams import Stream
from tests.streaming import new_conversation, send
from tests.support import ApiServer

TEXT = "héllo 🌍 wörld, ✓ naïve café 日本語 done"


async def saved_answer(api: ApiServer, text: str) -> tuple[str, str]:
    """A stream row whose message holds `text` (nothing generates it): (stream id, message id)."""
    engine = api.services.engine
    original_launch = engine.launch
    engine.launch = lambda **_: None  # type: ignore[method-assign]
    try:
        sent = await send(api, await new_conversation(api), "no generation here")
    finally:
        engine.launch = original_launch  # type: ignore[method-assign]
    message_id = sent["assistantMessage"]["id"]
    stream_id = sent["stream"]["id"]
    async with api.services.db.write() as session:  # as the flusher saves: both, together
        await session.execute(update(Message).where(Message.id == message_id).values(content=text))
        await session.execute(update(Stream).where(Stream.id == stream_id).values(length=len(text)))
    return stream_id, message_id


async def test_the_text_after_any_offset_counts_code_points(api: ApiServer) -> None:
    stream_id, message_id = await saved_answer(api, TEXT)
    for offset in (0, 1, 2, 7, 8, len(TEXT) - 3, len(TEXT), len(TEXT) + 5):
        snap = await read_snapshot(api.services.db, stream_id, offset)
        assert snap is not None
        assert (snap.offset, snap.text) == (offset, TEXT[offset:]), offset
        assert snap.length == len(TEXT)  # the saved length, also from past the end
        assert snap.message_id == message_id and snap.status == "pending"


async def test_the_owner_is_checked_in_the_same_read(api: ApiServer) -> None:
    stream_id, _ = await saved_answer(api, TEXT)
    db = api.services.db
    alice = await api.services.users.resolve(await api.services.verifier.verify(api.token()))
    mine = await read_snapshot(db, stream_id, 3, owner_id=alice.id)
    assert mine is not None and mine.text == TEXT[3:]
    assert await read_snapshot(db, stream_id, 3, owner_id="someone-else") is None
    assert await read_snapshot(db, "no-such-stream", 0) is None


async def test_a_snapshot_read_is_one_statement_outside_a_transaction(api: ApiServer) -> None:
    stream_id, _ = await saved_answer(api, TEXT)
    db = api.services.db
    everything: list[tuple[int, str, Any]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if in_background_job():
            return  # the stale-stream sweeper, running meanwhile
        # asyncpg's adapter starts a transaction unless autocommit: no BEGIN statement to see
        autocommit = getattr(conn.connection.dbapi_connection, "autocommit", None)
        everything.append((id(conn), statement, autocommit))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await read_snapshot(db, stream_id, 2) is not None
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    # Not the process's own liveness work (heartbeat, sweeper), which may run meanwhile.
    background = {conn for conn, statement, _ in everything if "nodes" in statement}
    seen = [(s.split()[0].upper(), a) for conn, s, a in everything if conn not in background]
    assert [s[0] for s in seen] == ["SELECT"]  # SQLite: no BEGIN
    if db.dialect == "postgresql":
        assert seen[0][1] is True  # no BEGIN or ROLLBACK round trips either


async def test_transactions_after_snapshot_reads_still_roll_back(api: ApiServer) -> None:
    """The reads' connection setting must not stay on pooled connections that others use."""
    stream_id, _ = await saved_answer(api, TEXT)
    conversation_id = await new_conversation(api, title="before")
    db = api.services.db
    for _ in range(40):  # more than the pool holds, so every pooled connection served one
        assert await read_snapshot(db, stream_id, 0) is not None
    for _ in range(5):
        with pytest.raises(RuntimeError):
            async with db.write() as session:
                await session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .values(title="half written")
                )
                raise RuntimeError("fails after its first write")
    async with db.read() as session:
        conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None and conversation.title == "before"
