"""Benchmark 8: a live answer's delivery while a client sends the largest accepted request.

One stream at 50 tokens/s with 10 subscribers, measured quiet and then while another client
process sends, back to back on two connections, the largest request the limits accept: a 1 MiB
body (the rest in variables and extensions) whose query is exactly the query limit (64 KiB), a
valid document that is slow to validate (same-named fields repeated as often as allowed),
different every time so that no cache helps.
Target: p99 under that load within 2x of the quiet p99.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from statistics import median
from typing import Any

import uvloop

from bench.api import Api
from bench.common import Server, Workers, load_average
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section, ratio
from bench.runs import Load, run_chatgql
from gql_api.settings import Settings
from resolvers.schema import REPEATED_BRANCHES

DEFAULTS = Settings(env="test")


def costly_query() -> str:
    """A valid query that is slow to validate within the limits: every branch repeated as often
    as allowed, with leaves repeated inside (graphql-core compares same-named fields pairwise)."""

    def repeat(names: list[str], times: int) -> str:
        return " ".join(name for name in names for _ in range(times))

    blocks = [
        f"me {{ preferences {{ {repeat(['theme', 'defaultModel', 'toolsEnabled'], 3)} }}"
        f" {repeat(['id', 'name', 'email', 'createdAt'], 2)} }}",
        f"projects {{ {repeat(['name', 'updatedAt', 'conversationCount', 'id'], 2)} }}",
        f"activeStreams {{ {repeat(['status', 'length', 'lastSeq'], 3)} }}",
        f"conversations {{ pageInfo {{ {repeat(['hasNextPage', 'endCursor'], 3)} }}"
        " edges { cursor node { title pinned } } }",
        f'usage(from: "2026-01-01", to: "2026-01-02") {{ {repeat(["day", "model"], 3)} }}',
    ]
    return "{ " + " ".join(b for b in blocks for _ in range(REPEATED_BRANCHES)) + " }"


COSTLY = costly_query()


def largest_request(number: int) -> bytes:
    """A body of exactly max_body_bytes, its query exactly max_query_bytes, never seen before."""
    query = f"#{number}\n{COSTLY}"
    query += " " * (DEFAULTS.max_query_bytes - len(query.encode()))
    variables = {"pad": "v" * (DEFAULTS.max_variables_bytes - 16)}
    body = {"query": query, "variables": variables, "extensions": {"pad": ""}}
    room = DEFAULTS.max_body_bytes - len(json.dumps(body).encode())
    body["extensions"] = {"pad": "e" * room}
    encoded = json.dumps(body).encode()
    assert len(encoded) == DEFAULTS.max_body_bytes, len(encoded)
    return encoded


@dataclass(frozen=True)
class SenderJob:
    port: int
    token: str
    connections: int
    max_seconds: float = 300.0  # bounded, should the driver never say stop


async def _sender(job: SenderJob, first: int, stop: asyncio.Event, out: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", job.port)
    number = first
    try:
        while not stop.is_set():
            body = largest_request(number)
            number += job.connections
            writer.write(
                (
                    f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {job.token}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            status = head.split(b" ", 2)[1].decode()
            out["statuses"][status] = out["statuses"].get(status, 0) + 1
    finally:
        writer.close()


async def _send(job: SenderJob, conn: Connection) -> dict[str, Any]:
    """Send until the driver says stop (polled between requests)."""
    stop = asyncio.Event()
    out: dict[str, Any] = {"statuses": {}}

    async def watch() -> None:
        deadline = time.monotonic() + job.max_seconds
        while not conn.poll() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()

    await asyncio.gather(watch(), *(_sender(job, i, stop, out) for i in range(job.connections)))
    return out


def sender_worker(job: SenderJob, conn: Connection) -> None:
    conn.send(("result", uvloop.run(_send(job, conn))))


def run(ctx: RunContext) -> Section:
    section = Section("requests")
    seconds = 4 if ctx.quick else 10
    repeats = 1 if ctx.quick else 3  # alternating, as the machine may be noisy
    plan = Plan(tokens=int(50 * seconds), rate=50.0, size=32)
    load = Load(subscribers=10, plan=plan, procs=1)
    p99: dict[str, list[float]] = {}
    with ctx.chatgql("requests") as server:
        api = Api(server)
        try:
            for attempt in range(1, repeats + 1):
                for case in ("quiet", "largest requests"):
                    load_avg = load_average()
                    values, extra = _measure(server, api, load, loaded=case != "quiet")
                    setup = {
                        **load.setup("chatgql"),
                        **ctx.stack("chatgql"),
                        "load": case,
                        "load_avg": load_avg,
                        **({"request_bytes": DEFAULTS.max_body_bytes} if extra else {}),
                    }
                    name = f"live answer, {case}" + (f", run {attempt}" if repeats > 1 else "")
                    section.figure(name, setup, **values, **extra)
                    p99.setdefault(case, []).append(values["p99_ms"])
        finally:
            api.close()
    loaded, quiet = median(p99["largest requests"]), median(p99["quiet"])
    section.target(
        "p99 with largest requests / quiet",
        ratio(loaded, quiet),
        2.0,
        higher=False,
        detail=f"median p99 {loaded} ms vs {quiet} ms over {repeats} alternating run(s)",
    )
    return section


def _measure(
    server: Server, api: Api, load: Load, *, loaded: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One run of the live answer, with the sender going throughout when `loaded`."""
    if not loaded:
        return run_chatgql(server, api, load), {}
    job = SenderJob(server.port, api.token, connections=2)
    with Workers(sender_worker, [job]) as workers:
        time.sleep(2.0)  # the sender is up and sending
        values = run_chatgql(server, api, load)
        workers.tell("stop")
        statuses = workers.collect("result", 60)[0]["statuses"]
    extra = {
        "requests": sum(statuses.values()),
        "statuses": ",".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
    }
    return values, extra
