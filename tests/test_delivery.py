"""Live deltas written by the broker's fan-out loop: shared frames, order, backed-up sockets."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import parse
from websockets.asyncio.client import ClientConnection, connect

import resolvers.delivery
from gql_api.broker import RESYNC, Broker
from gql_api.streams import events
from resolvers.delivery import WebSocketDeltas, run_eagerly
from resolvers.delta_payloads import PayloadCache, _variables_below_root
from resolvers.schema import build_schema
from resolvers.streams import StreamDelta
from tests.conftest import make_settings
from tests.streaming import EVENTS, new_conversation, rebuild, send, stored_answer, wait_finished
from tests.support import ApiServer, start_api

SHAPED = """
subscription($s: ID, $withSeq: Boolean!) {
  events: streamEvents(streamId: $s) {
    kind: __typename
    ... on StreamSnapshot { text offset }
    ...Piece
    ... on StreamEnd { status length }
  }
}
fragment Piece on StreamDelta { at: offset text seq @include(if: $withSeq) }
"""


async def open_socket(api: ApiServer, **options: Any) -> ClientConnection:
    ws = await connect(api.ws_url, subprotocols=["graphql-transport-ws"], **options)  # type: ignore[list-item]
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {api.token()}"}}
    await ws.send(json.dumps(init))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def subscribe(ws: ClientConnection, op: str, query: str, variables: dict[str, Any]) -> None:
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def collect(ws: ClientConnection, ops: set[str]) -> dict[str, list[tuple[str, Any]]]:
    """Raw frames per operation until each is complete: (frame text, payload data)."""
    frames: dict[str, list[tuple[str, Any]]] = {op: [] for op in ops}
    open_ops = set(ops)
    async with asyncio.timeout(60):
        while open_ops:
            raw = await ws.recv()
            assert isinstance(raw, str)
            message = json.loads(raw)
            if message["type"] == "complete":
                open_ops.discard(message["id"])
            elif message["type"] == "next":
                assert "errors" not in message["payload"], message
                frames[message["id"]].append((raw, message["payload"]["data"]))
            else:
                assert message["type"] in ("ping", "pong"), message
    return frames


class Writes:
    """Counts the frames the fan-out loop writes (and those whose write had to suspend)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        self.suspended: list[asyncio.Task[None]] = []
        self.small_buffers = False  # shrink the server's socket buffers at the first write
        shrunk: set[int] = set()
        real = resolvers.delivery.run_eagerly
        real_now = resolvers.delivery.write_text_now

        def shrink(server: Any) -> None:
            if self.small_buffers and id(server) not in shrunk:
                shrunk.add(id(server))
                server.transport.set_write_buffer_limits(high=4096)
                sock = server.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

        def counting(coro: Any) -> Any:
            frame = coro.cr_frame.f_locals.get("message", {})
            shrink(coro.cr_frame.f_locals.get("self"))  # uvicorn's protocol: send is its method
            started = real(coro)
            if started is not False:
                self.texts.append(frame.get("text", ""))
            if isinstance(started, asyncio.Task):
                self.suspended.append(started)
            return started

        def counting_now(send: Any, message: bytes) -> bool:
            shrink(send.__self__)
            written: bool = real_now(send, message)
            if written:
                self.texts.append(message.decode())
            return written

        monkeypatch.setattr(resolvers.delivery, "run_eagerly", counting)
        monkeypatch.setattr(resolvers.delivery, "write_text_now", counting_now)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    return Writes(monkeypatch)


async def test_deltas_go_out_as_shared_frames_and_rebuild_the_text(
    api: ApiServer, writes: Writes
) -> None:
    conversation = await new_conversation(api)
    sent = await send(api, conversation, "share [demo:words=300]")
    stream_id = sent["stream"]["id"]
    sockets = [await open_socket(api) for _ in range(3)]
    try:
        for ws in sockets:
            await subscribe(ws, "w", EVENTS, {"s": stream_id, "m": None, "o": 0})
        results = [await collect(ws, {"w"}) for ws in sockets]
    finally:
        for ws in sockets:
            await ws.close()
    final = (await stored_answer(api, sent["assistantMessage"]["id"]))["content"]
    for frames in results:
        text, end = rebuild([data for _, data in frames["w"]])
        assert end["status"] == "COMPLETED"
        assert text == final
        deltas = [
            raw for raw, data in frames["w"] if data["streamEvents"]["__typename"] == "StreamDelta"
        ]
        # The generation outlives the subscribe, so live deltas reach a parked subscriber:
        # most of them are written by the fan-out loop, the rest (gap fills) by Strawberry.
        shared = [raw for raw in deltas if raw in writes.texts]
        assert len(shared) > len(deltas) // 2
        for raw in shared:
            item = json.loads(raw)["payload"]["data"]["streamEvents"]
            assert set(item) == {"__typename", "seq", "offset", "text"}


async def test_each_subscription_gets_its_own_selection_aliases_and_variables(
    api: ApiServer,
) -> None:
    conversation = await new_conversation(api)
    sent = await send(api, conversation, "shapes [demo:words=200]")
    stream_id = sent["stream"]["id"]
    ws = await open_socket(api)
    try:
        await subscribe(ws, "with", SHAPED, {"s": stream_id, "withSeq": True})
        await subscribe(ws, "without", SHAPED, {"s": stream_id, "withSeq": False})
        await subscribe(ws, "plain", EVENTS, {"s": stream_id, "m": None, "o": 0})
        frames = await collect(ws, {"with", "without", "plain"})
    finally:
        await ws.close()
    final = (await stored_answer(api, sent["assistantMessage"]["id"]))["content"]
    for op, keys in (("with", {"kind", "at", "text", "seq"}), ("without", {"kind", "at", "text"})):
        items = [data["events"] for _, data in frames[op]]
        assert items[0]["kind"] == "StreamSnapshot" and items[-1]["kind"] == "StreamEnd"
        deltas = [item for item in items if item["kind"] == "StreamDelta"]
        assert deltas and all(set(item) == keys for item in deltas), (op, deltas[:2])
        text, position = items[0]["text"], len(items[0]["text"])
        for item in deltas:
            assert item["at"] == position
            text += item["text"]
            position += len(item["text"])
        assert text == final
    plain, _ = rebuild([data for _, data in frames["plain"]])
    assert plain == final


async def test_a_backed_up_socket_falls_back_to_the_queue_and_loses_nothing(
    tmp_path: Path, database_url: str, writes: Writes
) -> None:
    writes.small_buffers = True  # megabytes of kernel buffers would take a very long answer
    settings = make_settings(tmp_path, database_url, demo_token_delay_seconds=0.0002)
    async with start_api(settings) as api:
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "flood [demo:words=4000]")
        stream_id = sent["stream"]["id"]
        # A reader that stops reading: a small receive buffer (set before connecting, so the
        # window is negotiated for it) and websockets' own read queue, which stops at 16 frames.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect(("127.0.0.1", int(api.url.rsplit(":", 1)[1])))
        ws = await open_socket(api, sock=sock, max_size=None, ping_interval=None)
        try:
            await subscribe(ws, "w", EVENTS, {"s": stream_id, "m": None, "o": 0})
            async with asyncio.timeout(60):
                while api.services.engine.is_running(stream_id):
                    await asyncio.sleep(0.01)
            frames = await collect(ws, {"w"})
        finally:
            await ws.close()
        final = (await stored_answer(api, sent["assistantMessage"]["id"]))["content"]
    text, end = rebuild([data for _, data in frames["w"]])
    assert end["status"] == "COMPLETED"
    assert text == final
    assert writes.suspended, "the socket never backed up: the test did not test the fallback"
    # after the first suspended write, the queue merged what the socket could not take
    assert len(frames["w"]) < 4000


async def test_a_snapshot_that_waits_for_the_socket_still_comes_before_the_end(
    tmp_path: Path, database_url: str, writes: Writes
) -> None:
    """Snapshots are written like deltas; what Strawberry sends next waits for them.

    Joins of a long finished answer on one socket that is not read: the first snapshots fill
    the socket, so a later one's write has to wait, and its end must not overtake it.
    """
    writes.small_buffers = True
    settings = make_settings(tmp_path, database_url, demo_token_delay_seconds=0)
    async with start_api(settings) as api:
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "long [demo:words=8000]")
        stream_id = sent["stream"]["id"]
        await wait_finished(api, stream_id)
        final = (await stored_answer(api, sent["assistantMessage"]["id"]))["content"]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect(("127.0.0.1", int(api.url.rsplit(":", 1)[1])))
        ws = await open_socket(api, sock=sock, max_size=None, ping_interval=None, max_queue=1)
        ops = ("a", "b", "c", "d")
        try:
            for op in ops:
                await subscribe(ws, op, EVENTS, {"s": stream_id, "m": None, "o": 0})
            async with asyncio.timeout(10):
                while not writes.suspended:
                    await asyncio.sleep(0.01)
            frames = await collect(ws, set(ops))
        finally:
            await ws.close()
    assert len(final) > 40_000  # over what the socket and the client take unread
    for op in ops:
        events = [data for _, data in frames[op]]
        kinds = [e["streamEvents"]["__typename"] for e in events]
        assert kinds == ["StreamSnapshot", "StreamEnd"], (op, kinds)
        text, end = rebuild(events)
        assert text == final and end["status"] == "COMPLETED"
    # the snapshots were written by the sink, not by Strawberry
    assert {frames[op][0][0] for op in ops} <= set(writes.texts)


def test_only_variables_below_the_root_field_shape_a_delta() -> None:
    document = parse(SHAPED)
    assert _variables_below_root(document, None) == ("withSeq",)
    assert _variables_below_root(parse(EVENTS), None) == ()
    named = parse(
        "subscription A($s: ID, $x: Boolean!) { streamEvents(streamId: $s) @include(if: $x) "
        "{ __typename } } subscription B($s: ID) { streamEvents(streamId: $s) { __typename } }"
    )
    assert _variables_below_root(named, "A") == ("x",)
    assert _variables_below_root(named, "B") == ()


def test_payloads_are_shared_per_document_and_used_variables() -> None:
    cache = PayloadCache(build_schema(make_settings(Path("/nonexistent"), "sqlite://"))._schema)
    one = cache.encoder(EVENTS, None, {"s": "a", "o": 0}, StreamDelta)
    other_stream = cache.encoder(EVENTS, None, {"s": "b", "o": 7}, StreamDelta)
    assert one is other_stream  # streamId and offset only pick the stream
    with_seq = cache.encoder(SHAPED, None, {"s": "a", "withSeq": True}, StreamDelta)
    without = cache.encoder(SHAPED, None, {"s": "a", "withSeq": False}, StreamDelta)
    assert with_seq is not without
    assert cache.encoder("subscription { nope", None, {}, StreamDelta) is None
    assert one is not None and without is not None
    event = events.delta(4, 10, 'say "hi"')
    assert json.loads(one.payload(event) or "") == {
        "data": {
            "streamEvents": {
                "__typename": "StreamDelta",
                "seq": 4,
                "offset": 10,
                "text": 'say "hi"',
            }
        }
    }
    assert one.payload(event) is one.payload(dict(event))  # executed once per delta
    assert json.loads(without.payload(event) or "") == {
        "data": {"events": {"kind": "StreamDelta", "at": 10, "text": 'say "hi"'}}
    }


async def test_run_eagerly_finishes_now_fails_now_or_hands_the_rest_to_a_task() -> None:
    done: list[str] = []
    gate = asyncio.Event()

    async def quick() -> None:
        done.append("quick")

    async def broken() -> None:
        raise ConnectionError("gone")

    async def slow() -> None:
        done.append("slow started")
        await gate.wait()
        await asyncio.sleep(0)
        done.append("slow finished")

    assert run_eagerly(quick()) is True
    assert run_eagerly(broken()) is False
    started = run_eagerly(slow())
    assert isinstance(started, asyncio.Task)
    assert done == ["quick", "slow started"]
    await asyncio.sleep(0.01)  # the task now waits on the same future the coroutine yielded
    assert not started.done()
    gate.set()
    await asyncio.wait_for(started, 5)
    assert done[-1] == "slow finished"


async def test_a_socket_write_in_progress_makes_the_sink_decline_until_drained() -> None:
    writable = asyncio.Event()
    written: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        await writable.wait()
        written.append(json.loads(message["text"])["payload"]["data"]["streamEvents"]["text"])

    operations: dict[str, Any] = {}
    websocket = SimpleNamespace(ws=SimpleNamespace(scope={}, send=send))
    handler = SimpleNamespace(operations=operations, websocket=websocket)
    operation = SimpleNamespace(id="7", handler=handler, completed=False)
    operations["7"] = operation
    cache = PayloadCache(build_schema(make_settings(Path("/nonexistent"), "sqlite://"))._schema)
    encoder = cache.encoder(EVENTS, None, {"s": "s", "m": None, "o": 0}, StreamDelta)
    assert encoder is not None
    sink = WebSocketDeltas(operation, encoder)  # type: ignore[arg-type]
    assert sink.send(events.delta(1, 0, "a")) is True  # taken on: written once writable
    assert sink.send(events.delta(2, 1, "b")) is False  # declined: the consumer queues it
    draining = asyncio.create_task(sink.drain())
    await asyncio.sleep(0.01)
    assert not draining.done() and written == []
    writable.set()
    await asyncio.wait_for(draining, 5)
    assert written == ["a"]
    assert sink.send(events.delta(2, 1, "b")) is True and written == ["a", "b"]
    operation.completed = True
    assert sink.send(events.delta(3, 2, "c")) is False  # never a frame after `complete`


async def until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.001)


async def test_express_delivery_only_while_parked_and_never_overtakes_the_queue() -> None:
    broker = Broker("memory://")
    await broker.connect()
    try:
        taken: list[int] = []
        accept = True

        def express(event: dict[str, Any]) -> bool:
            if accept:
                taken.append(event["n"])
            return accept

        async with broker.subscribe("ch") as sub:
            sub.express = express
            sub._offer({"n": 1})  # nobody waits in get(): queued
            assert taken == [] and await sub.get(timeout=5) == {"n": 1}
            getter = asyncio.create_task(sub.get(timeout=5))
            await until(lambda: sub._parked)
            sub._offer({"n": 2})  # parked on an empty queue: taken inline
            assert taken == [2] and not getter.done()
            accept = False
            sub._offer({"n": 3})  # declined: queued, and the consumer is woken
            accept = True
            sub._offer({"n": 4})  # the consumer has not run yet: 4 must queue behind 3
            assert taken == [2]
            assert await getter == {"n": 3}
            assert await sub.get(timeout=5) == {"n": 4}
            # the same through the channel: published, pumped, taken inline
            getter = asyncio.create_task(sub.get(timeout=5))
            await until(lambda: sub._parked)
            await broker.publish("ch", {"n": 5})
            await until(lambda: taken == [2, 5])
            assert not getter.done()
            getter.cancel()
            sub._resync()
            assert await sub.get(timeout=5) is RESYNC
    finally:
        await broker.disconnect()
