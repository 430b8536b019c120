"""A live answer's snapshot written before Strawberry runs the subscription (first_events)."""

from __future__ import annotations

import asyncio
import gc
import json
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader
from websockets.typing import Subprotocol

from gql_api.streams.snapshots import Snapshot
from gql_api.streams.watch import watch
from resolvers import first_events
from resolvers.delivery import LiveDeltaHandler, text_frame_header
from resolvers.streams import StreamDelta, early_snapshot
from tests.conftest import make_settings, unflushed_settings
from tests.streaming import EVENTS, new_conversation, rebuild, send, stored_answer, wait_finished
from tests.support import ApiServer, start_api

pytestmark = pytest.mark.slow


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiServer]:
    settings = make_settings(tmp_path, database_url, max_subscriptions_per_connection=3)
    async with start_api(settings) as api:
        yield api


@pytest.fixture
def early(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Each call of streamEvents' early function: whether it made the first event."""
    made: list[bool] = []

    def counted(context: Any, arguments: dict[str, Any]) -> Any:
        result = early_snapshot(context, arguments)
        made.append(result is not None)
        return result

    monkeypatch.setitem(first_events._REGISTERED, "streamEvents", (counted, StreamDelta))
    yield made


async def socket(api: ApiServer, user: str = "alice") -> ClientConnection:
    ws = await connect(api.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")])
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {api.token(user)}"}}
    await ws.send(json.dumps(init))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


def subscribe(op: str, query: str, variables: dict[str, Any]) -> str:
    payload = {"query": query, "variables": variables}
    return json.dumps({"id": op, "type": "subscribe", "payload": payload})


async def until_complete(ws: ClientConnection, op: str) -> list[dict[str, Any]]:
    """The messages for `op` up to its complete or error."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while True:
            message = json.loads(await ws.recv())
            if message.get("id") != op:
                continue
            received.append(message)
            if message["type"] in ("complete", "error"):
                return received


async def make_known(ws: ClientConnection, query: str, variables: dict[str, Any]) -> None:
    """Subscribe once and leave after the first event: Strawberry has parsed the text now."""
    await ws.send(subscribe("known", query, variables))
    async with asyncio.timeout(30):
        while json.loads(await ws.recv()).get("id") != "known":
            pass
    await ws.send(json.dumps({"id": "known", "type": "complete"}))


async def live_answer(api: ApiServer, words: int = 3000) -> tuple[str, str]:
    sent = await send(api, await new_conversation(api), f"long [demo:words={words}]")
    stream_id = sent["stream"]["id"]
    async with asyncio.timeout(10):
        while api.services.engine._running[stream_id].buf.seq < 20:
            await asyncio.sleep(0.005)
    return stream_id, sent["assistantMessage"]["id"]


def events_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert messages[-1]["type"] == "complete", messages[-1]
    return [m["payload"]["data"] for m in messages if m["type"] == "next"]


async def test_a_known_subscription_of_a_live_answer_gets_its_snapshot_early(
    api: ApiServer, early: list[bool]
) -> None:
    stream_id, message_id = await live_answer(api)
    ws = await socket(api)
    try:
        variables = {"s": stream_id, "m": None, "o": 0}
        await make_known(ws, EVENTS, variables)
        assert early == []  # a new text: Strawberry parsed it, the operation made its snapshot
        await ws.send(subscribe("2", EVENTS, {**variables, "o": 5}))
        second = events_of(await until_complete(ws, "2"))
    finally:
        await ws.close()
    assert early == [True]
    final = (await stored_answer(api, message_id))["content"]
    # From the early snapshot on: deltas without gap or overlap, then the end.
    assert rebuild(second, 5)[0] == final[5:]


async def test_an_early_snapshot_is_the_selection_the_client_asked_for(
    api: ApiServer, early: list[bool]
) -> None:
    stream_id, _ = await live_answer(api)
    query = (
        "subscription Watch($s: ID, $o: Int!) { events: streamEvents(streamId: $s, offset: $o) {"
        " kind: __typename ...Snap ... on StreamEnd { status } } }"
        " fragment Snap on StreamSnapshot { body: text seq }"
    )
    ws = await socket(api)
    try:
        await make_known(ws, query, {"s": stream_id, "o": 3})
        await ws.send(subscribe("2", query, {"s": stream_id, "o": 3}))
        messages = await until_complete(ws, "2")
    finally:
        await ws.close()
    assert early == [True]
    snapshot = events_of(messages)[0]["events"]
    assert set(snapshot) == {"kind", "body", "seq"} and snapshot["kind"] == "StreamSnapshot"


async def test_random_joins_of_live_answers_rebuild_the_exact_text(
    api: ApiServer, early: list[bool]
) -> None:
    """Early snapshots racing the generation: the operation goes on from what was sent."""
    answers = [await live_answer(api, words=600) for _ in range(3)]
    rng = random.Random(11)

    async def join(stream_id: str, seed: int) -> tuple[int, str]:
        await asyncio.sleep(random.Random(seed).uniform(0, 0.3))
        offset = random.Random(seed).randint(0, 40)
        ws = await socket(api)
        try:
            # the same text every time: known after the first, so nearly all go early
            await ws.send(subscribe("j", EVENTS, {"s": stream_id, "m": None, "o": offset}))
            messages = await until_complete(ws, "j")
        finally:
            await ws.close()
        return offset, rebuild(events_of(messages), offset)[0]

    joins = [join(s, rng.randrange(10**6)) for s, _ in answers for _ in range(15)]
    results = await asyncio.gather(*joins)
    for index, (stream_id, message_id) in enumerate(answers):
        await wait_finished(api, stream_id)
        final = (await stored_answer(api, message_id))["content"]
        for offset, text in results[index * 15 : (index + 1) * 15]:
            assert text == final[offset:]
    assert early.count(True) >= 20, early


async def test_a_complete_right_after_the_subscribe_leaves_nothing_behind(
    api: ApiServer, early: list[bool]
) -> None:
    stream_id, _ = await live_answer(api)
    variables = {"s": stream_id, "m": None, "o": 0}
    before = api.services.broker.stats().subscriptions  # none of this socket's yet
    ws = await socket(api)
    try:
        await make_known(ws, EVENTS, variables)
        for op in range(10):  # both in one read: the operation's task has not started
            await ws.send(subscribe(f"c{op}", EVENTS, variables))
            await ws.send(json.dumps({"id": f"c{op}", "type": "complete"}))
        await ws.send(subscribe("last", EVENTS, variables))
        last = events_of(await until_complete(ws, "last"))
        handlers = [o for o in gc.get_objects() if isinstance(o, LiveDeltaHandler)]
        assert handlers and all(not h._continued for h in handlers)
    finally:
        await ws.close()
    assert early.count(True) == 11
    assert last[0]["streamEvents"]["__typename"] == "StreamSnapshot"
    async with asyncio.timeout(10):
        while api.services.broker.stats().subscriptions > before:
            await asyncio.sleep(0.01)


async def test_what_strawberry_would_refuse_gets_no_early_snapshot(
    api: ApiServer, early: list[bool]
) -> None:
    stream_id, _ = await live_answer(api)
    variables = {"s": stream_id, "m": None, "o": 0}
    invalid = EVENTS.replace("status seq offset", "status seq nosuchfield offset")
    ws, bob = await socket(api), await socket(api, "bob")
    try:
        for op in ("i1", "i2"):  # parsed once, invalid every time
            await ws.send(subscribe(op, invalid, variables))
            refused = await until_complete(ws, op)
            assert [m["type"] for m in refused] == ["error"]
        await make_known(ws, EVENTS, variables)
        await bob.send(subscribe("b", EVENTS, variables))  # another user's answer
        theirs = await until_complete(bob, "b")
        assert theirs[0]["type"] == "next" and theirs[0]["payload"]["data"] is None
        assert theirs[0]["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        await ws.send(subscribe("o", EVENTS, {**variables, "o": -1}))  # the resolver refuses
        negative = await until_complete(ws, "o")
        assert negative[0]["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        # The connection's limit (3 here): the fourth gets Strawberry's error, nothing early.
        for op in ("l1", "l2", "l3", "l4"):
            await ws.send(subscribe(op, EVENTS, variables))
        over = await until_complete(ws, "l4")
        assert [m["type"] for m in over] == ["error"]
    finally:
        await ws.close()
        await bob.close()
    assert early == [False, False, True, True, True]  # bob, the negative offset, l1 to l3


async def test_a_join_that_follows_an_early_snapshot_goes_on_with_a_delta(
    api: ApiServer,
) -> None:
    """The answer may finish between the early snapshot and its operation's join."""
    sent = await send(api, await new_conversation(api), "short [demo:words=40]")
    await wait_finished(api, sent["stream"]["id"])
    final = (await stored_answer(api, sent["assistantMessage"]["id"]))["content"]
    db, broker = api.services.db, api.services.broker
    rest = [e async for e in watch(db, broker, sent["stream"]["id"], 7, sent_tools=frozenset())]
    assert not any(isinstance(e, Snapshot) for e in rest)
    delta, end = rest
    assert isinstance(delta, dict) and delta["type"] == "delta"
    assert (delta["offset"], delta["text"]) == (7, final[7:])
    assert isinstance(end, dict) and end["type"] == "end" and end["length"] == len(final)


@pytest.mark.parametrize(
    "payload",
    [
        "text",
        {"query": 7},
        {"query": EVENTS, "variables": ["not", "an", "object"]},
        {"query": EVENTS, "variables": {}, "operationName": 3},
    ],
)
async def test_a_malformed_subscribe_closes_the_socket_with_4400(
    api: ApiServer, early: list[bool], payload: Any
) -> None:
    """As graphql-transport-ws says; Strawberry alone dropped the connection (1006) or answered
    INTERNAL_SERVER_ERROR. Nothing reaches the early path."""
    stream_id, _ = await live_answer(api)
    ws = await socket(api)
    try:
        await make_known(ws, EVENTS, {"s": stream_id, "m": None, "o": 0})
        await ws.send(json.dumps({"id": "bad", "type": "subscribe", "payload": payload}))
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(10):
                async for raw in ws:
                    assert json.loads(raw).get("id") != "bad", raw
    finally:
        await ws.close()
    assert (ws.close_code, ws.close_reason) == (4400, "Invalid subscribe payload")
    assert early == []


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 1_200_000])
def test_a_text_frame_header_is_what_websockets_reads(size: int) -> None:
    payload = ("é" * size).encode()[:size]
    reader = StreamReader()
    reader.feed_data(text_frame_header(size) + payload)
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as parsed:
        next(parser)
    frame = parsed.value.value
    assert (frame.opcode, frame.fin, bytes(frame.data)) == (Opcode.TEXT, True, payload)


async def test_a_large_early_snapshot_reaches_a_websocket_client_whole(
    tmp_path: Path, database_url: str, early: list[bool]
) -> None:
    """Over 64 KB: the frame's 8-byte length, written header and payload apart."""
    settings = unflushed_settings(tmp_path, database_url).model_copy(
        update={"demo_token_delay_seconds": 0.0}
    )
    async with start_api(settings) as api:
        router = api.services.provider
        provider = router.server_provider(api.services.models.providers["demo"])  # type: ignore[attr-defined]
        sent = await send(api, await new_conversation(api), "long [demo:words=12000]")
        stream_id = sent["stream"]["id"]
        variables = {"s": stream_id, "m": None, "o": 0}
        ws = await socket(api)
        try:
            await make_known(ws, EVENTS, variables)
            async with asyncio.timeout(30):
                while api.services.engine._running[stream_id].buf.length < 70_000:
                    await asyncio.sleep(0.001)
            provider._token_delay = 0.005  # type: ignore[attr-defined]  # live while we join
            await ws.send(subscribe("big", EVENTS, variables))
            async with asyncio.timeout(30):
                while (first := json.loads(await ws.recv())).get("id") != "big":
                    pass
            await ws.send(json.dumps({"id": "big", "type": "complete"}))
        finally:
            provider._token_delay = 0.0  # type: ignore[attr-defined]
            await ws.close()
        await wait_finished(api, stream_id)
        final = (await stored_answer(api, sent["assistantMessage"]["id"]))["content"]
    assert early == [True]
    assert first["type"] == "next", first
    text = first["payload"]["data"]["streamEvents"]["text"]
    assert len(text.encode()) >= 70_000 and final.startswith(text)
