"""Benchmark 2: fan-out throughput, tokens delivered per second with the model unpaced.

One stream, N subscribers, the model yielding as fast as it can; beside it the bare websocket
server broadcasting the same frames to the same client processes. Delivered = stamped tokens that
reached a subscriber (chatgql may merge queued deltas of a slow subscriber into one frame, so
frames/s is reported as well). Target: chatgql >= 50% of the baseline.
"""

from __future__ import annotations

from statistics import median

from bench.api import Api
from bench.common import load_average
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section, ratio
from bench.runs import Load, run_bare, run_chatgql


def run(ctx: RunContext) -> Section:
    section = Section("fanout")
    subscribers = 20 if ctx.quick else 100
    tokens = 300 if ctx.quick else 2000
    repeats = 1 if ctx.quick else 2
    plan = Plan(tokens=tokens, rate=0, size=32)
    load = Load(subscribers=subscribers, plan=plan, procs=2, warmup=0)
    rates: dict[str, list[float]] = {"chatgql": [], "bare": []}
    with (
        ctx.chatgql("fanout") as server,
        ctx.bare("fanout") as bare,
    ):
        api = Api(server)
        try:
            for attempt in range(1, repeats + 1):
                for system in ("chatgql", "bare"):
                    load_avg = load_average()
                    values = (
                        run_chatgql(server, api, load)
                        if system == "chatgql"
                        else run_bare(bare, load)
                    )
                    setup = {**load.setup(system), **ctx.stack(system), "load_avg": load_avg}
                    section.figure(f"{system} unpaced, run {attempt}", setup, **values)
                    rates[system].append(values["tokens_per_s"])
        finally:
            api.close()
    chatgql, baseline = median(rates["chatgql"]), median(rates["bare"])
    section.target(
        "throughput chatgql/bare",
        ratio(chatgql, baseline),
        0.5,
        higher=True,
        detail=f"median {chatgql:,.0f} vs {baseline:,.0f} tokens/s over {repeats} run(s)",
    )
    return section
