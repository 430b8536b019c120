"""One measured streaming run: start the stream(s), subscribe from worker processes, open the
gate, collect the stamps; the same for chatgql and for the bare websocket baseline."""

from __future__ import annotations

import json
import time
from array import array
from dataclasses import asdict, dataclass, replace
from typing import Any

from websockets.sync.client import connect

from bench.api import Api, gate_name
from bench.clients import SubscribeJob, subscribe_worker
from bench.common import CpuWindow, Server, Workers, percentile, split
from bench.provider import Plan

SETUP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Load:
    subscribers: int  # per stream
    plan: Plan
    streams: int = 1
    procs: int = 1  # client processes
    warmup: int = 10  # first tokens of each stream left out of the latency figures

    def setup(self, system: str) -> dict[str, Any]:
        rate = "unpaced" if self.plan.rate <= 0 else f"{self.plan.rate:g}/s"
        return {
            "system": system,
            "streams": self.streams,
            "subscribers": self.subscribers * self.streams,
            "tokens": self.plan.tokens,
            "token_rate": rate,
            "payload_chars": self.plan.size,
            "client_procs": self.procs,
        }

    @property
    def run_timeout(self) -> float:
        seconds = self.plan.tokens / self.plan.rate if self.plan.rate > 0 else 0.0
        return 3 * seconds + 60.0


def _jobs(load: Load, mode: str, url: str, token: str, streams: list[str]) -> list[SubscribeJob]:
    subscriptions = [s for s in streams for _ in range(load.subscribers)]
    return [
        SubscribeJob(
            mode=mode,
            url=url,
            token=token,
            streams=part,
            warmup=load.warmup,
            timeout=SETUP_TIMEOUT + load.run_timeout + 30,
        )
        for part in split(subscriptions, load.procs)
    ]


def run_chatgql(server: Server, api: Api, load: Load) -> dict[str, Any]:
    plan = replace(load.plan, gate=gate_name())
    streams = [api.start(plan)[0] for _ in range(load.streams)]
    jobs = _jobs(load, "graphql", api.ws_url, api.token, streams)
    with Workers(subscribe_worker, jobs) as workers:
        workers.collect("ready", SETUP_TIMEOUT)
        before = api.stats()
        cpu = CpuWindow(server.pid)
        started = time.monotonic()
        api.open_gate(plan.gate)
        results = workers.collect("result", load.run_timeout)
        cpu_pct, wall = cpu.stop(), time.monotonic() - started
        after = api.stats()
    api.wait_idle(30)
    summary = summarize(results, load, cpu_pct)
    summary["flushes_per_s"] = round(
        (after["flusher_transactions"] - before["flusher_transactions"]) / wall, 1
    )
    summary["server_rss_mb"] = round(server.rss() / 2**20, 1)
    return summary


def run_bare(server: Server, load: Load) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}"
    jobs = _jobs(load, "bare", url, "", ["bare"])
    with Workers(subscribe_worker, jobs) as workers:
        workers.collect("ready", SETUP_TIMEOUT)
        cpu = CpuWindow(server.pid)
        with connect(url, open_timeout=30, close_timeout=5) as control:
            control.send(json.dumps({"type": "go", "plan": asdict(load.plan)}))
            control.recv(timeout=load.run_timeout)
        results = workers.collect("result", load.run_timeout)
        cpu_pct = cpu.stop()
    summary = summarize(results, load, cpu_pct)
    summary["server_rss_mb"] = round(server.rss() / 2**20, 1)
    return summary


def summarize(results: list[dict[str, Any]], load: Load, cpu_pct: float) -> dict[str, Any]:
    latencies: array[int] = array("q")
    for result in results:
        latencies.extend(result["latencies_us"])
    ordered = sorted(latencies)
    tokens = sum(r["tokens"] for r in results)
    firsts = [r["first_stamp_ns"] for r in results if r["first_stamp_ns"]]
    lasts = [r["last_recv_ns"] for r in results if r["last_recv_ns"]]
    span = (max(lasts) - min(firsts)) / 1e9 if firsts and lasts else float("nan")
    errors = [e for r in results for e in r["errors"]]
    expected = load.streams * load.subscribers * load.plan.tokens
    frames = sum(r["frames"] for r in results)
    return {
        "p50_ms": round(percentile(ordered, 50) / 1000, 2),
        "p90_ms": round(percentile(ordered, 90) / 1000, 2),
        "p99_ms": round(percentile(ordered, 99) / 1000, 2),
        "max_ms": round(percentile(ordered, 100) / 1000, 2),
        "delivered": round(tokens / expected, 4) if expected else 0.0,
        "tokens_per_s": round(tokens / span) if span == span and span > 0 else float("nan"),
        "frames_per_s": round(frames / span) if span > 0 else 0,
        "tokens_per_frame": round(tokens / max(1, frames), 2),
        "server_cpu_pct": cpu_pct,
        # CPU per delivery; under ~1,000 frames/s the server's idle work (flushes, heartbeats)
        # would dominate it, so it is left out.
        "server_us_per_frame": (
            round(cpu_pct / 100 / frames * span * 1e6, 1) if frames >= 1000 * span else None
        ),
        "errors": len(errors) + sum(bool(r["timed_out"]) for r in results),
        **({"first_error": errors[0][:200]} if errors else {}),
    }
