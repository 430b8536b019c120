"""Operator-configured MCP servers: how to reach each one, which tools it offers, who approves."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Approval = Literal["always", "never", "ask"]
# The model sees `<server>__<tool>`: a server name never holds the separator.
SERVER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
SEPARATOR = "__"


class McpServerConfig(BaseModel):
    """One entry of `CHATGQL_MCP_SERVERS` (a JSON list).

    Secrets never appear in the configuration itself: `headers_from_env` and `env_from_env` name
    variables of chatgql's own environment whose values are sent (headers) or passed on (stdio).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SERVER_NAME.pattern)
    transport: Literal["streamable-http", "stdio"]
    url: str | None = None
    command: str | None = None
    args: list[str] = []
    headers_from_env: dict[str, str] = {}
    env_from_env: dict[str, str] = {}
    tools: list[str] | None = None  # offered tools; None offers all the server lists
    approval: Approval = "ask"  # the policy of every tool not named in `tool_approval`
    tool_approval: dict[str, Approval] = {}

    @model_validator(mode="after")
    def _check_transport(self) -> McpServerConfig:
        if self.transport == "streamable-http":
            if not self.url or not re.match(r"^https?://[^/\s]+", self.url):
                raise ValueError(f"MCP server {self.name!r}: streamable-http needs an http(s) url")
            if self.command:
                raise ValueError(f"MCP server {self.name!r}: a command is for stdio servers")
        else:
            if not self.command:
                raise ValueError(f"MCP server {self.name!r}: stdio needs a command")
            if self.url:
                raise ValueError(f"MCP server {self.name!r}: a url is for streamable-http servers")
        return self

    def approval_for(self, tool: str) -> Approval:
        return self.tool_approval.get(tool, self.approval)

    def offers(self, tool: str) -> bool:
        return self.tools is None or tool in self.tools

    def headers(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        return _from_env(self.headers_from_env, environ)

    def child_env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        return _from_env(self.env_from_env, environ)


def _from_env(names: dict[str, str], environ: Mapping[str, str] | None) -> dict[str, str]:
    source = os.environ if environ is None else environ
    missing = sorted(var for var in names.values() if var not in source)
    if missing:
        raise ValueError(f"environment variables not set: {', '.join(missing)}")
    return {key: source[var] for key, var in names.items()}


def check_unique(servers: list[McpServerConfig]) -> list[McpServerConfig]:
    names = [s.name for s in servers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"MCP server names must be unique: {', '.join(duplicates)}")
    return servers
