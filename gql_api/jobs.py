"""Background jobs every process runs; no leader: conditional updates decide who does what."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy import delete, select

from gql_api import feeds
from gql_api.broker import Broker
from gql_api.db import Database
from gql_api.streams import events
from gql_api.streams.endings import announce_finished
from gql_api.streams.engine import StreamEngine
from models import nodes, stream_lifecycle
from models.base import utcnow
from models.streams import Stream, StreamChunk

log = logging.getLogger(__name__)


async def sweep_orphans(
    db: Database,
    broker: Broker,
    *,
    me: str,
    stale_after: float,
    running: Collection[str] = (),
    engine: StreamEngine | None = None,
    max_continuations: int = 0,
) -> list[str]:
    """Answers no one generates: their process is dead, or it is this one (`me`) and it dropped
    them (not `running` here, row unwritten for `stale_after`). Continued here when `engine`
    (this process, taking answers) is given and they have attempts left, ended otherwise.
    Returns the ids it continued or ended."""
    threshold = utcnow() - dt.timedelta(seconds=stale_after)
    async with db.read() as session:
        candidates = await stream_lifecycle.orphans(session, me=me, threshold=threshold)
    handled: list[str] = []
    for stream_id, owner, continuations, cancel_requested in candidates:
        if owner == me and stream_id in running:
            continue  # never what this process is generating
        if engine is not None and not cancel_requested and continuations < max_continuations:
            async with db.write() as session:
                won = await stream_lifecycle.take_over(
                    session,
                    stream_id=stream_id,
                    from_node=owner,
                    to_node=me,
                    threshold=threshold,
                    max_continuations=max_continuations,
                )
            if won:
                log.info("continuing stream %s of lost node %s", stream_id, owner)
                await engine.resume(stream_id)
                handled.append(stream_id)
            continue
        if await end_orphan(
            db, broker, stream_id=stream_id, owner=owner, threshold=threshold, me=me
        ):
            handled.append(stream_id)
    return handled


async def end_orphan(
    db: Database,
    broker: Broker,
    *,
    stream_id: str,
    owner: str | None,
    threshold: dt.datetime,
    me: str | None = None,
) -> bool:
    """End a lost stream (conditional) and tell its watchers and feeds."""
    async with db.write() as session:
        ended = await stream_lifecycle.end_orphan(
            session,
            stream_id=stream_id,
            from_node=owner,
            threshold=threshold,
            error=stream_lifecycle.NODE_LOST,
            me=me,
        )
    if ended is None:
        return False
    await announce_orphan(db, broker, ended)
    return True


async def announce_orphan(db: Database, broker: Broker, ended: stream_lifecycle.Ended) -> None:
    end = events.end(
        status=ended.status,
        seq=ended.seq,
        length=ended.length,
        error_code=ended.error_code,
        error_message=ended.error_message,
    )
    try:
        await broker.publish(feeds.stream_channel(ended.stream_id), end)
    except Exception:
        log.warning("could not announce the end of stream %s", ended.stream_id)
    await announce_finished(db, broker, ended.owner_id, ended.stream_id)


async def delete_old_chunks(db: Database, *, retention: float) -> int:
    """Chunks of streams finished before the retention period; messages keep the full text."""
    threshold = utcnow() - dt.timedelta(seconds=retention)
    finished = select(Stream.id).where(Stream.finished_at < threshold)
    async with db.write() as session:
        result = await session.execute(
            delete(StreamChunk).where(StreamChunk.stream_id.in_(finished))
        )
        # and the rows of processes gone for a day
        await nodes.forget_dead(session, utcnow() - dt.timedelta(days=1))
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
