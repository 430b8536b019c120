"""What an idle subscriber keeps alive on the server (bench memory: <= 50 KB each).

Each test pins one saving: it fails when the object it is about is kept again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from gql_api.streams.watch import Snapshot, watch
from resolvers.delivery import LiveDeltaHandler
from tests.conftest import make_settings
from tests.streaming import new_conversation, send
from tests.support import ApiServer, start_api
from tests.test_delivery import open_socket


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


async def test_a_subscriber_does_not_keep_the_snapshot_it_has_sent(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, demo_token_delay_seconds=0.2)
    async with start_api(settings) as api:
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "a long answer, slowly")
        stream_id = sent["stream"]["id"]
        svc = api.services
        events = watch(svc.db, svc.broker, stream_id, 0)
        try:
            first = await anext(events)
            assert isinstance(first, Snapshot) and not first.finished
            following = asyncio.ensure_future(anext(events))
            async with asyncio.timeout(10):
                while "position" not in events.ag_frame.f_locals:  # type: ignore[union-attr]
                    await asyncio.sleep(0.01)
            assert "snap" not in events.ag_frame.f_locals  # type: ignore[union-attr]
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        finally:
            await events.aclose()
            await api.gql("mutation($s: ID!) { stopStream(id: $s) { id } }", {"s": stream_id})
