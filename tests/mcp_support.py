"""Starts the test MCP server (tests/mcp_server.py) and describes it as operator config."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from gql_api.tools.mcp_config import McpServerConfig

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_SECONDS = 60  # importing the SDK takes seconds on a busy machine


def stdio_server(name: str = "local", *, many: bool = False, **options: object) -> McpServerConfig:
    args = ["-m", "tests.mcp_server", "stdio", *(["--many"] if many else [])]
    values: dict[str, object] = {
        "name": name,
        "transport": "stdio",
        "command": sys.executable,
        "args": args,
        "env_from_env": {"PYTHONPATH": "CHATGQL_TEST_PYTHONPATH"},
        "approval": "always",
    }
    values.update(options)
    os.environ["CHATGQL_TEST_PYTHONPATH"] = str(ROOT)
    return McpServerConfig.model_validate(values)


def http_server(url: str, name: str = "remote", **options: object) -> McpServerConfig:
    values: dict[str, object] = {
        "name": name,
        "transport": "streamable-http",
        "url": url,
        "approval": "always",
    }
    values.update(options)
    return McpServerConfig.model_validate(values)


class HttpMcpServer:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process, self.port = process, port
        self.url = f"http://127.0.0.1:{port}/mcp"

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


@asynccontextmanager
async def running_http_server(*, many: bool = False) -> AsyncIterator[HttpMcpServer]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.mcp_server",
        "http",
        *(["--many"] if many else []),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    server: HttpMcpServer | None = None
    try:
        assert process.stdout is not None
        async with asyncio.timeout(SERVER_START_SECONDS):
            line = await process.stdout.readline()
        server = HttpMcpServer(process, int(line))
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
