"""Live deltas written straight to graphql-transport-ws sockets, executed and encoded once.

Strawberry runs each subscription in its own task and executes the client's selection for every
event: about 70 µs of server CPU per delta per subscriber, against 4 µs for a bare websocket
broadcast. Deltas are nearly all of a stream's traffic, so for them the broker's fan-out loop
writes each subscriber's `next` frame itself (`gql_api.streams.watch.DeltaSink`):

- the selection is executed once per delta for every subscriber that sent the same document
  (and the same values for the variables the selection uses; `streamId` and `offset` only pick
  the stream), by graphql-core as Strawberry would, then JSON-encoded once (delta_payloads.py);
- per socket only the operation id differs, so a frame is two string joins and one write.

The snapshot a subscription starts with is written the same way, executed for its subscriber
alone: passed up through Strawberry, it stayed referenced by the frames of every generator above
the resolver until another event came through them, and with deltas written from here that can
be the whole stream (up to megabytes of text per subscriber). For a stream this process
generates, that snapshot is even written before Strawberry runs the operation
(resolvers/first_events.py, LiveDeltaHandler.handle_subscribe).

Everything else (tool calls, the end, errors, gaps) still goes through Strawberry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any, Protocol, cast

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from gql_api.context import Context
from resolvers import first_events
from resolvers.delta_payloads import DeltaEncoder, PayloadCache

log = logging.getLogger(__name__)

# The graphql-transport-ws operation whose task is running; set by LiveDeltaHandler.
_operation: ContextVar[Operation[Context, None] | None] = ContextVar(
    "chatgql_ws_operation", default=None
)


class _HasPayloads(Protocol):
    delta_payloads: PayloadCache


class LiveDeltaHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, telling resolvers which operation they serve,
    and writing the first event of some subscriptions before their operation runs
    (resolvers.first_events)."""

    # operation id -> what its early first event left for the resolver, and the sink it used
    _continued: dict[str, tuple[Any, WebSocketDeltas]] | None = None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        _operation.set(operation)  # the operation's own task: its resolvers see it, no one else
        await super().run_operation(operation)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_init_received:
            # The timer is cancelled by now; kept, the finished task and its CancelledError
            # would cost ~1.8 KB for as long as the connection lives (bench memory).
            self.connection_init_timeout_task = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not _well_formed(message.get("payload")):
            # Strawberry would fail on it with a TypeError and drop the connection (1006) or
            # answer INTERNAL_SERVER_ERROR; the protocol's answer to a bad message is 4400.
            await self.handle_invalid_message("Invalid subscribe payload")
            return
        early = self._first_event(message)
        await super().handle_subscribe(message)
        # No suspension since _first_event: the event is as current as the operation is new.
        operation = self.operations.get(message["id"]) if early is not None else None
        if early is not None and operation is not None:
            root, then, encoder = early
            sink = WebSocketDeltas(operation, encoder)
            if sink.send_event(root):
                if self._continued is None:
                    self._continued = {}
                self._continued[operation.id] = (then, sink)
        # Strawberry's read loop holds the last message until another one comes, which for a
        # tab that subscribed can be never; the operation has taken what it needs from it.
        cast(dict[str, Any], message).clear()

    def _first_event(self, message: SubscribeMessage) -> tuple[object, Any, DeltaEncoder] | None:
        """The early first event for this subscribe message, when Strawberry will accept the
        operation (the same checks as its handle_subscribe) and first_events can make it."""
        limit = self.max_subscriptions_per_connection
        if (
            not self.connection_acknowledged
            or message["id"] in self.operations
            or (limit is not None and len(self.operations) >= limit)
        ):
            return None
        payload = cast(dict[str, Any], message["payload"])
        call = first_events.early_call(self.schema, payload)  # type: ignore[arg-type]
        if call is None:
            return None
        function, delta_type, arguments = call
        made = function(self.context, arguments)
        if made is None:
            return None
        view: _HasPayloads = self.view  # type: ignore[assignment]
        encoder = view.delta_payloads.encoder(
            payload["query"],
            payload.get("operationName"),
            payload.get("variables") or {},
            delta_type,
        )
        return None if encoder is None else (*made, encoder)

    async def cleanup_operation(self, operation_id: str) -> None:
        if self._continued:
            self._continued.pop(operation_id, None)
        await super().cleanup_operation(operation_id)

    def forget_id(self, id: str) -> None:
        if self._continued:
            self._continued.pop(id, None)
        super().forget_id(id)


def _well_formed(payload: object) -> bool:
    """A subscribe payload as graphql-transport-ws defines it (the query itself is Strawberry's
    to judge)."""
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables") or {}, dict)
        and isinstance(payload.get("operationName") or "", str)
        and isinstance(payload.get("extensions") or {}, dict)
    )


def continued() -> tuple[Any, WebSocketDeltas] | None:
    """For the running operation, if its first event was written early: what the function that
    made it left (first_events.FirstEvent) and the sink that wrote it (to go on with)."""
    operation = _operation.get()
    if operation is None:
        return None
    table = cast(LiveDeltaHandler, operation.handler)._continued
    found = table.pop(operation.id, None) if table else None
    if found is None or found[1]._operation is not operation:
        return None
    return found


def delta_sink(delta_type: type) -> WebSocketDeltas | None:
    """A sink for the running subscription's deltas, or None when it is not on a websocket."""
    operation = _operation.get()
    if operation is None:
        return None
    view: _HasPayloads = operation.handler.view  # type: ignore[assignment]
    encoder = view.delta_payloads.encoder(
        operation.query, operation.operation_name, operation.variables or {}, delta_type
    )
    if encoder is None:
        return None
    return WebSocketDeltas(operation, encoder)


# Where the outermost app (gql_api.app.ChatAPI) puts the server's own `send` in a websocket's
# scope. Frames of deltas are plain `websocket.send` messages on an open socket, so they can skip
# Starlette's per-message state checks and wrappers (a third of a frame's cost); the checks that
# matter are done by WebSocketDeltas.
SERVER_SEND = "chatgql.server_send"


class WebSocketDeltas:
    """A DeltaSink writing `next` frames for one operation to its socket."""

    __slots__ = ("_operation", "_operations", "_send", "_encoder", "_prefix", "_writing")

    def __init__(self, operation: Operation[Context, None], encoder: DeltaEncoder) -> None:
        self._operation = operation
        self._operations = operation.handler.operations
        socket = operation.handler.websocket.ws  # type: ignore[attr-defined]
        self._send = socket.scope.get(SERVER_SEND) or socket.send
        self._encoder = encoder
        self._prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        self._writing: asyncio.Task[None] | None = None

    def send(self, event: dict[str, Any]) -> bool:
        if not self._open():
            return False
        payload = self._encoder.payload(event)
        return payload is not None and self._write(payload)

    def send_event(self, root: object) -> bool:
        """A whole event object (the snapshot), executed for this subscriber alone."""
        if not self._open():
            return False
        message = self._encoder.encode_next(root, self._operation.id)
        if message is None:
            return False
        return write_text_now(self._send, message) or self._write_text(message.decode())

    def _open(self) -> bool:
        operation = self._operation
        writing = self._writing
        if writing is not None:
            if not writing.done() or writing.cancelled() or writing.exception() is not None:
                # backed up, or a write failed: the consumer takes over and drain() tells it
                return False
            self._writing = None
        # completed or cancelled: no more frames for this id
        return not operation.completed and self._operations.get(operation.id) is operation

    def _write(self, payload: str) -> bool:
        return self._write_text(self._prefix + payload + "}")

    def _write_text(self, text: str) -> bool:
        started = run_eagerly(self._send({"type": "websocket.send", "text": text}))
        if started is False:
            return False
        if started is not True:
            self._writing = started
        return True

    async def drain(self) -> None:
        writing = self._writing
        if writing is None:
            return
        await asyncio.wait({writing})
        self._writing = None
        if writing.cancelled():
            raise ConnectionError("a delta frame was not written")
        # A frame that failed to go out fails the subscription rather than leave a gap in it.
        writing.result()


def write_text_now(send: Any, message: bytes) -> bool:
    """What uvicorn's `websocket.send` does with a text frame, for one already UTF-8: without
    the round trip through str (a decode and an encode, two more copies of a snapshot that can
    be megabytes, each a fresh allocation). Only where uvicorn would write at once itself, with
    the same checks; False otherwise, and the caller sends it the usual way."""
    server = getattr(send, "__self__", None)
    if not isinstance(server, WebSocketsSansIOProtocol):
        return False
    if (
        not server.writable.is_set()
        or server.disconnected
        or not server.handshake_complete
        or server.close_sent
        or server.initial_response is not None
    ):
        return False
    conn = server.conn
    if conn.state is not State.OPEN or conn.expect_continuation_frame or conn.extensions:
        return False
    # What websockets' Frame.serialize would build, without copying the payload into it.
    server.transport.writelines((text_frame_header(len(message)), message))
    return True


def text_frame_header(size: int) -> bytes:
    """The header of a final, unmasked (server to client) text frame of `size` bytes."""
    if size < 126:
        return struct.pack("!BB", 0x81, size)
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size)
    return struct.pack("!BBQ", 0x81, 127, size)


def run_eagerly(coro: Coroutine[Any, Any, None]) -> bool | asyncio.Task[None]:
    """Run `coro` now, up to its first suspension: True if it finished, False if it failed,
    else a task that finishes it.

    A websocket send does not suspend unless the peer's buffer is full, so a fan-out loop can
    write to many sockets without a task each, and still never waits for a slow one. (Python
    3.12's eager tasks do the same; 3.11 is supported.)
    """
    try:
        waiting = coro.send(None)
    except StopIteration:
        return True
    except Exception:
        log.debug("eager send failed", exc_info=True)
        return False
    task = asyncio.ensure_future(_finish(coro, waiting))
    task.add_done_callback(_retrieve)
    return task


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive `coro` on from a suspension: wait for what it waits for, then resume it."""
    while True:
        try:
            if waiting is None:  # a bare yield, as in asyncio.sleep(0)
                await asyncio.sleep(0)
            else:
                # What a Task does with a yielded future: without it, awaiting the future again
                # raises "await wasn't used with future".
                waiting._asyncio_future_blocking = False
                await waiting
        except BaseException as exc:  # noqa: BLE001 - handed to the coroutine, like a Task does
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("eager send failed", exc_info=task.exception())
