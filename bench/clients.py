"""Subscriber processes: many websocket subscriptions, latency measured from the token stamps.

Runs in its own process (spawned by `bench.common.Workers`), never in the server's event loop.
The hot path does not parse JSON: a delta frame is recognised by its `"StreamDelta"` and its
stamps are read with a regular expression, so the clients stay cheap next to the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect

from bench.provider import STAMP

SUBSCRIPTION = (
    "subscription($s: ID) { streamEvents(streamId: $s) { __typename "
    "... on StreamSnapshot { text } ... on StreamDelta { seq offset text } "
    "... on StreamEnd { status } } }"
)
CONNECT_CONCURRENCY = 32


@dataclass(frozen=True)
class SubscribeJob:
    mode: str  # "graphql" (chatgql) or "bare" (the websockets baseline)
    url: str
    token: str
    streams: list[str]  # one entry per subscription
    per_connection: int = 1  # subscriptions multiplexed on one websocket (graphql only)
    warmup: int = 0  # tokens with seq <= warmup count as delivered but not in latency
    hold: bool = False  # stay subscribed, idle, until told "stop" (memory benchmark)
    timeout: float = 120.0


@dataclass
class _State:
    expected: int
    ready: int = 0
    finished: int = 0
    tokens: int = 0
    snapshot_tokens: int = 0
    frames: int = 0
    first_stamp_ns: int = 0
    last_recv_ns: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_us: array[int] = field(default_factory=lambda: array("q"))
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def mark_ready(self, count: int = 1) -> None:
        self.ready += count
        if self.ready >= self.expected:
            self.all_ready.set()

    def error(self, text: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(text)


async def wait_message(conn: Connection) -> Any:
    """Wait for the driver's next message without blocking the event loop."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn.fileno(), readable)
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv()


async def graphql_connect(url: str, token: str) -> ClientConnection:
    """Open a graphql-transport-ws connection and complete `connection_init`."""
    ws = await connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
        ping_interval=None,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": token}}))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("type") == "connection_ack":
            return ws
        if reply.get("type") != "ping":
            raise RuntimeError(f"connection_init refused: {reply}")


async def _open(job: SubscribeJob, streams: list[str]) -> ClientConnection:
    if job.mode == "bare":
        ws = await connect(job.url, max_size=None, ping_interval=None, open_timeout=60)
        await ws.send(json.dumps({"type": "subscribe"}))
        return ws
    ws = await graphql_connect(job.url, f"Bearer {job.token}")
    for number, stream_id in enumerate(streams):
        payload = {"query": SUBSCRIPTION, "variables": {"s": stream_id}}
        await ws.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
    return ws


async def _connection(
    job: SubscribeJob, streams: list[str], st: _State, gate: asyncio.Semaphore
) -> None:
    pending = len(streams)  # subscriptions on this socket not yet ready
    done = 0
    try:
        async with gate:
            ws = await _open(job, streams)
        try:
            async for raw in ws:
                now = time.time_ns()
                assert isinstance(raw, str)
                if '"StreamDelta"' in raw:
                    st.frames += 1
                    st.last_recv_ns = now
                    for found in STAMP.finditer(raw):
                        seq, stamp = int(found[1]), int(found[2])
                        st.tokens += 1
                        if not st.first_stamp_ns or stamp < st.first_stamp_ns:
                            st.first_stamp_ns = stamp
                        if seq > job.warmup:
                            st.latencies_us.append((now - stamp) // 1000)
                    continue
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send('{"type":"pong"}')
                elif kind == "ready":
                    pending -= 1
                    st.mark_ready()
                elif kind == "next":
                    event = (message["payload"].get("data") or {}).get("streamEvents") or {}
                    if event.get("__typename") == "StreamSnapshot":
                        pending -= 1
                        st.snapshot_tokens += len(STAMP.findall(event.get("text", "")))
                        st.mark_ready()
                    elif event.get("__typename") == "StreamEnd":
                        st.last_recv_ns = now
                        st.finished += 1
                        done += 1
                        if done == len(streams) and not job.hold:
                            return
                elif kind == "error":
                    st.error(f"subscription error: {message.get('payload')}")
                    done += 1
                    if pending > 0:
                        pending -= 1
                        st.mark_ready()
        finally:
            await ws.close()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        st.error(repr(exc))
    finally:
        if pending > 0:  # never ready: count it so the others are not kept waiting
            st.mark_ready(pending)


async def _subscribe(job: SubscribeJob, conn: Connection) -> None:
    st = _State(expected=len(job.streams))
    per = max(1, job.per_connection)
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    groups = [job.streams[i : i + per] for i in range(0, len(job.streams), per)]
    tasks = [asyncio.create_task(_connection(job, group, st, gate)) for group in groups]
    timed_out = False
    try:
        async with asyncio.timeout(job.timeout):
            await st.all_ready.wait()
            conn.send(("ready", {"ready": st.ready, "errors": list(st.errors)}))
            if job.hold:
                await wait_message(conn)
                for task in tasks:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    except TimeoutError:
        timed_out = True
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    result = {
        "subscriptions": len(job.streams),
        "ready": st.ready,
        "finished": st.finished,
        "tokens": st.tokens,
        "snapshot_tokens": st.snapshot_tokens,
        "frames": st.frames,
        "first_stamp_ns": st.first_stamp_ns,
        "last_recv_ns": st.last_recv_ns,
        "latencies_us": st.latencies_us,
        "errors": st.errors,
        "timed_out": timed_out,
    }
    conn.send(("result", result))


def subscribe_worker(job: SubscribeJob, conn: Connection) -> None:
    """Process entry point: subscribe, report "ready", wait for the stream(s), report "result"."""
    uvloop.run(_subscribe(job, conn))
