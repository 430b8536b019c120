"""The write baseline: the same stream saved one transaction per delta (no batching).

Runs in its own process against the same database and tables as chatgql; each delta is one
transaction that inserts its chunk and updates the message text and the stream's progress, which
is what a server without a write buffer would do. Counted with the same `WriteCounters`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import update

from bench.counters import WriteCounters
from bench.provider import Plan, paced
from gql_api.db import Database
from models.base import utcnow
from models.conversations import Conversation
from models.messages import Message
from models.streams import Stream, StreamChunk
from models.users import User


@dataclass(frozen=True)
class WriterJob:
    database_url: str
    tokens: int
    size: int = 32


async def _rows(db: Database) -> tuple[str, str]:
    async with db.write() as session:
        user = User(subject=f"chunk-writer-{time.time_ns()}", name="baseline")
        session.add(user)
        await session.flush()
        conversation = Conversation(owner_id=user.id, title="baseline")
        session.add(conversation)
        await session.flush()
        message = Message(conversation_id=conversation.id, role="assistant", content="")
        session.add(message)
        await session.flush()
        stream = Stream(
            message_id=message.id,
            conversation_id=conversation.id,
            owner_id=user.id,
            status="streaming",
        )
        session.add(stream)
        await session.flush()
        return stream.id, message.id


async def write_per_delta(job: WriterJob) -> dict[str, Any]:
    counters = WriteCounters()
    db = Database(job.database_url)
    try:
        stream_id, message_id = await _rows(db)
        counters.install()
        started = time.monotonic()
        seq = offset = 0
        async for text in paced(Plan(tokens=job.tokens, rate=0, size=job.size)):
            seq += 1
            async with db.write() as session:
                session.add(StreamChunk(stream_id=stream_id, seq=seq, offset=offset, text=text))
                await session.execute(
                    update(Message)
                    .where(Message.id == message_id)
                    .values(content=Message.content + text)
                )
                offset += len(text)
                await session.execute(
                    update(Stream)
                    .where(Stream.id == stream_id)
                    .values(last_seq=seq, length=offset, heartbeat_at=utcnow())
                )
        seconds = time.monotonic() - started
    finally:
        await db.dispose()
    return {**counters.snapshot(), "tokens": seq, "seconds": seconds}


def writer_worker(job: WriterJob, conn: Connection) -> None:
    conn.send(("result", asyncio.run(write_per_delta(job))))
