"""Benchmark 3: many conversations streaming at once (one subscriber each, 50 tokens/s each).

200 and 1,000 answers at once (50 in quick mode), each its own server: delivery latency, the
server's CPU (psutil on the server pid, % of one core) and the flush transactions per second that
all those streams share.
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
    counts = (50,) if ctx.quick else (200, 1000)
    seconds = 3 if ctx.quick else 10
    plan = Plan(tokens=50 * seconds, rate=50.0, size=32)
    for streams in counts:
        load = Load(subscribers=1, plan=plan, streams=streams, procs=2 if streams <= 200 else 4)
        try:
            with ctx.chatgql(f"streams-{streams}") as server:
                api = Api(server)
                try:
                    load_avg = load_average()
                    values = run_chatgql(server, api, load)
                finally:
                    api.close()
        except (TimeoutError, RuntimeError) as exc:
            # A count the server cannot keep up with is a result too: say so, try the next one.
            section.notes.append(f"{streams} streams: not measured, {type(exc).__name__}: {exc}")
            continue
        setup = {**load.setup("chatgql"), **ctx.stack("chatgql"), "load_avg": load_avg}
        section.figure(f"{streams} streams x 50 tokens/s", setup, **values)
    return section
