"""The user's say over tool calls: decisions on pending calls, and the MCP servers' state."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from gql_api import feeds
from gql_api.domain.streams import owned_stream
from gql_api.domain.users import CurrentUser
from gql_api.errors import Conflict, InvalidInput, NotFound
from gql_api.services import Services
from gql_api.tools.mcp_client import McpUnavailable
from gql_api.tools.mcp_config import McpServerConfig
from models.messages import Message
from models.streams import ACTIVE
from models.tool_approvals import ALWAYS, NEVER, remember

MAX_CALL_ID = 200


@dataclass(frozen=True)
class Decision:
    stream_id: str
    tool_call_id: str
    approved: bool
    remembered: bool


async def decide_tool_call(
    *,
    svc: Services,
    user: CurrentUser,
    stream_id: str,
    tool_call_id: str,
    approve: bool,
    remember_it: bool,
) -> Decision:
    """Approve or deny a call waiting for the user, wherever its answer is generated.

    Someone else's stream is NOT_FOUND; a call that is not waiting (unknown, decided, timed
    out, or its answer over) is a CONFLICT, and nothing is stored then."""
    if not tool_call_id or len(tool_call_id) > MAX_CALL_ID:
        raise InvalidInput("toolCallId is not a valid tool call id", field="toolCallId")
    stream = await owned_stream(db=svc.db, user=user, stream_id=stream_id)
    not_pending = Conflict("That tool call is not waiting for a decision")
    if stream.status not in ACTIVE:
        raise not_pending
    async with svc.db.write() as session:
        # The generating process saves a pending call before it shows it to anyone.
        message = await session.get(Message, stream.message_id)
        part = next(
            (p for p in (message.parts if message else []) if p.get("id") == tool_call_id), None
        )
        if part is None or part.get("state") != "pending_approval":
            raise not_pending
        if remember_it and part.get("server"):
            await remember(
                session,
                user_id=user.id,
                server=str(part["server"]),
                tool=str(part.get("tool")),
                decision=ALWAYS if approve else NEVER,
            )
    if not svc.engine.decide(stream.id, tool_call_id, approve) and stream.node_id:
        with contextlib.suppress(Exception):  # not delivered: the call times out as denied
            await svc.broker.publish(
                feeds.control_channel(stream.node_id),
                {
                    "type": "decide",
                    "stream_id": stream.id,
                    "call_id": tool_call_id,
                    "approve": approve,
                },
            )
    return Decision(stream.id, tool_call_id, approve, remember_it and bool(part.get("server")))


@dataclass(frozen=True)
class ServerState:
    config: McpServerConfig
    status: str
    last_error: str | None


def server_states(*, svc: Services, user: CurrentUser) -> list[ServerState]:
    """The operator's servers as this user's connections in this process see them."""
    states = []
    for config in svc.tools.servers():
        connection = svc.tools.peek(user.id, config.name)
        states.append(
            ServerState(
                config,
                connection.status if connection else "idle",
                connection.last_error if connection else None,
            )
        )
    return states


async def refresh_server(*, svc: Services, user: CurrentUser, name: str) -> ServerState:
    """Reconnect to a server now (after fixing it, or to see new tools), waiting for the result."""
    config = next((s for s in svc.tools.servers() if s.name == name), None)
    if config is None:
        raise NotFound("MCP server not found")
    connection = await svc.tools.refresh(user.id, config)
    with contextlib.suppress(McpUnavailable):  # reported in the state
        await connection.list_tools()
    return ServerState(config, connection.status, connection.last_error)
