"""The tools an answer may use: built-ins and those of MCP servers, behind one name space."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
from mcp.shared.exceptions import McpError

from gql_api.providers.base import ToolSpec
from gql_api.tools.builtin import BUILTINS, ToolFunc
from gql_api.tools.mcp_client import McpConnection, McpPool, McpUnavailable
from gql_api.tools.mcp_config import SEPARATOR, Approval, McpServerConfig
from gql_api.tools.results import ToolOutcome, from_mcp

log = logging.getLogger(__name__)
# What model APIs accept as a tool name (Anthropic's pattern; OpenAI's is the same).
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
MAX_TOOL_NAME = 64


@dataclass(frozen=True)
class OfferedTool:
    """A tool as the model sees it, and where it lives."""

    spec: ToolSpec
    tool: str  # its name on its server (the same as spec.name for a built-in)
    server: McpServerConfig | None = None
    approval: Approval = "always"
    func: ToolFunc | None = None


def exposed_name(server: str, tool: str) -> str:
    return _NAME_CHARS.sub("_", f"{server}{SEPARATOR}{tool}")[:MAX_TOOL_NAME]


class Toolset:
    """The tools offered to one answer, and how to run them."""

    def __init__(
        self,
        registry: ToolRegistry,
        user_id: str,
        tools: list[OfferedTool],
        unavailable: dict[str, str],
    ) -> None:
        self._registry, self._user_id = registry, user_id
        self._tools = {t.spec.name: t for t in tools}
        self.unavailable = unavailable  # server name -> why its tools are missing

    @property
    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self._tools.values()]

    def get(self, name: str) -> OfferedTool | None:
        return self._tools.get(name)

    async def run(self, name: str, input: dict[str, Any]) -> ToolOutcome:
        """Never raises for the model's mistakes or a server's failure: the model is told."""
        offered = self._tools.get(name)
        if offered is None:
            return ToolOutcome(f"There is no tool named {name!r}.", is_error=True)
        problem = schema_problem(offered.spec.input_schema, input)
        if problem is not None:
            return ToolOutcome(f"The arguments do not match the tool's schema: {problem}", True)
        if offered.func is not None:
            return await offered.func(input)
        assert offered.server is not None
        return await self._registry.call_mcp(self._user_id, offered.server, offered.tool, input)


def _as_approval(decision: str | None) -> Approval:
    return "always" if decision == "always" else "never" if decision == "never" else "ask"


def schema_problem(schema: dict[str, Any], value: dict[str, Any]) -> str | None:
    """Why `value` does not match `schema`, or None (also for a schema that is itself invalid:
    the server then judges its own input)."""
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except jsonschema.SchemaError:
        return None
    error = jsonschema.exceptions.best_match(cls(schema).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


class ToolRegistry:
    """Built-ins, plus the operator's MCP servers with one connection per (user, server)."""

    def __init__(
        self,
        builtins: list[tuple[ToolSpec, ToolFunc]] | None = None,
        *,
        servers: list[McpServerConfig] | None = None,
        pool: McpPool | None = None,
        call_timeout: float = 60.0,
        max_result_chars: int = 20_000,
    ) -> None:
        self._builtins = {spec.name: (spec, func) for spec, func in (builtins or BUILTINS)}
        self._servers = {s.name: s for s in servers or []}
        self._pool = pool
        self.call_timeout = call_timeout
        self.max_result_chars = max_result_chars

    def names(self) -> list[str]:
        """What a user may enable: built-in tools by name, MCP servers by their name."""
        return [*self._builtins, *self._servers]

    def servers(self) -> list[McpServerConfig]:
        return list(self._servers.values())

    def specs(self, enabled: list[str] | None = None) -> list[ToolSpec]:
        """Specs of the enabled built-ins (all when None), in registry order."""
        return [
            spec for name, (spec, _) in self._builtins.items() if enabled is None or name in enabled
        ]

    async def run(self, name: str, input: dict[str, Any]) -> ToolOutcome:
        """Run a built-in; the model gets an error outcome for an unknown name."""
        entry = self._builtins.get(name)
        if entry is None:
            return ToolOutcome(f"There is no tool named {name!r}.", is_error=True)
        return await entry[1](input)

    def connection(self, user_id: str, server: McpServerConfig) -> McpConnection:
        if self._pool is None:
            raise McpUnavailable("MCP is not configured")
        return self._pool.connection(user_id, server)

    async def refresh(self, user_id: str, server: McpServerConfig) -> McpConnection:
        if self._pool is None:
            raise McpUnavailable("MCP is not configured")
        return await self._pool.refresh(user_id, server)

    def peek(self, user_id: str, server: str) -> McpConnection | None:
        return self._pool.peek(user_id, server) if self._pool is not None else None

    async def toolset(
        self,
        user_id: str,
        enabled: list[str],
        remembered: dict[tuple[str, str], str] | None = None,
    ) -> Toolset:
        """The enabled tools; an MCP server that cannot be reached is left out (and noted).

        `remembered` holds the user's decisions per (server, tool): they stand in for the
        operator's `ask`, never for `always` or `never`."""
        remembered = remembered or {}
        offered = [
            OfferedTool(spec=spec, tool=name, func=func)
            for name, (spec, func) in self._builtins.items()
            if name in enabled
        ]
        servers = [s for name, s in self._servers.items() if name in enabled]
        listings = await asyncio.gather(
            *(self.connection(user_id, s).list_tools() for s in servers), return_exceptions=True
        )
        unavailable: dict[str, str] = {}
        taken = {t.spec.name for t in offered}
        for server, listing in zip(servers, listings, strict=True):
            if isinstance(listing, BaseException):
                if not isinstance(listing, Exception):
                    raise listing
                unavailable[server.name] = str(listing)
                continue
            for tool in listing:
                name = exposed_name(server.name, tool.name)
                if not server.offers(tool.name) or name in taken:
                    continue
                taken.add(name)
                spec = ToolSpec(name, tool.description or tool.title or "", tool.inputSchema)
                approval = server.approval_for(tool.name)
                if approval == "ask":
                    approval = _as_approval(remembered.get((server.name, tool.name)))
                if approval == "never":
                    continue
                offered.append(OfferedTool(spec, tool.name, server, approval))
        return Toolset(self, user_id, offered, unavailable)

    async def call_mcp(
        self, user_id: str, server: McpServerConfig, tool: str, input: dict[str, Any]
    ) -> ToolOutcome:
        try:
            async with asyncio.timeout(self.call_timeout):
                result = await self.connection(user_id, server).call(tool, input)
        except TimeoutError:
            return ToolOutcome(f"The tool did not answer within {self.call_timeout:g} s.", True)
        except McpUnavailable as exc:
            return ToolOutcome(f"The MCP server {server.name!r} is unavailable: {exc}", True)
        except McpError as exc:
            return ToolOutcome(f"The MCP server {server.name!r} refused: {exc.error.message}", True)
        return from_mcp(result, max_chars=self.max_result_chars)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
