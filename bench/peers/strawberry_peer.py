"""The benchmark's idiomatic Python peer: what a Python team would write first.

A Strawberry schema whose `streamEvents` subscription iterates a `broadcaster` memory://
subscription, served by Strawberry's own graphql-transport-ws handler under uvicorn (with the
websocket options `chatgql serve` uses). `python -m bench.peers.strawberry_peer --port P`;
`POST /go` with a plan streams stamped tokens (bench/provider.py) on the channel and answers when
the stream has ended.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from enum import Enum
from typing import Annotated

import strawberry
import uvicorn
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from bench.provider import Plan, paced
from gql_api.cli import SERVER_OPTIONS

CHANNEL = "stream"
broadcast = Broadcast("memory://")


@strawberry.enum
class StreamStatus(Enum):
    COMPLETED = "COMPLETED"


@strawberry.type
class StreamSnapshot:
    text: str


@strawberry.type
class StreamDelta:
    seq: int
    offset: int
    text: str


@strawberry.type
class StreamEnd:
    status: StreamStatus


StreamEvent = Annotated[StreamSnapshot | StreamDelta | StreamEnd, strawberry.union("StreamEvent")]


def _event(message: str) -> StreamSnapshot | StreamDelta | StreamEnd:
    data = json.loads(message)
    if "status" in data:
        return StreamEnd(status=StreamStatus(data["status"]))
    return StreamDelta(seq=data["seq"], offset=data["offset"], text=data["text"])


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def stream_events(
        self, stream_id: strawberry.ID | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        async with broadcast.subscribe(channel=CHANNEL) as subscriber:
            yield StreamSnapshot(text="")
            while True:  # `async for` on a Subscriber is mistyped upstream (broadcaster 0.3)
                item = _event((await subscriber.get()).message)
                yield item
                if isinstance(item, StreamEnd):
                    return


schema = strawberry.Schema(query=Query, subscription=Subscription)


async def go(request: Request) -> JSONResponse:
    plan = Plan(**await request.json())
    seq = offset = 0
    async for text in paced(plan):
        seq += 1
        delta = {"seq": seq, "offset": offset, "text": text}
        await broadcast.publish(channel=CHANNEL, message=json.dumps(delta))
        offset += len(text)
    await broadcast.publish(channel=CHANNEL, message=json.dumps({"status": "COMPLETED"}))
    return JSONResponse({"tokens": seq})


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncGenerator[None, None]:
    await broadcast.connect()
    try:
        yield
    finally:
        await broadcast.disconnect()


graphql_app: GraphQL[None, None] = GraphQL(schema)
app = Starlette(
    routes=[
        Route("/go", go, methods=["POST"]),
        Route("/graphql", graphql_app),
        WebSocketRoute("/graphql", graphql_app),
    ],
    lifespan=lifespan,
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.strawberry_peer")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", **SERVER_OPTIONS)


if __name__ == "__main__":
    main()
