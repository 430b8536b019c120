"""Resume on subscribe: a snapshot, then live events, then exactly one terminal event.

Order matters: subscribe to the channel first, then take the snapshot, so nothing published in
between is missed. The snapshot comes from the generation itself when this process runs the
stream (snapshots.LiveStreams), from the database otherwise. Deltas the snapshot already covers
are dropped (or trimmed); a live delta ahead of what the database held is preceded by the
missing text, read from the database once the owning process has flushed it (at most one flush
interval later).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

from gql_api import feeds
from gql_api.broker import RESYNC, Broker
from gql_api.db import Database
from gql_api.errors import NotFound
from gql_api.streams import events
from gql_api.streams.snapshots import LiveStreams, Snapshot, read_snapshot

GAP_POLL_SECONDS = 0.01


class DeltaSink(Protocol):
    """Writes a live delta event straight to the client (a websocket frame), bypassing the
    consumer: the broker's fan-out loop calls `send` for every subscriber of a stream, so a
    delta costs each of them one write instead of a task switch and a GraphQL execution."""

    def send(self, event: dict[str, Any]) -> bool:
        """Write it now or take it on (True); False to leave it to the consumer. Never blocks."""
        ...

    async def drain(self) -> None:
        """Wait until what `send` took on is written, before the consumer writes anything."""
        ...


async def watch(
    db: Database,
    broker: Broker,
    stream_id: str,
    offset: int,
    *,
    owner_id: str | None = None,
    sink: DeltaSink | None = None,
    live: LiveStreams | None = None,
    sent_tools: frozenset[tuple[str, str]] | None = None,
) -> AsyncIterator[dict[str, Any] | Snapshot]:
    """Yields a Snapshot, then delta/tool events, then one end event.

    With `owner_id`, a stream that is missing or someone else's raises NotFound before anything
    is yielded (the snapshot read checks it); without, the caller has checked.

    With a `sink`, live deltas that follow on from what the client has go to it instead (see
    DeltaSink); everything else (gaps, tools, RESYNC, the end) still comes out of the iterator.

    With `live`, the first snapshot of a stream this process generates comes from memory.

    With `sent_tools`, the client has had its snapshot up to `offset` already, with those tool
    calls (resolvers.first_events wrote it before this join): what came since is no snapshot
    but a delta and tool events.
    """
    channel = feeds.stream_channel(stream_id)
    async with broker.subscribe(channel, merge=events.merge) as sub:
        snap = live.live_snapshot(stream_id, offset, owner_id=owner_id) if live else None
        if snap is None:
            snap = await read_snapshot(db, stream_id, offset, owner_id=owner_id)
        if snap is None:
            if owner_id is not None:
                raise NotFound("Stream not found")
            return
        tools_seen = set(sent_tools or ())

        def unseen_tools(parts: list[dict[str, Any]], seq: int, at: int) -> list[dict[str, Any]]:
            # Tool events published before we subscribed but after the snapshot's flush are
            # found again here, whenever the database is read (gap, RESYNC, end).
            fresh = [p for p in parts if tool_key(p) not in tools_seen]
            tools_seen.update(tool_key(p) for p in fresh)
            return [events.tool(seq, at, p) for p in fresh]

        if sent_tools is None:
            yield snap
            tools_seen.update(tool_key(p) for p in snap.parts)
        else:
            if snap.text:
                yield events.delta(snap.seq, offset, snap.text)
            for event in unseen_tools(snap.parts, snap.seq, max(offset, snap.length)):
                yield event
        if snap.finished:
            yield snap.end_event()
            return
        position = max(offset, snap.length)
        del snap  # sent: its text (up to megabytes) is not kept while the subscriber stays

        def express(message: dict[str, Any]) -> bool:
            # The same rules as the loop's delta branch, for the case that needs no database.
            nonlocal position
            if sink is None or message.get("type") != "delta":
                return False
            start, text = message["offset"], message["text"]
            end = start + len(text)
            if start > position:
                return False  # a gap: the loop fills it
            if end <= position:
                return True  # the client has it
            # the message itself when it starts where the client is (the common case)
            event = (
                message
                if start == position
                else events.delta(message["seq"], position, text[position - start :])
            )
            if not sink.send(event):
                return False
            position = end
            return True

        if sink is not None:
            sub.express = express
        async for message in sub:
            if sink is not None:
                await sink.drain()
            if message is RESYNC or message.get("type") == "gone":
                # Missed events, or the generating process stopped: the database has the truth.
                catch_up = await read_snapshot(db, stream_id, position)
                if catch_up is None:
                    raise NotFound("Stream not found")  # deleted while it was watched
                if catch_up.text:
                    yield events.delta(catch_up.seq, position, catch_up.text)
                    position = catch_up.length
                for event in unseen_tools(catch_up.parts, catch_up.seq, position):
                    yield event
                if catch_up.finished:
                    yield catch_up.end_event()
                    return
                continue
            kind = message.get("type")
            if kind == "delta":
                start, text = message["offset"], message["text"]
                if start > position:
                    filled = await _fill(db, broker, stream_id, position, start)
                    if filled is None or filled.finished:
                        # The owner died before saving the gap: the database is the truth.
                        final = filled or await read_snapshot(db, stream_id, position)
                        if final is None:
                            return
                        if final.text:
                            yield events.delta(final.seq, position, final.text)
                        for event in unseen_tools(final.parts, final.seq, final.length):
                            yield event
                        yield final.end_event()
                        return
                    yield events.delta(filled.seq, position, filled.text[: start - position])
                    position = start
                    for event in unseen_tools(filled.parts, filled.seq, position):
                        yield event
                if start + len(text) > position:
                    yield events.delta(message["seq"], position, text[position - start :])
                    position = start + len(text)
            elif kind == "tool":
                key = tool_key(message["part"])
                if key not in tools_seen:
                    tools_seen.add(key)
                    yield message
            elif kind == "end":
                # The terminal state is committed before `end` is published: read the rest.
                rest = await read_snapshot(db, stream_id, position)
                if rest is not None:
                    if rest.text and message["length"] > position:
                        yield events.delta(message["seq"], position, rest.text)
                        position = rest.length
                    for event in unseen_tools(rest.parts, message["seq"], position):
                        yield event
                yield message
                return


def tool_key(part: dict[str, Any]) -> tuple[str, str]:
    """A tool call in one of its states: each state reaches a watcher once."""
    return (str(part.get("id")), tool_state(part))


def tool_state(part: dict[str, Any]) -> str:
    return str(part.get("state") or ("done" if "result" in part else "running"))


async def _fill(
    db: Database, broker: Broker, stream_id: str, position: int, needed: int
) -> Snapshot | None:
    """Wait until the database holds text up to `needed`, or the stream has ended.

    The owning process is asked to flush at once, so this takes one write, not a flush
    interval. It ends either way: the owner flushes by its next tick at the latest, or dies and
    its stream is marked interrupted by a sweeper once its heartbeat goes stale.
    """
    asked = False
    while True:
        snap = await read_snapshot(db, stream_id, position)
        if snap is None or snap.finished or snap.length >= needed:
            return snap
        if not asked and snap.node_id:
            asked = True
            with contextlib.suppress(Exception):  # best effort: the tick flushes anyway
                await broker.publish(feeds.control_channel(snap.node_id), {"type": "flush"})
        await asyncio.sleep(GAP_POLL_SECONDS)
