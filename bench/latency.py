"""Benchmark 1 (and 2b): token-to-subscriber latency on one stream at 50 tokens/s.

p50/p99 for 1, 100 and 1,000 subscribers, with the bare websocket server at the same rate and
the same client processes as the baseline. Target: chatgql p99 at 100 subscribers <= 2x the
baseline's.
"""

from __future__ import annotations

from statistics import median

from bench.api import Api
from bench.common import load_average
from bench.context import RunContext
from bench.floor import graphql_us_per_event
from bench.provider import Plan
from bench.report import Section, ratio
from bench.runs import Load, run_bare, run_chatgql


def run(ctx: RunContext) -> Section:
    section = Section("latency")
    counts = (1, 50) if ctx.quick else (1, 100, 1000)
    middle = counts[1]  # the subscriber count the target is about
    repeats = 1 if ctx.quick else 3  # at `middle`, alternating, as the machine may be noisy
    seconds = 3 if ctx.quick else 10
    rate = 50.0
    p99: dict[tuple[str, int], list[float]] = {}
    with ctx.chatgql("latency") as server, ctx.bare("latency") as bare:
        api = Api(server)
        try:
            for count in counts:
                plan = Plan(tokens=int(rate * seconds), rate=rate, size=32)
                load = Load(subscribers=count, plan=plan, procs=_procs(count))
                runs = repeats if count == middle else 1
                for attempt in range(1, runs + 1):
                    for system in ("chatgql", "bare"):
                        load_avg = load_average()
                        if system == "chatgql":
                            values = run_chatgql(server, api, load)
                        else:
                            values = run_bare(bare, load)
                        setup = {**load.setup(system), **ctx.stack(system), "load_avg": load_avg}
                        name = f"{system} {count} subscribers"
                        section.figure(
                            name + (f", run {attempt}" if runs > 1 else ""), setup, **values
                        )
                        p99.setdefault((system, count), []).append(values["p99_ms"])
        finally:
            api.close()
    floor = graphql_us_per_event()
    section.figure(
        "GraphQL floor per delivery (Strawberry, in-process, no I/O)",
        {"document": "the subscription the clients send", "events": 20_000},
        us_per_delivery=floor,
    )
    ours, theirs = median(p99[("chatgql", middle)]), median(p99[("bare", middle)])
    section.target(
        f"p99 chatgql/bare at {middle} subscribers",
        ratio(ours, theirs),
        2.0,
        higher=False,
        detail=f"median p99 {ours} ms vs {theirs} ms over {repeats} alternating run(s)",
    )
    if 1000 in counts:
        ours, theirs = p99[("chatgql", 1000)][0], p99[("bare", 1000)][0]
        section.notes.append(
            f"1,000 subscribers: chatgql p99 {ours} ms, bare p99 {theirs} ms "
            f"(ratio {ratio(ours, theirs):.1f}x)"
        )
    return section


def _procs(subscribers: int) -> int:
    return 1 if subscribers < 50 else 2 if subscribers <= 200 else 4
