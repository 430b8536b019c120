"""What-if switches for the server under test, to measure proposals without shipping them.

`python -m bench --server-options parser-cache ...` (or BENCH_OPTIONS in the server's
environment). Each is bench code that patches the app at start-up.

- `parser-cache`: Strawberry's `ParserCache` added to the schema's extensions (resolvers/schema.py).
- `direct-join`: a lower bound, not a proposal: the benchmark's subscription, when this process
  generates the stream, answered in the websocket handler before Strawberry sees it (owner check,
  broker subscription, live snapshot, one orjson frame written as bytes), to measure what a join
  outside Strawberry's per-operation pipeline, without copies of the text, would take.

Measured here first and since shipped: `no-deflate` (gql_api.cli.SERVER_OPTIONS; the bare baseline
matches it), `validation-cache` (resolvers/schema.py validates each document once), and
`shared-exec`, which grew into resolvers/delivery.py.
"""

from __future__ import annotations

from typing import Any

KNOWN = ("parser-cache", "direct-join")


def parse(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ValueError(f"unknown server option(s) {unknown}; known: {', '.join(KNOWN)}")
    return names


def patch_app(names: list[str]) -> None:
    """Patch the app's parts before `create_app` runs."""
    if "direct-join" in names:
        _patch_direct_join()
    if "parser-cache" not in names:
        return
    from strawberry.extensions import ParserCache

    import gql_api.app
    from resolvers.schema import build_schema

    def patched(settings: Any = None) -> Any:
        schema = build_schema(settings)
        schema.extensions = (*schema.extensions, lambda: ParserCache(maxsize=256))
        return schema

    gql_api.app.build_schema = patched


def _patch_direct_join() -> None:
    import orjson

    from bench.clients import SUBSCRIPTION
    from gql_api import feeds
    from resolvers.delivery import SERVER_SEND, LiveDeltaHandler

    original = LiveDeltaHandler.handle_subscribe

    async def handle_subscribe(self: LiveDeltaHandler, message: Any) -> None:
        payload = message["payload"]
        context = self.context
        if payload.get("query") != SUBSCRIPTION or context.user is None:
            return await original(self, message)
        stream_id = str(payload["variables"]["s"])
        services = context.services
        joined = services.broker.subscribe(feeds.stream_channel(stream_id))
        await joined.__aenter__()  # subscribed before the snapshot, as watch() does
        snap = services.engine.live_snapshot(stream_id, 0, owner_id=context.user.id)
        if snap is None:
            await joined.__aexit__(None, None, None)
            return await original(self, message)
        event = {"__typename": "StreamSnapshot", "text": snap.text}
        body = {"id": message["id"], "type": "next", "payload": {"data": {"streamEvents": event}}}
        socket = self.websocket.ws  # type: ignore[attr-defined]
        server = socket.scope[SERVER_SEND].__self__  # uvicorn's protocol object
        server.conn.send_text(orjson.dumps(body))
        server.transport.write(b"".join(server.conn.data_to_send()))
        await joined.__aexit__(None, None, None)  # a lower bound: no live deltas follow

    LiveDeltaHandler.handle_subscribe = handle_subscribe  # type: ignore[method-assign]
