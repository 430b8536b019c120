"""Batched persistence: every running stream's buffer written in one transaction per tick.

Writes grow with time (one transaction per flush interval for the whole process), not with
tokens. A stream whose rows were changed under it (deleted, taken over by a sweeper, marked for
cancellation) learns so from the same statement that saves its progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api.db import Database
from models.base import utcnow
from models.messages import Message
from models.streams import ACTIVE, Stream, StreamChunk

log = logging.getLogger(__name__)


@dataclass
class StreamBuffer:
    """What one stream generated since its last flush, and its running totals."""

    stream_id: str
    message_id: str
    seq: int = 0  # last seq handed out
    length: int = 0  # code points generated
    persisted_seq: int = 0
    persisted_length: int = 0
    pending: list[str] = field(default_factory=list)
    pending_chars: int = 0
    parts: list[dict[str, Any]] = field(default_factory=list)
    parts_dirty: bool = False
    # Set by the flusher when the database says the stream must stop.
    cancel_requested: bool = False
    gone: bool = False

    def add_text(self, text: str) -> tuple[int, int]:
        """Buffer a delta; return its (seq, offset)."""
        self.seq += 1
        offset = self.length
        self.length += len(text)
        self.pending.append(text)
        self.pending_chars += len(text)
        return self.seq, offset

    @property
    def dirty(self) -> bool:
        return bool(self.pending) or self.parts_dirty


async def write_progress(
    session: AsyncSession, buf: StreamBuffer, node_id: str
) -> Callable[[], None]:
    """Save a buffer (chunk + message text + stream progress) inside the caller's transaction.

    Returns what to do once the transaction has committed: until then the buffer keeps its text,
    so a failed commit loses nothing. Deltas added meanwhile stay for the next flush.
    """
    count, seq, length = len(buf.pending), buf.seq, buf.length
    start = buf.persisted_length
    text = "".join(buf.pending[:count])
    parts = list(buf.parts) if buf.parts_dirty else None
    # Progress first: when the stream row is gone or no longer ours, nothing else is written.
    result = await session.execute(
        update(Stream)
        .where(Stream.id == buf.stream_id, Stream.node_id == node_id, Stream.status.in_(ACTIVE))
        .values(status="streaming", last_seq=seq, length=length, heartbeat_at=utcnow())
        .returning(Stream.cancel_requested)
    )
    row = result.first()
    if row is None:
        buf.gone = True
        return lambda: None
    buf.cancel_requested = bool(row[0])
    if text:
        await session.execute(
            insert(StreamChunk).values(stream_id=buf.stream_id, seq=seq, offset=start, text=text)
        )
    values: dict[str, Any] = {}
    if text:
        values["content"] = Message.content + text
    if parts is not None:
        values["parts"] = parts
    if values:
        await session.execute(update(Message).where(Message.id == buf.message_id).values(**values))

    def committed() -> None:
        del buf.pending[:count]
        buf.pending_chars -= len(text)
        buf.persisted_seq, buf.persisted_length = seq, length
        if parts is not None and buf.parts == parts:
            buf.parts_dirty = False

    return committed


class Flusher:
    """One task per process: flushes every dirty buffer each interval, or at once when asked."""

    def __init__(
        self,
        db: Database,
        node_id: str,
        *,
        interval: float,
        max_chars: int,
        heartbeat_interval: float,
        on_signal: Callable[[StreamBuffer], None],
    ) -> None:
        self._db = db
        self._on_signal = on_signal
        self._node_id = node_id
        self._interval = interval
        self._max_chars = max_chars
        self._heartbeat_interval = heartbeat_interval
        self._buffers: dict[str, StreamBuffer] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0  # counted for the write benchmark and tests

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="chatgql-flusher")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def track(self, buf: StreamBuffer) -> None:
        self._buffers[buf.stream_id] = buf

    def untrack(self, stream_id: str) -> None:
        self._buffers.pop(stream_id, None)

    def added(self, buf: StreamBuffer) -> None:
        """Called after each delta: a large buffer is written now rather than at the next tick."""
        if buf.pending_chars >= self._max_chars:
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_beat = loop.time()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._interval)
            except TimeoutError:
                pass
            self._wake.clear()
            beat = loop.time() - last_beat >= self._heartbeat_interval
            try:
                await self.flush(heartbeat=beat)
                if beat:
                    last_beat = loop.time()
            except Exception:
                # The database may be briefly unavailable; buffers are kept and retried.
                log.warning("flush failed; will retry", exc_info=True)

    async def flush(self, *, heartbeat: bool = False) -> None:
        async with self._lock:
            buffers = [b for b in self._buffers.values() if b.dirty or heartbeat]
            if not buffers:
                return
            async with self._db.write() as session:
                done = [await write_progress(session, buf, self._node_id) for buf in buffers]
            self.transactions += 1
            for committed in done:
                committed()
        for buf in buffers:
            if buf.gone or buf.cancel_requested:
                self._on_signal(buf)

    async def finish(
        self, buf: StreamBuffer, write_terminal: Callable[[AsyncSession], Awaitable[None]]
    ) -> None:
        """Write a buffer's last text and its terminal state in one transaction."""
        async with self._lock:
            self.untrack(buf.stream_id)
            async with self._db.write() as session:
                committed = await write_progress(session, buf, self._node_id)
                if not buf.gone:
                    await write_terminal(session)
            self.transactions += 1
            committed()
