"""What an idle subscriber keeps alive on the server (bench memory: <= 50 KB each).

Each test pins one saving: it fails when the object it is about is kept again.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from fastapi import FastAPI

from resolvers.delivery import LiveDeltaHandler
from tests.support import ApiServer
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
