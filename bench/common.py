"""Processes for a run: the server under test, the baseline server, client workers; all bounded.

Everything started here is stopped by the context managers that start it, on errors too: servers
get SIGTERM then SIGKILL, workers `terminate()` then `kill()`, and every process started with
PR_SET_PDEATHSIG dies with the benchmark if the benchmark itself is killed.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.servers import free_port, reap, spawn, tail

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-" + secrets.token_urlsafe(48)
START_TIMEOUT = 60.0


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    reap(proc, signal.SIGTERM)


@dataclass
class Server:
    """A server process on a loopback port."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited ({self.proc.returncode}):\n{tail(self.log)}")


def _wait_port(server: Server, deadline: float) -> None:
    while True:
        server.check_alive()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not listen on {server.port}:\n{tail(server.log)}")
        time.sleep(0.05)


@contextlib.contextmanager
def chatgql_server(
    tmp: Path,
    *,
    database_url: str,
    broker_url: str = "memory://",
    options: Sequence[str] = (),
    **settings: str,
) -> Iterator[Server]:
    """`python -m bench.server`: the real app with the stamped model; CHATGQL_* from arguments,
    what-if `options` (bench/options.py) from BENCH_OPTIONS."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        CHATGQL_ENV="production",
        CHATGQL_JWT_SECRET=SECRET,
        CHATGQL_DATABASE_URL=database_url,
        CHATGQL_BROKER_URL=broker_url,
        CHATGQL_DATA_DIR=str(tmp / "var"),
        CHATGQL_ANTHROPIC_API_KEY="",
        ANTHROPIC_API_KEY="",
        # One bench user drives hundreds of answers: the per-user limits are not measured here.
        CHATGQL_MAX_RUNNING_ANSWERS="100000",
        CHATGQL_MAX_SENDS_PER_MINUTE="100000",
        BENCH_OPTIONS=",".join(options),
    )
    env.update({f"CHATGQL_{key.upper()}": value for key, value in settings.items()})
    log = tmp / f"chatgql-{port}.log"
    proc = spawn(
        [sys.executable, "-m", "bench.server", "--port", str(port)], log, env=env, cwd=ROOT
    )
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        _wait_port(server, deadline)
        while httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not healthy:\n{tail(log)}")
            time.sleep(0.1)
        yield server
    finally:
        stop_process(proc)


@contextlib.contextmanager
def bare_server(tmp: Path, options: Sequence[str] = ()) -> Iterator[Server]:
    port = free_port()
    log = tmp / f"bare-{port}.log"
    # Without compression, like chatgql (gql_api.cli.SERVER_OPTIONS): a fair comparison.
    args = [sys.executable, "-m", "bench.bare", "--port", str(port), "--no-deflate"]
    proc = spawn(args, log, cwd=ROOT)
    server = Server(proc, port, log)
    try:
        _wait_port(server, time.monotonic() + START_TIMEOUT)
        yield server
    finally:
        stop_process(proc)


@dataclass
class Workers:
    """Client processes (spawned, so nothing is shared with this one), each `target(job, conn)`."""

    target: Callable[[Any, Connection], None]
    jobs: Sequence[Any]
    procs: list[Any] = field(default_factory=list)
    conns: list[Connection] = field(default_factory=list)

    def __enter__(self) -> Workers:
        ctx = mp.get_context("spawn")
        for job in self.jobs:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=self.target, args=(job, child), daemon=True)
            proc.start()
            child.close()
            self.procs.append(proc)
            self.conns.append(parent)
        return self

    def collect(self, kind: str, timeout: float) -> list[Any]:
        """One `(kind, payload)` message from each worker, within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        found = []
        for index, conn in enumerate(self.conns):
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"worker {index} sent no {kind!r} within {timeout:.0f}s")
            try:
                got, payload = conn.recv()
            except EOFError:
                code = self.procs[index].exitcode
                raise RuntimeError(f"worker {index} died (exit code {code})") from None
            if got != kind:
                raise RuntimeError(f"worker {index} sent {got!r} instead of {kind!r}: {payload}")
            found.append(payload)
        return found

    def tell(self, message: Any) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(message)

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            proc.join(timeout=0.1 if proc.is_alive() else 0)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for conn in self.conns:
            conn.close()


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """`items` dealt round-robin into `parts` non-empty lists (fewer if there are few items)."""
    parts = max(1, min(parts, len(items)))
    return [list(items[i::parts]) for i in range(parts)]


class CpuWindow:
    """CPU used by one process between start and stop, in % of one core."""

    def __init__(self, pid: int) -> None:
        self._proc = psutil.Process(pid)
        times = self._proc.cpu_times()
        self._cpu = times.user + times.system
        self._wall = time.monotonic()

    def stop(self) -> float:
        times = self._proc.cpu_times()
        wall = time.monotonic() - self._wall
        return round(100 * (times.user + times.system - self._cpu) / max(wall, 1e-9), 1)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (`q` in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return float(ordered[rank - 1])


def load_average() -> float:
    return round(os.getloadavg()[0], 2)
