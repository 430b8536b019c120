"""What an idle subscriber keeps alive on the server (bench memory: <= 50 KB each).

Each test pins one saving: it fails when the object it is about is kept again.
"""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from gql_api.streams.snapshots import Snapshot
from resolvers.delivery import LiveDeltaHandler
from resolvers.streams import StreamSnapshot
from tests.conftest import make_settings
from tests.streaming import EVENTS, new_conversation, send
from tests.support import ApiServer, start_api
from tests.test_delivery import open_socket, subscribe


def live_handlers() -> list[LiveDeltaHandler]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, LiveDeltaHandler)]


async def test_an_initialised_connection_lets_go_of_its_init_timer(api: ApiServer) -> None:
    before = {id(h) for h in live_handlers()}
    ws = await open_socket(api)
    try:
        (handler,) = [h for h in live_handlers() if id(h) not in before]
        assert handler.connection_acknowledged
        assert handler.connection_init_timeout_task is None
    finally:
        await ws.close()


async def test_graphql_websockets_skip_the_fastapi_stack(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every layer a websocket passes through keeps a frame for as long as it is open."""
    seen: list[str] = []
    real = FastAPI.__call__

    async def counting(self: FastAPI, scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        await real(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", counting)
    ws = await open_socket(api)  # connection_ack: authenticated by ChatWebSockets
    try:
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ me { name } }"}})
        )
        reply = json.loads(await ws.recv())
        assert reply["payload"]["data"] == {"me": {"name": "Alice"}}
    finally:
        await ws.close()
    assert "websocket" not in seen
    assert (await api.gql("{ me { name } }"))["me"]["name"] == "Alice"
    assert seen == ["http"]  # everything else still goes through FastAPI


async def test_a_subscriber_keeps_no_snapshot_once_it_is_sent(
    tmp_path: Path, database_url: str
) -> None:
    """With deltas written by the fan-out loop, nothing else may pass up the generators for the
    whole stream: the snapshot (up to megabytes) must not stay referenced by them."""
    settings = make_settings(tmp_path, database_url, demo_token_delay_seconds=0.3)
    async with start_api(settings) as api:
        conversation = await new_conversation(api)
        stream_id = (await send(api, conversation, "slowly"))["stream"]["id"]
        ws = await open_socket(api)
        try:
            await subscribe(ws, "1", EVENTS, {"s": stream_id, "m": None, "o": 0})
            first = json.loads(await ws.recv())
            assert first["payload"]["data"]["streamEvents"]["__typename"] == "StreamSnapshot"
            await asyncio.sleep(0.05)  # the operation is parked, waiting for the next event
            gc.collect()
            assert not [o for o in gc.get_objects() if isinstance(o, (Snapshot, StreamSnapshot))]
            assert any("1" in h.operations for h in live_handlers())  # still subscribed
        finally:
            await ws.close()
            await api.gql("mutation($s: ID!) { stopStream(id: $s) { id } }", {"s": stream_id})


async def test_a_connection_keeps_neither_its_token_nor_its_last_message(api: ApiServer) -> None:
    before = {id(h) for h in live_handlers()}
    ws = await open_socket(api)
    try:
        query = "subscription { activity { __typename } }"
        await ws.send(json.dumps({"id": "c", "type": "subscribe", "payload": {"query": query}}))
        async with asyncio.timeout(10):
            while not any("c" in h.operations for h in live_handlers() if id(h) not in before):
                await asyncio.sleep(0.01)
        (handler,) = [h for h in live_handlers() if id(h) not in before]
        assert handler.context.user is not None
        assert handler.context.connection_params is None
        kept = [o for o in gc.get_objects() if isinstance(o, dict) and o.get("type") == "subscribe"]
        assert kept == []
    finally:
        await ws.close()
