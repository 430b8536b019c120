"""Benchmark 7: HTTP requests per second for the conversation list with last messages.

`conversations(first: 50) { edges { node { title lastMessage { content } } } }` for one user
holding 60 conversations, each with a prompt and a finished answer, from several client
processes, each keeping a few keep-alive connections busy (a minimal HTTP/1.1 client, so the
clients stay cheap next to the server).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import uvloop

from bench.api import Api
from bench.common import CpuWindow, Workers, load_average, percentile
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section

QUERY = "{ conversations(first: 50) { edges { node { title lastMessage { content } } } } }"


@dataclass(frozen=True)
class HttpJob:
    port: int
    token: str
    connections: int
    warmup: float
    seconds: float


async def _client(job: HttpJob, start: float, stop: float, out: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", job.port)
    body = json.dumps({"query": QUERY}).encode()
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {job.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    loop = asyncio.get_running_loop()
    try:
        while (now := loop.time()) < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            payload = await reader.readexactly(length)
            if now >= start:
                out["latencies"].append(loop.time() - now)
                if not head.startswith(b"HTTP/1.1 200") or b'"errors"' in payload:
                    out["errors"] += 1
                elif payload.count(b'"lastMessage"') != 50:
                    out["errors"] += 1
    finally:
        writer.close()


async def _load(job: HttpJob) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    start = loop.time() + job.warmup
    out: dict[str, Any] = {"latencies": [], "errors": 0}
    stop = start + job.seconds
    await asyncio.gather(*(_client(job, start, stop, out) for _ in range(job.connections)))
    return out


def http_worker(job: HttpJob, conn: Connection) -> None:
    conn.send(("result", uvloop.run(_load(job))))


def run(ctx: RunContext) -> Section:
    section = Section("http")
    seconds = 3.0 if ctx.quick else 10.0
    procs, connections = 2, 4
    with ctx.chatgql("http") as server:
        api = Api(server)
        try:
            for number in range(60):
                api.start(Plan(tokens=20, rate=0, size=32), api.conversation(f"chat {number}"))
            api.wait_idle(60)
            job = HttpJob(server.port, api.token, connections, warmup=1.0, seconds=seconds)
            load_avg = load_average()
            with Workers(http_worker, [job] * procs) as workers:
                time.sleep(job.warmup + 0.5)  # workers start (spawn) and warm up first
                cpu = CpuWindow(server.pid)
                results = workers.collect("result", seconds + 60)
                cpu_pct = cpu.stop()
        finally:
            api.close()
    latencies = sorted(x for r in results for x in r["latencies"])
    setup = {
        "query": "conversations(first: 50) { title lastMessage { content } }",
        "conversations": 60,
        "client_procs": procs,
        "connections": procs * connections,
        "seconds": seconds,
        **ctx.stack("chatgql"),
        "load_avg": load_avg,
    }
    section.figure(
        "conversation list",
        setup,
        requests_per_s=round(len(latencies) / seconds, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
        server_cpu_pct=cpu_pct,
        errors=sum(r["errors"] for r in results),
    )
    return section
