"""Runs generations in the background: model loop, tool calls, stop, terminal state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gql_api import feeds
from gql_api.broker import RESYNC, Broker
from gql_api.db import Database
from gql_api.errors import PROVIDER_CONNECTION_LOST, ProviderError
from gql_api.metrics import Metrics
from gql_api.providers.base import (
    Block,
    Finished,
    ModelMessage,
    ModelProvider,
    ModelRequest,
    TextBlock,
    TextDelta,
    ToolCall,
    ToolUseBlock,
    Usage,
)
from gql_api.settings import Settings
from gql_api.storage.base import ObjectStore
from gql_api.streams import events
from gql_api.streams.endings import announce_finished, terminal_write
from gql_api.streams.flusher import Flusher, StreamBuffer
from gql_api.streams.generation import (
    INTERRUPTED,
    Generation,
    HandedOff,
    StreamGone,
    continued_generation,
)
from gql_api.streams.history import StreamContext, load_context
from gql_api.streams.snapshots import Snapshot
from gql_api.streams.tool_calls import call_part, run_calls
from gql_api.tools import ToolRegistry
from gql_api.tools.approval import Approvals
from gql_api.tools.registry import Toolset
from models.base import utcnow
from models.streams import Stream
from models.tool_approvals import remembered

log = logging.getLogger(__name__)


class StreamEngine:
    def __init__(
        self,
        *,
        db: Database,
        broker: Broker,
        provider: ModelProvider,
        tools: ToolRegistry,
        store: ObjectStore,
        settings: Settings,
        node_id: str,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self._db, self._broker, self._provider = db, broker, provider
        self._tools, self._store, self._settings = tools, store, settings
        self.node_id = node_id
        self.flusher = Flusher(
            db,
            node_id,
            interval=settings.flush_interval_ms / 1000,
            max_chars=settings.flush_max_bytes,
            on_signal=self._on_signal,
            on_flushed=self.metrics.flush_seconds.observe,
        )
        self._running: dict[str, Generation] = {}
        self.accepting = True  # False while the process drains: no new answers here
        self.approvals = Approvals()
        self._control: asyncio.Task[None] | None = None
        self.model_calls = 0  # provider invocations, for tests that prove replays never call it
        # Told (conversation id, user id) after each completed answer, e.g. to write a title.
        self.after_answer: Callable[[str, str], None] | None = None

    async def start(self) -> None:
        self.flusher.start()
        self._control = asyncio.create_task(self._listen_control(), name="chatgql-control")

    async def close(self) -> None:
        """Shutdown: running answers end as interrupted (continuable), with their text saved."""
        self.accepting = False
        await self.interrupt_all()
        if self._control is not None:
            self._control.cancel()
            await asyncio.gather(self._control, return_exceptions=True)
        await self.flusher.close()

    def launch(
        self, *, stream_id: str, message_id: str, conversation_id: str, user_id: str
    ) -> None:
        buf = StreamBuffer(stream_id=stream_id, message_id=message_id)
        self._start(
            Generation(stream_id, buf=buf, conversation_id=conversation_id, user_id=user_id)
        )

    async def resume(self, stream_id: str) -> bool:
        """Continue an answer this process has just taken on (stream_lifecycle.take_over or
        reopen): from its saved text, with seq and offset going on where they stopped."""
        if stream_id in self._running:
            return False
        gen = await continued_generation(self._db, stream_id, self.node_id)
        if gen is None:
            return False
        self._start(gen)
        return True

    def _start(self, gen: Generation) -> None:
        self._running[gen.stream_id] = gen
        self.flusher.track(gen.buf)
        gen.task = asyncio.create_task(self._generate(gen), name=f"chatgql-stream-{gen.stream_id}")

    async def settle(self, timeout: float) -> bool:
        """Wait up to `timeout` for the running answers to end; True when none is left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._running:
                    await asyncio.gather(*(g.done.wait() for g in list(self._running.values())))
        return not self._running

    async def hand_off(self) -> list[str]:
        """Stop every running answer with its text saved, left for another process."""
        handed = list(self._running)
        await self._stop_all("handoff")
        return handed

    async def interrupt_all(self) -> None:
        """End every running answer interrupted (continuable later), its text saved."""
        await self._stop_all("interrupted")

    async def _stop_all(self, reason: str) -> None:
        while self._running:
            for gen in list(self._running.values()):
                self._cancel(gen, reason)  # again each round: see _cancel
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await asyncio.gather(*(g.done.wait() for g in list(self._running.values())))

    def running_ids(self) -> list[str]:
        return list(self._running)

    @property
    def active(self) -> int:
        """Answers this process generates now."""
        return len(self._running)

    def is_running(self, stream_id: str) -> bool:
        return stream_id in self._running

    def live_snapshot(
        self, stream_id: str, offset: int, *, owner_id: str | None = None
    ) -> Snapshot | None:
        """snapshots.LiveStreams: a stream this process generates, as it stands in memory.

        None once it is finishing (its end may be out already; the database has its final state
        then), once it has learnt that its rows are gone, or when `owner_id` does not own it.
        """
        gen = self._running.get(stream_id)
        if gen is None or gen.finishing or gen.buf.gone:
            return None
        if owner_id is not None and gen.user_id != owner_id:
            return None
        buf = gen.buf
        text = gen.transcript.text()
        return Snapshot(
            stream_id=stream_id,
            message_id=buf.message_id,
            status="streaming" if buf.seq or buf.parts else "pending",
            seq=buf.seq,
            offset=offset,
            text=text[offset:],
            length=len(text),
            parts=list(buf.parts),
            input_tokens=gen.input_tokens,
            output_tokens=gen.output_tokens,
            node_id=self.node_id,
        )

    async def wait(self, stream_id: str) -> None:
        gen = self._running.get(stream_id)
        if gen is not None:
            await gen.done.wait()

    async def request_stop(self, stream: Stream) -> None:
        """Stop here if this process generates it, otherwise ask the owning process."""
        gen = self._running.get(stream.id)
        if gen is not None:
            self._cancel(gen, "cancelled")
            return
        if stream.node_id and stream.node_id != self.node_id:
            with contextlib.suppress(Exception):  # the database flag reaches it at its next flush
                await self._broker.publish(
                    feeds.control_channel(stream.node_id), {"type": "stop", "stream_id": stream.id}
                )

    def _cancel(self, gen: Generation, reason: str) -> None:
        # Asked again, cancel again: a cancellation can be lost (on 3.11, asyncio.wait_for,
        # which redis-py runs on every send, swallows one that lands as its call completes),
        # and the flusher asks at every flush while the stream is flagged. Never once it is
        # finishing: that would interrupt the terminal write.
        if gen.task is None or gen.finishing:
            return
        gen.stop_reason = gen.stop_reason or reason
        gen.task.cancel()

    def _on_signal(self, buf: StreamBuffer) -> None:
        """The flusher learnt from the database that a stream must stop."""
        gen = self._running.get(buf.stream_id)
        if gen is not None:
            self._cancel(gen, "gone" if buf.gone else "cancelled")

    async def _listen_control(self) -> None:
        while True:
            try:
                channel = feeds.control_channel(self.node_id)
                async with self._broker.subscribe(channel) as sub:
                    async for message in sub:
                        if message is RESYNC:
                            continue
                        kind = message.get("type")
                        if kind == "flush":
                            # A subscriber found a gap between its snapshot and the live
                            # deltas: write now rather than at the next tick.
                            self.flusher.flush_soon()
                        elif kind == "decide":
                            self.decide(
                                str(message.get("stream_id")),
                                str(message.get("call_id")),
                                message.get("approve") is True,
                            )
                        elif kind == "stop":
                            gen = self._running.get(str(message.get("stream_id")))
                            if gen is not None:
                                self._cancel(gen, "cancelled")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("control channel lost; resubscribing", exc_info=True)
                await asyncio.sleep(0.5)

    async def _generate(self, gen: Generation) -> None:
        status, error = "completed", None
        try:
            try:
                ctx = await load_context(self._db, self._store, self._settings, gen.stream_id)
                if ctx is None:
                    raise StreamGone()
                gen.model = ctx.model
                await self._produce(gen, ctx)
            except asyncio.CancelledError:
                if gen.stop_reason == "gone":
                    raise StreamGone() from None
                if gen.stop_reason == "handoff":
                    raise HandedOff() from None
                status = gen.stop_reason or "interrupted"
                if status == "interrupted":
                    error = INTERRUPTED
            except ProviderError as exc:
                status, error = "failed", (exc.code, exc.message)
            except (StreamGone, HandedOff):
                raise
            except Exception:
                log.exception("generation of stream %s failed", gen.stream_id)
                status, error = "failed", ("INTERNAL_SERVER_ERROR", "The answer failed")
            self._count_finished(gen)
            gen.finishing = True
            await self._finish(gen, status, error)
        except StreamGone:
            log.info("stream %s was removed or taken over; stopped", gen.stream_id)
            # Subscribers that joined from this generation's memory learn what became of it.
            await self._publish(gen.buf, events.gone())
        except HandedOff:
            # Saved, and left active: a live process continues it (its sweeper sees this node
            # stopped). Watchers elsewhere see a pause; those here reconnect elsewhere.
            try:
                await self.flusher.flush()
            except Exception:
                # What was not saved is generated again by the process that continues it.
                log.warning("could not save stream %s before handing it off", gen.stream_id)
            log.info("stream %s handed off to another process", gen.stream_id)
        except Exception:
            log.exception("could not finish stream %s", gen.stream_id)
        finally:
            self.flusher.untrack(gen.stream_id)
            self._running.pop(gen.stream_id, None)
            gen.done.set()

    async def _produce(self, gen: Generation, ctx: StreamContext) -> None:
        messages = list(ctx.history)
        chosen = ctx.conversation.tools_enabled
        enabled = list(ctx.user.tools_enabled if chosen is None else chosen)
        toolset = await self._tools.toolset(
            gen.user_id, enabled, await self._remembered(gen.user_id) if enabled else {}
        )
        buf = gen.buf  # the same for every round
        # Text of the current model turn, a continued answer's saved text included.
        text: list[str] = [gen.prefill] if gen.prefill else []
        gen.prefill = ""
        rounds = self._settings.tool_max_rounds
        for round in range(rounds):
            request = ModelRequest(
                model=ctx.model,
                system=ctx.system,
                messages=messages,
                max_tokens=self._settings.max_output_tokens,
                # The last round offers no tools: the model has to answer with what it has.
                tools=toolset.specs if round < rounds - 1 else [],
                user_id=gen.user_id,
            )
            calls, stop_reason = await self._turn(gen, request, text, toolset)
            if stop_reason != "tool_use" or not calls:
                return
            results: list[Block] = []
            results += await run_calls(
                toolset,
                calls,
                record=lambda part: self._record_part(buf, part),
                publish=lambda part: self._publish_part(buf, part),
                ask=lambda part: self._ask_approval(buf, part),
            )
            said: list[Block] = [TextBlock("".join(text))] if "".join(text).strip() else []
            uses = [ToolUseBlock(c.id, c.name, c.input) for c, _ in calls]
            messages += [
                ModelMessage(role="assistant", content=[*said, *uses]),
                ModelMessage(role="user", content=results),
            ]
            text = []

    async def _turn(
        self, gen: Generation, request: ModelRequest, text: list[str], toolset: Toolset
    ) -> tuple[list[tuple[ToolCall, dict[str, Any]]], str]:
        """One model turn; a connection dropped mid-answer is continued from the text so far."""
        while True:
            calls: list[tuple[ToolCall, dict[str, Any]]] = []
            stop_reason = "end_turn"
            self.model_calls += 1
            gen.requested_at = gen.requested_at or time.monotonic()
            continued = replace(request, continue_from="".join(text))
            try:
                async with contextlib.aclosing(self._provider.stream(continued)) as stream:
                    async for event in stream:
                        if isinstance(event, TextDelta) and event.text:
                            await self._add_text(gen, event.text)
                            text.append(event.text)
                        elif isinstance(event, ToolCall):
                            part = call_part(event, toolset, gen.buf.length)
                            calls.append((event, part))
                            await self._update_part(gen.buf, part)
                        elif isinstance(event, Usage):
                            gen.input_tokens += event.input_tokens
                            gen.output_tokens += event.output_tokens
                        elif isinstance(event, Finished):
                            stop_reason = event.stop_reason
                return calls, stop_reason
            except ProviderError as exc:
                settings = self._settings
                lost = exc.code == PROVIDER_CONNECTION_LOST and not calls
                if not (lost and settings.auto_continue and gen.drops < settings.max_continuations):
                    raise
                gen.drops += 1
                log.info("stream %s: provider connection lost; continuing", gen.stream_id)
                await asyncio.sleep(min(0.1 * 2**gen.drops, 2.0))

    async def _add_text(self, gen: Generation, text: str) -> None:
        self._count_text(gen)
        seq, offset = gen.buf.add_text(text)
        gen.transcript.append(text)
        await self._publish(gen.buf, events.delta(seq, offset, text))
        self.flusher.added(gen.buf)

    def _count_text(self, gen: Generation) -> None:
        self.metrics.deltas.inc()
        if gen.first_text_at is None:
            gen.first_text_at = time.monotonic()
            waited = gen.first_text_at - (gen.requested_at or gen.first_text_at)
            self.metrics.first_token_seconds.observe(waited)

    def _count_finished(self, gen: Generation) -> None:
        if gen.first_text_at is not None:
            seconds = time.monotonic() - gen.first_text_at
            self.metrics.answer_finished(gen.output_tokens, seconds)

    async def _remembered(self, user_id: str) -> dict[tuple[str, str], str]:
        async with self._db.read() as session:
            return await remembered(session, user_id)

    async def _ask_approval(self, buf: StreamBuffer, part: dict[str, Any]) -> bool:
        """Pause on a call until the user decides (from any process); no decision is a no."""
        part["state"] = "pending_approval"
        self._record_part(buf, part)
        self.approvals.expect(buf.stream_id, part["id"])
        # Saved before anyone is told: a decision, from any process, checks the saved state.
        with contextlib.suppress(Exception):
            await self.flusher.flush()
        await self._publish_part(buf, part)
        timeout = self._settings.tool_approval_timeout_seconds
        return await self.approvals.wait(buf.stream_id, part["id"], timeout=timeout)

    def decide(self, stream_id: str, call_id: str, approve: bool) -> bool:
        """A decision for a call this process holds pending; False when it holds none."""
        return self.approvals.decide(stream_id, call_id, approve)

    async def _update_part(self, buf: StreamBuffer, part: dict[str, Any]) -> None:
        self._record_part(buf, part)
        await self._publish_part(buf, part)

    async def _publish_part(self, buf: StreamBuffer, part: dict[str, Any]) -> None:
        await self._publish(buf, events.tool(buf.seq, buf.length, dict(part)))

    @staticmethod
    def _record_part(buf: StreamBuffer, part: dict[str, Any]) -> None:
        index = next((i for i, p in enumerate(buf.parts) if p["id"] == part["id"]), None)
        if index is None:
            buf.parts.append(dict(part))
        else:
            buf.parts[index] = dict(part)
        buf.parts_dirty = True

    async def _publish(self, buf: StreamBuffer, event: dict[str, Any]) -> None:
        try:
            await self._broker.publish(feeds.stream_channel(buf.stream_id), event)
        except Exception:
            # Subscribers re-read from the database when the broker comes back (RESYNC).
            log.debug("publish failed for stream %s", buf.stream_id, exc_info=True)

    async def _finish(self, gen: Generation, status: str, error: tuple[str, str] | None) -> None:
        buf = gen.buf
        code, text = error or (None, None)
        write_terminal = terminal_write(gen, self.node_id, status, error, utcnow())
        for attempt in range(5):
            try:
                await self.flusher.finish(buf, write_terminal)
                break
            except Exception:
                if attempt == 4:
                    raise  # left active: a sweeper picks it up (nodes.lost)
                await asyncio.sleep(0.2 * 2**attempt)
        if buf.gone:
            raise StreamGone()
        end = events.end(
            status=status,
            seq=buf.seq,
            length=buf.length,
            input_tokens=gen.input_tokens,
            output_tokens=gen.output_tokens,
            error_code=code,
            error_message=text,
        )
        await self._publish(buf, end)
        await announce_finished(self._db, self._broker, gen.user_id, buf.stream_id)
        if status == "completed" and self.after_answer is not None:
            self.after_answer(gen.conversation_id, gen.user_id)
