"""Real `chatgql serve` processes for scale-out tests, and small clients to talk to them.

Each node is `python -m gql_api.cli serve --port P` with its settings in `CHATGQL_*` variables,
its output in a log file, started only once `/health` answers, and stopped with SIGTERM then
SIGKILL. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from gql import GraphQLRequest

from gql_api.auth import mint_token
from gql_api.settings import Settings
from tests.servers import free_port, spawn
from tests.support import GraphQLErrors, graphql_ws

SECRET = "scale-out-test-secret-" + "y" * 40
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
MIGRATE_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parent.parent

# Fast failure detection, so that crash tests take seconds rather than minutes.
NODE_ENV = {
    "CHATGQL_ENV": "test",
    "CHATGQL_JWT_SECRET": SECRET,
    "CHATGQL_DEMO_TOKEN_DELAY_SECONDS": "0.003",
    "CHATGQL_FLUSH_INTERVAL_MS": "50",
    "CHATGQL_NODE_HEARTBEAT_SECONDS": "0.5",
    "CHATGQL_NODE_STALE_AFTER_SECONDS": "2",
    "CHATGQL_SWEEP_INTERVAL_SECONDS": "0.5",
    "CHATGQL_MAX_RUNNING_ANSWERS": "10000",
    "CHATGQL_MAX_SENDS_PER_MINUTE": "10000",
    "CHATGQL_DRAIN_GRACE_SECONDS": "3",
}


class NodeError(RuntimeError):
    pass


def node_env(database_url: str, broker_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a node: ours only, nothing inherited that could change its settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CHATGQL_") and key != "ANTHROPIC_API_KEY"
    }
    env.update(NODE_ENV)
    env.update(
        CHATGQL_DATABASE_URL=database_url,
        CHATGQL_BROKER_URL=broker_url,
        CHATGQL_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def migrate(env: dict[str, str], cwd: Path) -> None:
    """Run the migrations once, before nodes start (two nodes migrating at once could race)."""
    done = subprocess.run(
        [sys.executable, "-m", "gql_api.cli", "migrate"],
        env=env,
        cwd=cwd,
        capture_output=True,
        timeout=MIGRATE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise NodeError(f"migrate failed:\n{done.stdout.decode()}\n{done.stderr.decode()}")


@dataclass
class Node:
    """One `chatgql serve` process on 127.0.0.1."""

    name: str
    env: dict[str, str]
    directory: Path
    port: int = 0
    node_id: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start on a free port (another one if it was taken meanwhile); wait for /health."""
        for attempt in range(3):
            self.port = free_port()
            self.proc = self._spawn()
            try:
                self.node_id = self._wait_healthy()
                return
            except NodeError:
                self.stop()
                if attempt == 2:
                    raise

    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "gql_api.cli", "serve", "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--log-level", "warning"]
        with open(self.log_path, "ab") as log:
            log.write(f"---- {self.name} on port {self.port}\n".encode())
        return spawn(args, self.log_path, env=self.env, cwd=self.directory)

    def _wait_healthy(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise NodeError(f"{self.name} exited during startup:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    response = http.get("/health")
                    if response.status_code == 200:
                        node_id: str = response.json()["node"]
                        return node_id
                time.sleep(0.05)
        raise NodeError(f"{self.name} not healthy after {START_TIMEOUT}s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or announced."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait(STOP_TIMEOUT)

    def terminate(self) -> None:
        """SIGTERM, without waiting: the node drains (see wait_exit)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout: float) -> int:
        """The exit status once the process has ended (it is then no longer running)."""
        proc, self.proc = self.proc, None
        assert proc is not None
        return proc.wait(timeout)

    def stop(self) -> None:
        """SIGTERM (graceful: the node drains), then SIGKILL if it hangs."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextmanager
def run_nodes(
    count: int, *, database_url: str, broker_url: str, directory: Path, **extra: str
) -> Iterator[list[Node]]:
    """Migrate, then start `count` nodes one after another (A, B, ...); stop them all after."""
    env = node_env(database_url, broker_url, directory, **extra)
    migrate(env, directory)
    nodes = [Node(chr(ord("A") + i), env, directory) for i in range(count)]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


# ---------------------------------------------------------------- clients


RemoteError = GraphQLErrors  # the same error shape, from another process


def token_for(user: str) -> str:
    return mint_token(Settings(jwt_secret=SECRET, env="test"), user, name=user.title())


@dataclass
class Remote:
    """GraphQL over HTTP and websockets to one node, as one user."""

    node: Node
    http: httpx.AsyncClient
    user: str = "alice"
    token: str = field(init=False)

    def __post_init__(self) -> None:
        self.token = token_for(self.user)

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.node.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RemoteError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    def ws(self) -> AbstractAsyncContextManager[Any]:
        return graphql_ws(self.node.ws_url, self.token)

    async def subscribe_all(self, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
        """Collect a subscription's events until the server completes it."""
        async with self.ws() as session:
            request = GraphQLRequest(query, variable_values=variables)
            return [event async for event in session.subscribe(request)]


@asynccontextmanager
async def remotes(*nodes: Node, user: str = "alice") -> AsyncIterator[list[Remote]]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield [Remote(node, http, user) for node in nodes]


async def wait_until(predicate: Any, timeout: float, interval: float = 0.02) -> None:
    """Poll an async predicate until it is true; TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(interval)
