"""Background jobs every process runs; no leader: conditional updates decide who does what."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select, update

from gql_api import feeds
from gql_api.broker import Broker
from gql_api.db import Database
from gql_api.streams import events
from gql_api.streams.engine import announce_finished
from models.base import utcnow
from models.messages import Message
from models.streams import ACTIVE, Stream, StreamChunk

log = logging.getLogger(__name__)
INTERRUPTED = ("NODE_LOST", "The process generating this answer stopped before it finished")


async def sweep_stale_streams(db: Database, broker: Broker, *, stale_after: float) -> list[str]:
    """Mark streams whose owner stopped sending heartbeats as interrupted; returns their ids."""
    threshold = utcnow() - dt.timedelta(seconds=stale_after)
    async with db.read() as session:
        candidates = list(
            await session.scalars(
                select(Stream.id).where(Stream.status.in_(ACTIVE), Stream.heartbeat_at < threshold)
            )
        )
    swept: list[str] = []
    for stream_id in candidates:
        async with db.write() as session:
            # Conditional: only one process wins, and a stream that beat meanwhile is left alone.
            row = (
                await session.execute(
                    update(Stream)
                    .where(
                        Stream.id == stream_id,
                        Stream.status.in_(ACTIVE),
                        Stream.heartbeat_at < threshold,
                    )
                    .values(
                        status="interrupted",
                        finished_at=utcnow(),
                        error_code=INTERRUPTED[0],
                        error_message=INTERRUPTED[1],
                    )
                    .returning(Stream.message_id, Stream.owner_id, Stream.last_seq, Stream.length)
                )
            ).first()
            if row is None:
                continue
            message_id, owner_id, seq, length = row
            await session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(
                    status="interrupted", error_code=INTERRUPTED[0], error_message=INTERRUPTED[1]
                )
            )
        swept.append(stream_id)
        end = events.end(
            status="interrupted",
            seq=seq,
            length=length,
            error_code=INTERRUPTED[0],
            error_message=INTERRUPTED[1],
        )
        try:
            await broker.publish(feeds.stream_channel(stream_id), end)
        except Exception:
            log.warning("could not announce interrupted stream %s", stream_id)
        await announce_finished(db, broker, owner_id, stream_id)
    if swept:
        log.info("marked %d stale streams interrupted", len(swept))
    return swept


async def delete_old_chunks(db: Database, *, retention: float) -> int:
    """Chunks of streams finished before the retention period; messages keep the full text."""
    threshold = utcnow() - dt.timedelta(seconds=retention)
    finished = select(Stream.id).where(Stream.finished_at < threshold)
    async with db.write() as session:
        result = await session.execute(
            delete(StreamChunk).where(StreamChunk.stream_id.in_(finished))
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def every(seconds: float, job: Callable[[], Awaitable[object]], name: str) -> None:
    """Run `job` forever at an interval; a failing run is logged and retried next time."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("background job %s failed", name, exc_info=True)
