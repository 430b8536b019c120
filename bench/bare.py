"""The baseline: a bare `websockets` server broadcasting the same frames as chatgql sends.

`python -m bench.bare --port P`. A client sends `{"type": "subscribe"}` and gets `ready`; the
driver sends `{"type": "go", "plan": {...}}` on its own connection, and the server broadcasts
one graphql-transport-ws `next` frame per stamped token (same JSON as chatgql's StreamDelta),
then a StreamEnd frame, and answers the driver with `done`. No GraphQL, no database, no broker:
what the network and the event loop cost on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import signal
from typing import Any

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from bench.provider import FILLER, Plan, paced


def frame(payload: dict[str, Any]) -> str:
    body = {"id": "1", "type": "next", "payload": {"data": {"streamEvents": payload}}}
    return json.dumps(body, separators=(",", ":"))


@functools.cache
def _prebuilt_frame(size: int) -> bytes:
    text = (FILLER * (size // len(FILLER) + 1))[:size]
    payload = frame({"__typename": "StreamSnapshot", "text": text}).encode()
    return Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


async def produce(plan: Plan, subscribers: set[ServerConnection]) -> int:
    seq = offset = 0
    async for text in paced(plan):
        seq += 1
        delta = {"__typename": "StreamDelta", "seq": seq, "offset": offset, "text": text}
        broadcast(subscribers, frame(delta))
        offset += len(text)
    broadcast(subscribers, frame({"__typename": "StreamEnd", "status": "COMPLETED"}))
    return seq


async def serve_forever(port: int, deflate: bool) -> None:
    subscribers: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        first = json.loads(await ws.recv())
        if first.get("type") == "subscribe":
            subscribers.add(ws)
            try:
                await ws.send(json.dumps({"type": "ready"}))
                await ws.wait_closed()
            finally:
                subscribers.discard(ws)
        elif first.get("type") == "go":
            sent = await produce(Plan(**first["plan"]), set(subscribers))
            await ws.send(json.dumps({"type": "done", "tokens": sent}))
        elif first.get("type") == "fetch":
            # The resume benchmark's transport floor: per request, a snapshot-sized frame built
            # beforehand and written to the socket in one call, the least any server can do.
            # (Nothing else is sent on this connection, so writing under `websockets` is safe.)
            request = first
            with contextlib.suppress(ConnectionClosed):
                while True:
                    ws.transport.write(_prebuilt_frame(int(request["size"])))
                    request = json.loads(await ws.recv())

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # The client's defaults decide compression, as with uvicorn: permessage-deflate if offered.
    compression = "deflate" if deflate else None
    async with serve(
        handler, "127.0.0.1", port, max_size=None, ping_interval=None, compression=compression
    ):
        print(f"bare websocket server on {port}", flush=True)
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-deflate", action="store_true", help="refuse permessage-deflate")
    args = parser.parse_args()
    uvloop.run(serve_forever(args.port, deflate=not args.no_deflate))


if __name__ == "__main__":
    main()
