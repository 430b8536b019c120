"""Benchmark `peers`: chatgql beside the bare broadcast and two peers, one run, alternating.

The peers serve the same `streamEvents` frames to the same client processes (bench/clients.py)
at the same rates: a Node graphql-ws + graphql-js server (bench/peers/node, what a JavaScript
team would run) and an idiomatic Strawberry + broadcaster server (bench/peers/strawberry_peer.py,
what a Python team would write first). Three cases, each run on every system in turn: p99 at 50
tokens/s with 100 subscribers, unpaced fan-out to 100 subscribers (tokens/s and server CPU per
delivered frame), and one subscriber at 50 tokens/s (p50 and server CPU per token).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from bench.api import Api
from bench.common import load_average
from bench.context import RunContext
from bench.peers.servers import PEERS, peer_server, run_peer
from bench.provider import Plan
from bench.report import Section, ratio
from bench.runs import Load, run_bare, run_chatgql

SYSTEMS = ("chatgql", "bare", *PEERS)
Runner = Callable[[Load], dict[str, Any]]


WARMUP = Load(subscribers=5, plan=Plan(tokens=300, rate=0, size=32), procs=1, warmup=0)


def cases(quick: bool) -> dict[str, Load]:
    subscribers = 20 if quick else 100
    paced = Plan(tokens=150 if quick else 500, rate=50.0, size=32)
    unpaced = Plan(tokens=300 if quick else 2000, rate=0, size=32)
    return {
        "paced": Load(subscribers=subscribers, plan=paced, procs=2),
        "unpaced": Load(subscribers=subscribers, plan=unpaced, procs=2, warmup=0),
        "single": Load(subscribers=1, plan=paced, procs=1),
    }


def cpu_us_per_token(values: dict[str, Any]) -> float:
    """Server CPU over the run / tokens the model produced (one subscriber: one frame each)."""
    rate = values["tokens_per_s"]
    return round(values["server_cpu_pct"] / 100 / rate * 1e6, 1) if rate else float("nan")


def run(ctx: RunContext) -> Section:
    section = Section("peers")
    loads = cases(ctx.quick)
    measured: dict[tuple[str, str], dict[str, Any]] = {}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ctx.chatgql("peers"))
        bare = stack.enter_context(ctx.bare("peers"))
        peers = {kind: stack.enter_context(peer_server(kind, ctx.tmp("peers"))) for kind in PEERS}
        api = Api(server)
        stack.callback(api.close)
        runners: dict[str, Runner] = {
            "chatgql": lambda load: run_chatgql(server, api, load),
            "bare": lambda load: run_bare(bare, load),
            **{kind: _peer_runner(kind, peers[kind]) for kind in PEERS},
        }
        for system in SYSTEMS:  # JIT, caches and first connections, outside the figures
            runners[system](WARMUP)
        for case, load in loads.items():
            for system in SYSTEMS:
                load_avg = load_average()
                values = runners[system](load)
                if case == "single":
                    values["server_cpu_us_per_token"] = cpu_us_per_token(values)
                measured[(case, system)] = values
                setup = {**load.setup(system), **_stack(ctx, system), "load_avg": load_avg}
                section.figure(f"{system}, {_title(case, load)}", setup, **values)
    _ratios(section, measured)
    _targets(section, measured)
    return section


def _peer_runner(kind: str, server: Any) -> Runner:
    return lambda load: run_peer(kind, server, load)


def _stack(ctx: RunContext, system: str) -> dict[str, Any]:
    if system in PEERS:
        return {"database": "none", "broker": "memory" if system == "strawberry" else "none"}
    return ctx.stack(system)


def _title(case: str, load: Load) -> str:
    if case == "unpaced":
        return f"{load.subscribers} subscribers, unpaced"
    return f"{load.subscribers} subscriber(s), 50 tokens/s"


# (case, figure, what the ratio compares)
COMPARED = (
    ("paced", "p99_ms", "p99"),
    ("unpaced", "tokens_per_s", "fan-out tokens/s"),
    ("unpaced", "server_us_per_frame", "server CPU per frame"),
    ("single", "p50_ms", "1 subscriber p50"),
    ("single", "server_cpu_us_per_token", "1 subscriber server CPU per token"),
)


def _ratios(section: Section, measured: dict[tuple[str, str], dict[str, Any]]) -> None:
    for case, key, label in COMPARED:
        ours = measured[(case, "chatgql")].get(key)
        parts = []
        for other in SYSTEMS[1:]:
            theirs = measured[(case, other)].get(key)
            if ours and theirs:
                parts.append(f"{other} {theirs} ({ratio(ours, theirs):.2f}x)")
        section.notes.append(f"{label}: chatgql {ours} vs " + ", ".join(parts))


def _targets(section: Section, measured: dict[tuple[str, str], dict[str, Any]]) -> None:
    def value(case: str, system: str, key: str) -> float:
        return float(measured[(case, system)].get(key) or float("nan"))

    p99 = value("paced", "chatgql", "p99_ms")
    section.target(
        "p99 chatgql/bare", ratio(p99, value("paced", "bare", "p99_ms")), 1.5, higher=False
    )
    section.target(
        "p99 chatgql/node", ratio(p99, value("paced", "node", "p99_ms")), 1.0, higher=False
    )
    fanout = value("unpaced", "chatgql", "tokens_per_s")
    section.target(
        "fan-out chatgql/bare",
        ratio(fanout, value("unpaced", "bare", "tokens_per_s")),
        0.7,
        higher=True,
    )
    gap = value("single", "chatgql", "p50_ms") - value("single", "bare", "p50_ms")
    section.target("1 subscriber p50 - bare's (ms)", gap, 0.3, higher=False)
    section.target(
        "1 subscriber server CPU per token (us)",
        value("single", "chatgql", "server_cpu_us_per_token"),
        60.0,
        higher=False,
    )
