"""One round of the model's tool calls: each run through the answer's toolset, its part kept
up to date (running, then its result) so every watcher sees the same thing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from gql_api.providers.base import ToolCall, ToolResultBlock
from gql_api.tools import Toolset
from models.base import utcnow

RecordPart = Callable[[dict[str, Any]], None]  # keeps it in the buffer, to be saved
PublishPart = Callable[[dict[str, Any]], Awaitable[None]]  # tells the watchers
AskUser = Callable[[dict[str, Any]], Awaitable[bool]]  # pending until decided: approved?
DENIED = "The user did not allow this tool call."


def call_part(call: ToolCall, toolset: Toolset, offset: int) -> dict[str, Any]:
    """The part stored for a call as soon as the model has made it."""
    offered = toolset.get(call.name)
    return {
        "type": "tool_call",
        "id": call.id,
        "name": call.name,
        "input": call.input,
        "offset": offset,
        "started_at": utcnow().isoformat(),
        "state": "running",
        "server": offered.server.name if offered and offered.server else None,
        "tool": offered.tool if offered else call.name,
    }


async def run_calls(
    toolset: Toolset,
    calls: list[tuple[ToolCall, dict[str, Any]]],
    *,
    record: RecordPart,
    publish: PublishPart,
    ask: AskUser,
) -> list[ToolResultBlock]:
    """Run the calls in order, each after the user's approval where its policy asks for it.
    A cancellation (stop, shutdown) marks the pending call cancelled and goes on up, so the
    answer ends with what was saved."""
    results: list[ToolResultBlock] = []
    for call, part in calls:
        offered = toolset.get(call.name)
        try:
            if offered is not None and offered.approval == "ask":
                if not await ask(part):
                    part.update(
                        state="denied",
                        result=DENIED,
                        is_error=True,
                        finished_at=utcnow().isoformat(),
                    )
                    record(part)
                    await publish(part)
                    results.append(ToolResultBlock(call.id, DENIED, True))
                    continue
                part["state"] = "running"
                record(part)
                await publish(part)
            outcome = await toolset.run(call.name, call.input)
        except asyncio.CancelledError:
            part.update(state="cancelled", finished_at=utcnow().isoformat())
            # Saved with the terminal state; watchers find it there when the end comes.
            record(part)
            raise
        part.update(state="done", finished_at=utcnow().isoformat(), **outcome.part_fields())
        record(part)
        await publish(part)
        results.append(ToolResultBlock(call.id, outcome.content, outcome.is_error))
    return results
