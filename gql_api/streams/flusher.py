"""Batched persistence: every running stream's buffer written in one transaction per tick.

Writes grow with time (one transaction per flush interval for the whole process), not with
tokens. A stream whose rows were changed under it (deleted, taken over by a sweeper, marked for
cancellation) learns so from the same statement that saves its progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import JSON, Table, Text, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api.db import Database
from models import stream_lifecycle
from models.base import utcnow
from models.messages import Message
from models.streams import ACTIVE, Stream, StreamChunk

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0


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
    session: AsyncSession, buffers: list[StreamBuffer], node_id: str
) -> Callable[[], None]:
    """Save buffers (chunks + message text + stream progress) inside the caller's transaction.

    A constant number of statements whatever the number of streams: one locking read of the
    streams' flags, then one executemany each for streams, chunks and messages. Returns what to
    do once the transaction has committed: until then each buffer keeps its text, so a failed
    commit loses nothing. Deltas added meanwhile stay for the next flush.
    """
    ids = [b.stream_id for b in buffers]
    # Lock the rows (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock) so a
    # sweeper or a stop cannot change them between this read and the writes below.
    rows = await session.execute(
        select(Stream.id, Stream.cancel_requested)
        .where(Stream.id.in_(ids), Stream.node_id == node_id, Stream.status.in_(ACTIVE))
        .with_for_update()
    )
    ours = {row[0]: bool(row[1]) for row in rows}
    now = utcnow()
    streams: list[dict[str, Any]] = []
    chunks: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    commits = []
    for buf in buffers:
        if buf.stream_id not in ours:
            buf.gone = True
            continue
        buf.cancel_requested = ours[buf.stream_id]
        count, seq, length, start = len(buf.pending), buf.seq, buf.length, buf.persisted_length
        text = "".join(buf.pending[:count])
        parts = list(buf.parts) if buf.parts_dirty else None
        streams.append({"sid": buf.stream_id, "new_seq": seq, "new_length": length, "now": now})
        if text:
            chunks.append({"stream_id": buf.stream_id, "seq": seq, "offset": start, "text": text})
        if text or parts is not None:
            messages.append({"mid": buf.message_id, "delta": text})
            if parts is not None:
                messages[-1]["new_parts"] = parts
        commits.append((buf, count, len(text), seq, length, parts))
    if streams:
        # A Core statement on the table: executemany, one round trip for all the streams.
        await session.execute(stream_lifecycle.progress_statement(), streams)
    if chunks:
        await session.execute(insert(cast(Table, StreamChunk.__table__)), chunks)
    for with_parts in (False, True):
        batch = [m for m in messages if ("new_parts" in m) == with_parts]
        if not batch:
            continue
        table = cast(Table, Message.__table__)
        values: dict[str, Any] = {"content": table.c.content + bindparam("delta", type_=Text)}
        if with_parts:
            values["parts"] = bindparam("new_parts", type_=JSON)
        await session.execute(
            update(table).where(table.c.id == bindparam("mid")).values(**values), batch
        )

    def committed() -> None:
        for buf, count, chars, seq, length, parts in commits:
            del buf.pending[:count]
            buf.pending_chars -= chars
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
        on_signal: Callable[[StreamBuffer], None],
        on_flushed: Callable[[float], None] | None = None,
    ) -> None:
        self._db = db
        self._on_flushed = on_flushed  # seconds one flush transaction took
        self._on_signal = on_signal
        self._node_id = node_id
        self._interval = interval
        self._max_chars = max_chars
        self._buffers: dict[str, StreamBuffer] = {}
        self._finishing: list[
            tuple[StreamBuffer, Callable[[AsyncSession], Awaitable[None]], asyncio.Future[None]]
        ] = []
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
        for _, _, done in self._finishing:
            if not done.done():
                done.set_exception(RuntimeError("flusher closed"))
        self._finishing.clear()

    def track(self, buf: StreamBuffer) -> None:
        self._buffers[buf.stream_id] = buf

    def untrack(self, stream_id: str) -> None:
        self._buffers.pop(stream_id, None)

    def flush_soon(self) -> None:
        self._wake.set()

    def added(self, buf: StreamBuffer) -> None:
        """Called after each delta: a large buffer is written now rather than at the next tick."""
        if buf.pending_chars >= self._max_chars:
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_check = loop.time()
        while True:
            # Not asyncio.wait_for: on 3.11 it can swallow the cancellation that close() sends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            # Now and then every stream is written, not only those with new text: one waiting
            # for its model (or a tool) still learns that it was stopped, deleted or taken over.
            check = loop.time() - last_check >= max(CHECK_SECONDS, self._interval)
            try:
                await self.flush(check=check)
                if check:
                    last_check = loop.time()
            except Exception:
                # The database may be briefly unavailable; buffers are kept and retried.
                log.warning("flush failed; will retry", exc_info=True)

    async def flush(self, *, check: bool = False) -> None:
        async with self._lock:
            finishing, self._finishing = self._finishing, []
            ending = {buf.stream_id for buf, _, _ in finishing}
            buffers = [
                b for b in self._buffers.values() if b.dirty or check or b.stream_id in ending
            ]
            if not buffers:
                return
            started = time.perf_counter()
            try:
                async with self._db.write() as session:
                    committed = await write_progress(session, buffers, self._node_id)
                    for buf, write_terminal, _ in finishing:
                        if not buf.gone:
                            await write_terminal(session)
            except BaseException as exc:
                for _, _, done in finishing:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError())
                raise
            self.transactions += 1
            if self._on_flushed is not None:
                self._on_flushed(time.perf_counter() - started)
            committed()
            for buf, _, done in finishing:
                self.untrack(buf.stream_id)
                if not done.done():
                    done.set_result(None)
        for buf in buffers:
            if buf.stream_id not in ending and (buf.gone or buf.cancel_requested):
                self._on_signal(buf)

    async def finish(
        self, buf: StreamBuffer, write_terminal: Callable[[AsyncSession], Awaitable[None]]
    ) -> None:
        """Write a buffer's last text and its terminal state in the next flush transaction.

        Streams finishing together share one transaction, and a finishing stream stays tracked
        until its terminal state is committed.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._finishing.append((buf, write_terminal, done))
        self._wake.set()
        await done
