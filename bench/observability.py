"""What metrics and logs cost: fan-out throughput and latency with them off and on, one run.

Two servers, identical but for their settings: `off` counts nothing (CHATGQL_METRICS=false,
no /metrics) and logs warnings only; `on` counts everything, writes a JSON line per request
and operation, and is scraped every 5 s while it works (Prometheus scrapes every 15 s or
so: this is a harsher case). Runs alternate (off, on, then on, off, ...) on a machine that may
be shared, and the medians are compared. Target: each figure moves by less than 5%: fan-out
throughput, latency p50 and p99, and the server's CPU per delivered frame (the cost itself,
which competing processes disturb less than the wall-clock figures).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from statistics import median
from typing import Any

import httpx

from bench.api import Api
from bench.common import Server, load_average
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section, ratio
from bench.runs import Load, run_chatgql

MODES = {
    "off": {"metrics": "false", "log_level": "warning", "log_format": "text"},
    "on": {"metrics": "true", "log_level": "info", "log_format": "json"},
}
SCRAPE_SECONDS = 5.0
LIMIT = 0.05


@contextlib.contextmanager
def scraping(server: Server) -> Iterator[list[int]]:
    """GET /metrics every SCRAPE_SECONDS in a thread; yields the list of response sizes."""
    sizes: list[int] = []
    stop = threading.Event()

    def scrape() -> None:
        with httpx.Client(timeout=10) as http:
            while not stop.wait(SCRAPE_SECONDS):
                response = http.get(f"http://127.0.0.1:{server.port}/metrics")
                response.raise_for_status()
                sizes.append(len(response.content))

    thread = threading.Thread(target=scrape, daemon=True)
    thread.start()
    try:
        yield sizes
    finally:
        stop.set()
        thread.join(15)


def per_frame(
    cpu: dict[tuple[str, str], list[float]], bench: str, mode: str, values: dict[str, Any]
) -> None:
    if values.get("server_us_per_frame") is not None:
        cpu.setdefault((bench, mode), []).append(values["server_us_per_frame"])


def run(ctx: RunContext) -> Section:
    section = Section("observability")
    repeats = 2 if ctx.quick else 4
    fanout = Load(
        subscribers=20 if ctx.quick else 100,
        plan=Plan(tokens=300 if ctx.quick else 2000, rate=0, size=32),
        procs=2,
        warmup=0,
    )
    rate, seconds = 50.0, 3 if ctx.quick else 8
    latency = Load(
        subscribers=50 if ctx.quick else 100,
        plan=Plan(tokens=int(rate * seconds), rate=rate, size=32),
        procs=2,
    )
    tokens_per_s: dict[str, list[float]] = {"off": [], "on": []}
    p50: dict[str, list[float]] = {"off": [], "on": []}
    p99: dict[str, list[float]] = {"off": [], "on": []}
    # Server CPU per delivered frame: the cost itself, steadier than wall-clock figures when
    # other processes compete for the cores.
    cpu: dict[tuple[str, str], list[float]] = {}
    with (
        ctx.chatgql("observability-off", **MODES["off"]) as off,
        ctx.chatgql("observability-on", **MODES["on"]) as on,
    ):
        servers = {"off": off, "on": on}
        apis = {mode: Api(server) for mode, server in servers.items()}
        try:
            for attempt in range(1, repeats + 1):
                order = ("off", "on") if attempt % 2 else ("on", "off")
                for mode in order:
                    server, api = servers[mode], apis[mode]
                    scraper: contextlib.AbstractContextManager[list[int]] = (
                        scraping(server) if mode == "on" else contextlib.nullcontext([])
                    )
                    with scraper as scrapes:
                        setup = {"metrics_and_logs": mode, **ctx.stack("chatgql")}
                        load_avg = load_average()
                        values = run_chatgql(server, api, fanout)
                        section.figure(
                            f"fanout, metrics+logs {mode}, run {attempt}",
                            {**fanout.setup("chatgql"), **setup, "load_avg": load_avg},
                            **values,
                        )
                        tokens_per_s[mode].append(values["tokens_per_s"])
                        per_frame(cpu, "fanout", mode, values)
                        load_avg = load_average()
                        values = run_chatgql(server, api, latency)
                        section.figure(
                            f"latency, metrics+logs {mode}, run {attempt}",
                            {**latency.setup("chatgql"), **setup, "load_avg": load_avg},
                            scrapes=len(scrapes),
                            **values,
                        )
                        p50[mode].append(values["p50_ms"])
                        p99[mode].append(values["p99_ms"])
                        per_frame(cpu, "latency", mode, values)
        finally:
            for api in apis.values():
                api.close()
    runs = f"medians of {repeats} alternating run(s)"
    section.target(
        "fanout throughput on/off",
        ratio(median(tokens_per_s["on"]), median(tokens_per_s["off"])),
        1 - LIMIT,
        higher=True,
        detail=f"{median(tokens_per_s['on']):,.0f} vs {median(tokens_per_s['off']):,.0f} "
        f"tokens/s, {runs}",
    )
    for name, figures in (("p50", p50), ("p99", p99)):
        on_ms, off_ms = median(figures["on"]), median(figures["off"])
        section.target(
            f"latency {name} on/off at {latency.subscribers} subscribers",
            ratio(on_ms, off_ms),
            1 + LIMIT,
            higher=False,
            detail=f"{on_ms} ms vs {off_ms} ms, {runs}",
        )
    for bench in ("fanout", "latency"):
        if not cpu.get((bench, "on")) or not cpu.get((bench, "off")):
            continue  # too few frames per second for a figure (bench/runs.py)
        on_us, off_us = median(cpu[(bench, "on")]), median(cpu[(bench, "off")])
        section.target(
            f"{bench}: server CPU per frame on/off",
            ratio(on_us, off_us),
            1 + LIMIT,
            higher=False,
            detail=f"{on_us} us vs {off_us} us, {runs}",
        )
    return section
