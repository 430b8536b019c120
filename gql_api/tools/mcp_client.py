"""Connections to MCP servers through the official `mcp` SDK, one owner task each.

The SDK's transports and `ClientSession` are anyio context managers whose cancel scopes must be
entered and exited by the same task (otherwise: "exit cancel scope in a different task", and
loops spinning on a half-closed stream). So each connection has one owner task that opens the
transport, initializes, lists the tools, runs calls in its own task group and closes it all;
callers talk to it through a queue and futures. A caller that gives up (a stop, a timeout)
cancels only its own call's scope: the connection and the other calls go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import anyio.abc
import httpx
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError

from gql_api.tools.mcp_config import McpServerConfig

log = logging.getLogger(__name__)
Status = Literal["idle", "connecting", "ready", "failed"]
MAX_TOOLS = 1000  # a server listing more is cut here: every tool costs model context
# JSON-RPC error codes of a transport that went away (the SDK's CONNECTION_CLOSED) or failed.
_LOST_CODES = {-32000}


class McpUnavailable(Exception):
    """The server cannot be reached (or went away mid-call)."""


@dataclass(eq=False)
class _Call:
    name: str
    arguments: dict[str, Any]
    future: asyncio.Future[types.CallToolResult]
    scope: anyio.CancelScope | None = None
    abandoned: bool = False


@dataclass(frozen=True)
class ConnectionLimits:
    connect_timeout: float = 10.0
    idle_seconds: float = 300.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    ping_interval: float = 5.0  # while calls run: how soon a vanished server is noticed


class McpConnection:
    """One (user, server) connection. Opened on demand, closed when idle, retried with backoff."""

    def __init__(self, config: McpServerConfig, limits: ConnectionLimits) -> None:
        self.config = config
        self._limits = limits
        self.status: Status = "idle"
        self.last_error: str | None = None
        self.tools: list[types.Tool] | None = None
        self.connects = 0  # sessions opened, for tests that prove reuse and reconnection
        self.attempts = 0  # tries to open one, for tests of the backoff
        self._queue: asyncio.Queue[_Call | None] = asyncio.Queue()
        self._owner: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._failures = 0
        self._retry_at = 0.0
        self._in_flight = 0
        self._closing = False
        self._was_ready = False

    async def list_tools(self) -> list[types.Tool]:
        """The server's tools, connecting first if needed; McpUnavailable when it cannot."""
        if self.status == "ready" and self.tools is not None and self._running():
            return self.tools
        if self.status == "failed" and self._loop_time() < self._retry_at:
            raise McpUnavailable(self.last_error or "unavailable")
        self._changed.clear()
        self._ensure_owner()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._limits.connect_timeout + 1):
                while self.status not in ("ready", "failed"):
                    await self._changed.wait()
                    self._changed.clear()
        if self.status != "ready" or self.tools is None:
            raise McpUnavailable(self.last_error or "the server did not answer in time")
        return self.tools

    async def call(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Run one tool call. Cancelling the caller cancels this call only."""
        call = _Call(name, arguments, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(call)
        self._ensure_owner()
        try:
            return await asyncio.shield(call.future)
        except asyncio.CancelledError:
            call.abandoned = True
            # Its outcome is no one's now: retrieved here so asyncio does not log it.
            call.future.add_done_callback(lambda f: f.cancelled() or f.exception())
            if call.scope is not None:
                call.scope.cancel()
            raise

    async def close(self) -> None:
        self._closing = True
        owner = self._owner
        if owner is not None and not owner.done():
            self._queue.put_nowait(None)
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(owner)
            except (TimeoutError, Exception):
                owner.cancel()
                await asyncio.gather(owner, return_exceptions=True)
        self._fail_queued("the connection was closed")

    def _running(self) -> bool:
        # The owner asking from its own last lines is on its way out: it counts as gone.
        owner = self._owner
        return owner is not None and not owner.done() and owner is not asyncio.current_task()

    def _ensure_owner(self) -> None:
        if not self._running() and not self._closing:
            self.status = "connecting"  # waiters wait for this attempt, not the last one's end
            self._owner = asyncio.create_task(self._own(), name=f"chatgql-mcp-{self.config.name}")

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()

    def _set(self, status: Status, error: str | None = None) -> None:
        self.status = status
        if error is not None:
            self.last_error = error
        self._changed.set()

    async def _own(self) -> None:
        delay = self._retry_at - self._loop_time()
        if delay > 0:
            await asyncio.sleep(delay)
        self._set("connecting")
        self.attempts += 1
        self._was_ready = False
        try:
            await self._session()
        except asyncio.CancelledError:
            self._set("idle")
            self._fail_queued("the connection was closed")
            raise
        except BaseException as exc:  # noqa: BLE001 - anyio task groups raise groups
            self._failures += 1
            backoff = self._limits.backoff_initial * 2 ** (self._failures - 1)
            self._retry_at = self._loop_time() + min(self._limits.backoff_max, backoff)
            message = describe(exc)
            log.warning("MCP server %s unavailable: %s", self.config.name, message)
            self._set("failed", message)
            if not isinstance(exc, Exception | BaseExceptionGroup):
                raise
            if self._was_ready and not self._closing:
                # Lost after it worked: calls that came meanwhile wait for the reconnection.
                if not self._queue.empty():
                    self._ensure_owner()
            else:
                self._fail_queued(message)
            return
        self._set("idle")
        if not self._queue.empty() and not self._closing:
            self._ensure_owner()  # a call came in as the idle connection closed

    async def _session(self) -> None:
        lost: list[Exception] = []
        group: anyio.abc.TaskGroup | None = None

        async def on_message(message: Any) -> None:
            # The Streamable HTTP transport reports a failed request (the server went away,
            # an error status) as a bare exception, without the request it belongs to: the
            # pending calls would wait for ever. The connection is treated as lost instead.
            if isinstance(message, Exception) and not lost:
                lost.append(message)
                self._set("failed", describe(message))
                if group is not None:
                    group.cancel_scope.cancel()

        async with (
            self._transport() as (read, write),
            ClientSession(read, write, message_handler=on_message) as session,
        ):
            with anyio.fail_after(self._limits.connect_timeout):
                await session.initialize()
                self.tools = await _list_all(session)
            self.connects += 1
            self._failures = 0
            self._was_ready = True
            self._set("ready")
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch, session, lost, on_message)
                while not lost:
                    with anyio.move_on_after(self._limits.idle_seconds) as idle:
                        item = await self._queue.get()
                    if idle.cancelled_caught:
                        if self._in_flight == 0:
                            group.cancel_scope.cancel()
                            break
                        continue
                    if item is None:
                        group.cancel_scope.cancel()
                        break
                    self._in_flight += 1
                    group.start_soon(self._serve, session, item, lost)
            if lost:
                raise McpUnavailable(describe(lost[0]))

    @contextlib.asynccontextmanager
    async def _transport(self) -> AsyncIterator[tuple[Any, Any]]:
        config = self.config
        if config.transport == "stdio":
            assert config.command is not None
            params = StdioServerParameters(
                command=config.command, args=list(config.args), env=config.child_env() or None
            )
            async with stdio_client(params) as (read, write):
                yield read, write
        else:
            assert config.url is not None
            # The SDK's advice: connect and write promptly, but let a response stream stay
            # open (calls are bounded by the caller's timeout). Redirects are left to the SDK.
            timeout = httpx.Timeout(self._limits.connect_timeout, read=300.0)
            async with (
                httpx.AsyncClient(headers=config.headers(), timeout=timeout) as client,
                streamable_http_client(config.url, http_client=client) as (read, write, _),
            ):
                yield read, write

    async def _watch(self, session: ClientSession, lost: list[Exception], on_lost: Any) -> None:
        """Pings the server while calls run. The SDK's Streamable HTTP client (1.x) leaves a
        call waiting for ever when the server goes away mid-call without a word
        (modelcontextprotocol/python-sdk#3441): a failed ping ends the connection instead."""
        interval = self._limits.ping_interval
        while not lost:
            await anyio.sleep(interval)
            if self._in_flight == 0:
                continue
            try:
                with anyio.fail_after(interval):
                    await session.send_ping()
            except Exception as exc:  # noqa: BLE001 - any failure means the same here
                await on_lost(McpUnavailable(f"the server stopped answering ({describe(exc)})"))

    async def _serve(self, session: ClientSession, call: _Call, lost: list[Exception]) -> None:
        try:
            if call.abandoned:
                return
            with anyio.CancelScope() as scope:
                call.scope = scope
                result = await session.call_tool(call.name, call.arguments)
                if not call.future.done():
                    call.future.set_result(result)
            if scope.cancelled_caught and not call.future.done():
                why = describe(lost[0]) if lost else "the call was cancelled"
                call.future.set_exception(McpUnavailable(why))
        except McpError as exc:
            closed = exc.error.code in _LOST_CODES
            if closed:
                self._set("failed", exc.error.message)  # before the caller hears of it
            if not call.future.done():
                error = McpUnavailable(exc.error.message) if closed else exc
                call.future.set_exception(error)
            if closed:
                raise  # the transport is gone: end the session, the next call reconnects
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            self._set("failed", "the server closed the connection")
            if not call.future.done():
                call.future.set_exception(McpUnavailable("the server closed the connection"))
            raise McpUnavailable("the server closed the connection") from exc
        finally:
            self._in_flight -= 1
            if not call.future.done():
                call.future.set_exception(McpUnavailable("the server closed the connection"))

    def _fail_queued(self, message: str) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item.future.done():
                item.future.set_exception(McpUnavailable(message))


async def _list_all(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while len(tools) < MAX_TOOLS:
        page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor))
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            break
    return tools[:MAX_TOOLS]


def describe(exc: BaseException) -> str:
    """A short, secret-free account of why a connection failed (the innermost cause)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, McpError):
        return exc.error.message
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


@dataclass
class McpPool:
    """Every connection of this process, keyed by (user, server)."""

    limits: ConnectionLimits
    _connections: dict[tuple[str, str], McpConnection] = field(default_factory=dict)

    def connection(self, user_id: str, config: McpServerConfig) -> McpConnection:
        key = (user_id, config.name)
        conn = self._connections.get(key)
        if conn is None or conn.config != config:
            conn = self._connections[key] = McpConnection(config, self.limits)
        return conn

    async def refresh(self, user_id: str, config: McpServerConfig) -> McpConnection:
        """Close the connection (its calls end as unavailable) and forget its failures, so
        the next use connects afresh and lists the tools again."""
        old = self._connections.pop((user_id, config.name), None)
        if old is not None:
            await old.close()
        return self.connection(user_id, config)

    def peek(self, user_id: str, name: str) -> McpConnection | None:
        return self._connections.get((user_id, name))

    async def close(self) -> None:
        connections, self._connections = list(self._connections.values()), {}
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
