"""Tools: the operator's MCP servers, and decisions on calls waiting for the user."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from gql_api.context import Info
from gql_api.domain import tool_calls
from gql_api.tools.mcp_client import McpUnavailable


@strawberry.type
class McpTool:
    name: str = strawberry.field(description="The tool's name on its server.")
    description: str
    input_schema: JSON
    approval: str = strawberry.field(description="always, never or ask (the operator's).")


@strawberry.type
class McpServer:
    name: str
    transport: str
    status: str = strawberry.field(description="idle, connecting, ready or failed.")
    last_error: str | None
    user_id: strawberry.Private[str]

    @strawberry.field(description="The server's tools; connects to it when needed.")
    async def tools(self, info: Info) -> list[McpTool]:
        registry = info.context.services.tools
        config = next((s for s in registry.servers() if s.name == self.name), None)
        if config is None:
            return []
        try:
            listed = await registry.connection(self.user_id, config).list_tools()
        except McpUnavailable:
            return []
        return [
            McpTool(
                name=t.name,
                description=t.description or "",
                input_schema=cast(JSON, t.inputSchema),
                approval=config.approval_for(t.name),
            )
            for t in listed
            if config.offers(t.name)
        ]


@strawberry.type
class ToolCallDecision:
    stream_id: strawberry.ID
    tool_call_id: str
    approved: bool
    remembered: bool


@strawberry.type
class Query:
    @strawberry.field(description="The MCP servers the operator configured, as seen by you.")
    async def mcp_servers(self, info: Info) -> list[McpServer]:
        user = await info.context.require_user()
        states = tool_calls.server_states(svc=info.context.services, user=user)
        return [_server(state, user.id) for state in states]


def _server(state: tool_calls.ServerState, user_id: str) -> McpServer:
    return McpServer(
        name=state.config.name,
        transport=state.config.transport,
        status=state.status,
        last_error=state.last_error,
        user_id=user_id,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Connect to a server again now (e.g. to see its new tools); returns its state."
    )
    async def refresh_mcp_server(self, info: Info, name: str) -> McpServer:
        user = await info.context.require_user()
        state = await tool_calls.refresh_server(svc=info.context.services, user=user, name=name)
        return _server(state, user.id)

    @strawberry.mutation(
        description="Approve or deny a tool call waiting for you (state PENDING_APPROVAL). "
        "`remember` keeps the decision for that tool. CONFLICT when it is not waiting."
    )
    async def decide_tool_call(
        self,
        info: Info,
        stream_id: strawberry.ID,
        tool_call_id: str,
        approve: bool,
        remember: bool = False,
    ) -> ToolCallDecision:
        user = await info.context.require_user()
        decision = await tool_calls.decide_tool_call(
            svc=info.context.services,
            user=user,
            stream_id=str(stream_id),
            tool_call_id=tool_call_id,
            approve=approve,
            remember_it=remember,
        )
        return ToolCallDecision(
            stream_id=strawberry.ID(decision.stream_id),
            tool_call_id=decision.tool_call_id,
            approved=decision.approved,
            remembered=decision.remembered,
        )
