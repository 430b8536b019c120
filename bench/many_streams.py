"""Benchmark 3: many conversations streaming at once (one subscriber each, 50 tokens/s each).

Reports delivery latency and the server's CPU (psutil on the server pid, % of one core) and the
flush transactions per second that all those streams share.
"""

from __future__ import annotations

from bench.api import Api
from bench.common import load_average
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section
from bench.runs import Load, run_chatgql


def run(ctx: RunContext) -> Section:
    section = Section("streams")
    streams = 50 if ctx.quick else 200
    seconds = 3 if ctx.quick else 10
    plan = Plan(tokens=50 * seconds, rate=50.0, size=32)
    load = Load(subscribers=1, plan=plan, streams=streams, procs=2)
    with ctx.chatgql("streams") as server:
        api = Api(server)
        try:
            load_avg = load_average()
            values = run_chatgql(server, api, load)
        finally:
            api.close()
    setup = {**load.setup("chatgql"), **ctx.stack("chatgql"), "load_avg": load_avg}
    section.figure(f"{streams} streams x 50 tokens/s", setup, **values)
    return section
