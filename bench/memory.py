"""Benchmark 6: server memory per idle subscription (RSS growth over 1,000 subscriptions).

Idle: subscribed to an active stream whose model has not produced anything yet. Measured once
with one subscription per websocket (includes the whole connection) and once with 50
subscriptions multiplexed per websocket (the subscription alone; graphql-ws clients multiplex a
tab's subscriptions on one socket). RSS of the server pid is read
after a warm-up batch, then after the measured batch has settled. Target: <= 50 KB each.
"""

from __future__ import annotations

import gc
import time

from bench.api import Api, gate_name
from bench.clients import SubscribeJob, subscribe_worker
from bench.common import Server, Workers, split
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section

TARGET_KB = 50.0
SETTLE_SECONDS = 1.5


def run(ctx: RunContext) -> Section:
    section = Section("memory")
    count = 300 if ctx.quick else 1000
    for per_connection in (1, 50):
        with ctx.chatgql(f"memory-{per_connection}") as server:
            api = Api(server)
            try:
                per_sub_kb, values = _measure(server, api, count, per_connection)
            finally:
                api.close()
        setup = {
            "subscriptions": count,
            "per_websocket": per_connection,
            "stream": "1 active, idle (model gated)",
            **ctx.stack("chatgql"),
        }
        label = "own websocket each" if per_connection == 1 else "50 per websocket"
        section.figure(
            f"idle subscriptions, {label}", setup, kb_per_subscription=per_sub_kb, **values
        )
        section.target(f"RSS per idle subscription ({label})", per_sub_kb, TARGET_KB, higher=False)
    return section


def _measure(server: Server, api: Api, count: int, per_connection: int) -> tuple[float, dict]:
    gate = gate_name()
    stream_id, _ = api.start(Plan(tokens=1, rate=0, gate=gate))
    warmup = 50

    def jobs(n: int) -> list[SubscribeJob]:
        return [
            SubscribeJob(
                mode="graphql",
                url=api.ws_url,
                token=api.token,
                streams=part,
                per_connection=per_connection,
                hold=True,
                timeout=300,
            )
            for part in split([stream_id] * n, 2)
        ]

    try:
        with Workers(subscribe_worker, jobs(warmup)) as first:
            first.collect("ready", 120)
            time.sleep(SETTLE_SECONDS)
            before = server.rss()
            with Workers(subscribe_worker, jobs(count)) as second:
                ready = second.collect("ready", 180)
                time.sleep(SETTLE_SECONDS)
                after = server.rss()
                subscribed = api.stats()["subscriptions"]
                second.tell("stop")
                second.collect("result", 60)
            first.tell("stop")
            first.collect("result", 60)
    finally:
        api.open_gate(gate)
        api.wait_idle(30)
    gc.collect()
    errors = sum(len(r["errors"]) for r in ready)
    per_sub_kb = round((after - before) / count / 1024, 1)
    return per_sub_kb, {
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "broker_subscriptions": subscribed,
        "errors": errors,
    }
