"""The peers' processes: the Node graphql-ws server (npm packages installed when missing) and the
idiomatic Strawberry server; one streaming run against either, like `bench.runs.run_bare`."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench.clients import SubscribeJob, subscribe_worker
from bench.common import ROOT, START_TIMEOUT, CpuWindow, Server, Workers, split, stop_process
from bench.provider import FILLER
from bench.runs import SETUP_TIMEOUT, Load, summarize
from tests.servers import free_port, spawn, tail

NODE_DIR = Path(__file__).resolve().parent / "node"
PEERS = ("node", "strawberry")


def install_node_packages() -> None:
    """`npm ci` from the lockfile, once, when node_modules is missing."""
    if (NODE_DIR / "node_modules" / "graphql-ws").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("the node peer needs node and npm on the PATH")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        check=True,
        capture_output=True,
        timeout=300,
    )


def _wait_healthy(server: Server, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        server.check_alive()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code < 500:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"peer did not answer on {url}:\n{tail(server.log)}")
        time.sleep(0.1)


@contextlib.contextmanager
def peer_server(kind: str, tmp: Path) -> Iterator[Server]:
    """`node`: bench/peers/node/server.mjs; `strawberry`: bench.peers.strawberry_peer."""
    port = free_port()
    log = tmp / f"{kind}-{port}.log"
    if kind == "node":
        install_node_packages()
        args = [shutil.which("node") or "node", str(NODE_DIR / "server.mjs"), str(port)]
    elif kind == "strawberry":
        args = [sys.executable, "-m", "bench.peers.strawberry_peer", "--port", str(port)]
    else:
        raise ValueError(f"unknown peer {kind!r}; choose from {PEERS}")
    proc = spawn(args, log, cwd=ROOT)
    server = Server(proc, port, log)
    try:
        _wait_healthy(server, f"http://127.0.0.1:{port}/health")
        yield server
    finally:
        stop_process(proc)


def run_peer(kind: str, server: Server, load: Load) -> dict[str, Any]:
    """One stream of `load.plan` through a peer to `load.subscribers` subscribers."""
    url = f"ws://127.0.0.1:{server.port}/graphql"
    subscriptions = ["1"] * load.subscribers
    jobs = [
        SubscribeJob(
            mode="graphql",
            url=url,
            token="peer",
            streams=part,
            warmup=load.warmup,
            timeout=SETUP_TIMEOUT + load.run_timeout + 30,
        )
        for part in split(subscriptions, load.procs)
    ]
    plan: dict[str, Any] = asdict(load.plan)
    if kind == "node":
        plan["filler"] = FILLER
    with Workers(subscribe_worker, jobs) as workers:
        workers.collect("ready", SETUP_TIMEOUT)
        cpu = CpuWindow(server.pid)
        response = httpx.post(
            f"http://127.0.0.1:{server.port}/go", json=plan, timeout=load.run_timeout
        )
        response.raise_for_status()
        results = workers.collect("result", load.run_timeout)
        cpu_pct = cpu.stop()
    summary = summarize(results, load, cpu_pct)
    summary["server_rss_mb"] = round(server.rss() / 2**20, 1)
    return summary
