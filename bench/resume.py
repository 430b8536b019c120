"""Benchmark 5: time to the first event when a subscriber joins a stream that already holds
100 KB / 1 MB, against a bare query reading the same text from the same database.

The stream is left active (the model holds after its tokens) with all its text flushed. A client
process, on an open graphql-transport-ws connection, subscribes with offset 0 and times the
arrival of the snapshot (the first event); on an open driver connection (aiosqlite / asyncpg) it
times `SELECT content FROM messages WHERE id = ?`; a GraphQL HTTP query for the same message's
content and a bare websocket frame of the same size are shown for reference. Samples are
interleaved. Target: subscription <= 3x the query. The same is then measured once the answer has
finished, when the snapshot is read from the database (reported).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from statistics import median
from typing import Any

import httpx
import uvloop
from websockets.asyncio.client import connect

from bench.api import Api, gate_name
from bench.clients import SUBSCRIPTION, graphql_connect
from bench.common import Workers, percentile
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section, ratio

TARGET = 3.0
MESSAGE = "query($m: ID!) { message(id: $m) { content } }"


@dataclass(frozen=True)
class ResumeJob:
    ws_url: str
    bare_url: str
    http_url: str
    token: str
    database_url: str
    stream_id: str
    message_id: str
    text_chars: int
    repeats: int


async def _bare_query(url: str) -> tuple[Any, Any]:
    """A raw driver connection and a function reading one message's content through it."""
    if url.startswith("sqlite"):
        import aiosqlite

        db = await aiosqlite.connect(url.split("///", 1)[1])

        async def read(message_id: str) -> str:
            async with db.execute("SELECT content FROM messages WHERE id = ?", (message_id,)) as c:
                row = await c.fetchone()
            assert row is not None
            return str(row[0])

        return db, read
    import asyncpg

    pg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))

    async def read_pg(message_id: str) -> str:
        return str(await pg.fetchval("SELECT content FROM messages WHERE id = $1", message_id))

    return pg, read_pg


async def _measure(job: ResumeJob) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"subscribe": [], "query": [], "http": [], "bare_ws": []}
    ws = await graphql_connect(job.ws_url, f"Bearer {job.token}")
    bare = await connect(job.bare_url, max_size=None, ping_interval=None, open_timeout=30)
    conn, read = await _bare_query(job.database_url)
    headers = {"Authorization": f"Bearer {job.token}"}
    http = httpx.AsyncClient(base_url=job.http_url, headers=headers, timeout=30)
    size = 0
    try:
        for attempt in range(job.repeats + 2):  # the first two warm caches and are dropped
            op = f"r{attempt}"
            payload = {"query": SUBSCRIPTION, "variables": {"s": job.stream_id}}
            started = time.perf_counter()
            await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            while True:
                raw = await ws.recv()
                if f'"id":"{op}"' in raw[:40] and '"next"' in raw[:60]:
                    break
            subscribe = time.perf_counter() - started
            await ws.send(json.dumps({"id": op, "type": "complete"}))
            size = len(raw)

            started = time.perf_counter()
            await bare.send(json.dumps({"type": "fetch", "size": job.text_chars}))
            await bare.recv()
            over_bare = time.perf_counter() - started

            started = time.perf_counter()
            text = await read(job.message_id)
            query = time.perf_counter() - started

            started = time.perf_counter()
            body = {"query": MESSAGE, "variables": {"m": job.message_id}}
            (await http.post("/graphql", json=body)).raise_for_status()
            over_http = time.perf_counter() - started
            if attempt >= 2:
                samples["subscribe"].append(subscribe * 1000)
                samples["query"].append(query * 1000)
                samples["http"].append(over_http * 1000)
                samples["bare_ws"].append(over_bare * 1000)
    finally:
        await ws.close()
        await bare.close()
        await conn.close()
        await http.aclose()
    return {"samples": samples, "frame_chars": size, "text_chars": len(text)}


def resume_worker(job: ResumeJob, conn: Connection) -> None:
    conn.send(("result", uvloop.run(_measure(job))))


def run(ctx: RunContext) -> Section:
    section = Section("resume")
    databases = ("sqlite",) if ctx.quick else ("sqlite", "postgres")
    repeats = 8 if ctx.quick else 25
    for database in databases:
        url = ctx.sqlite_url("resume") if database == "sqlite" else ctx.postgres_url()
        with (
            ctx.chatgql(f"resume-{database}", database_url=url) as server,
            ctx.bare(f"resume-{database}") as bare,
        ):
            api = Api(server)
            try:
                for kilobytes in (100, 1000):
                    setup = {**ctx.stack("chatgql", database), "samples": repeats}
                    _one(section, api, f"ws://127.0.0.1:{bare.port}", setup, url, kilobytes)
            finally:
                api.close()
    section.notes.append(
        "ws_frame_floor: the same client receiving a frame of the snapshot's size that a bare "
        "websocket server built beforehand and writes in one call, the least any server can do; "
        "over the bare query, what is left of the 3x budget for the server's own work. A live "
        "answer's snapshot comes from the generation, a finished one's from the database (as "
        "for a stream generated by another process). vs_graphql_http_x: the subscription "
        "against a GraphQL HTTP query for the same text."
    )
    return section


def _one(
    section: Section, api: Api, bare_url: str, setup: dict[str, Any], url: str, kilobytes: int
) -> None:
    hold = gate_name()
    plan = Plan(tokens=kilobytes, rate=0, size=1024, hold=hold)
    stream_id, message_id = api.start(plan)
    job = ResumeJob(
        ws_url=api.ws_url,
        bare_url=bare_url,
        http_url=api.url,
        token=api.token,
        database_url=url,
        stream_id=stream_id,
        message_id=message_id,
        text_chars=kilobytes * 1024,
        repeats=setup["samples"],
    )
    try:
        api.wait_length(stream_id, kilobytes * 1024, timeout=60)
        live = _run_job(job)
    finally:
        api.open_gate(hold)
        api.wait_idle(60)
    _report(section, setup, kilobytes, live, finished=False)
    _report(section, setup, kilobytes, _run_job(job), finished=True)


def _run_job(job: ResumeJob) -> dict[str, Any]:
    with Workers(resume_worker, [job]) as workers:
        result: dict[str, Any] = workers.collect("result", 180)[0]
    return result


def _report(
    section: Section,
    setup: dict[str, Any],
    kilobytes: int,
    result: dict[str, Any],
    *,
    finished: bool,
) -> None:
    database = setup["database"]
    stats = {}
    for name, values in result["samples"].items():
        ordered = sorted(values)
        stats[name] = (median(ordered), percentile(ordered, 90))
    setup = {
        **setup,
        "stream_text_kb": kilobytes,
        "stream_state": "finished" if finished else "active (model holding)",
        "snapshot_from": "database" if finished else "the generation (this process runs it)",
        "client": "1 process, open connections",
    }
    name = f"{database}: join a {'finished' if finished else 'live'} {kilobytes} KB answer"
    subscribe, query = stats["subscribe"][0], stats["query"][0]
    section.figure(
        name,
        setup,
        subscribe_first_event_p50_ms=round(subscribe, 2),
        subscribe_p90_ms=round(stats["subscribe"][1], 2),
        bare_query_p50_ms=round(query, 2),
        bare_query_p90_ms=round(stats["query"][1], 2),
        vs_bare_query_x=round(ratio(subscribe, query), 2),
        graphql_http_query_p50_ms=round(stats["http"][0], 2),
        ws_frame_floor_ms=round(stats["bare_ws"][0], 2),
        ws_frame_floor_x=round(ratio(stats["bare_ws"][0], query), 2),
        vs_graphql_http_x=round(ratio(subscribe, stats["http"][0]), 2),
        snapshot_frame_kb=round(result["frame_chars"] / 1024, 1),
    )
    if finished:
        return  # reported: the target is set on joining a stream being generated
    section.target(
        f"{database}, {kilobytes} KB: first event / bare query (p50)",
        ratio(subscribe, query),
        TARGET,
        higher=False,
        detail=f"{subscribe:.2f} ms vs {query:.2f} ms",
    )
