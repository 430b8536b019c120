"""Shared helpers: create projects, conversations and messages through GraphQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import func, select

from tests.support import ApiServer

T = TypeVar("T")

CONVERSATION_FIELDS = """
    id title model systemPrompt pinned archived draft projectId createdAt updatedAt
    lastMessage { id content }
"""
MESSAGE_FIELDS = "id conversationId role content status clientMessageId createdAt editedAt"
TERMINAL = {"COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"}


async def create_project(api: ApiServer, name: str, *, user: str = "alice") -> dict[str, Any]:
    data = await api.gql(
        "mutation($n: String!) { createProject(name: $n) { id name conversationCount } }",
        {"n": name},
        user=user,
    )
    project: dict[str, Any] = data["createProject"]
    return project


async def create_conversation(
    api: ApiServer, *, user: str = "alice", **fields: Any
) -> dict[str, Any]:
    """`fields` are CreateConversationInput fields (title, model, projectId, systemPrompt)."""
    data = await api.gql(
        f"mutation($i: CreateConversationInput) {{ createConversation(input: $i) {{"
        f" {CONVERSATION_FIELDS} }} }}",
        {"i": fields},
        user=user,
    )
    conversation: dict[str, Any] = data["createConversation"]
    return conversation


async def get_conversation(
    api: ApiServer, conversation_id: str, *, user: str = "alice"
) -> dict[str, Any]:
    data = await api.gql(
        f"query($id: ID!) {{ conversation(id: $id) {{ {CONVERSATION_FIELDS} }} }}",
        {"id": conversation_id},
        user=user,
    )
    conversation: dict[str, Any] = data["conversation"]
    return conversation


async def add_message(
    api: ApiServer,
    conversation_id: str,
    content: str,
    *,
    role: str = "USER",
    client_message_id: str | None = None,
    user: str = "alice",
) -> dict[str, Any]:
    data = await api.gql(
        f"mutation($i: AddMessageInput!) {{ addMessage(input: $i) {{ {MESSAGE_FIELDS} }} }}",
        {
            "i": {
                "conversationId": conversation_id,
                "content": content,
                "role": role,
                "clientMessageId": client_message_id,
            }
        },
        user=user,
    )
    message: dict[str, Any] = data["addMessage"]
    return message


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    timeout: float = 20.0,
    what: str = "condition",
) -> T:
    """Poll `probe` until `accept` says yes, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        await asyncio.sleep(0.02)


async def send_and_finish(
    api: ApiServer, conversation_id: str, content: str, *, user: str = "alice"
) -> dict[str, Any]:
    """sendMessage, then poll the stream until it reaches a terminal status; returns the payload."""
    data = await api.gql(
        "mutation($i: SendMessageInput!) { sendMessage(input: $i) {"
        " userMessage { id } assistantMessage { id } stream { id status } } }",
        {"i": {"conversationId": conversation_id, "content": content}},
        user=user,
    )
    sent: dict[str, Any] = data["sendMessage"]

    async def status() -> str:
        found = await api.gql(
            "query($id: ID!) { stream(id: $id) { status } }",
            {"id": sent["stream"]["id"]},
            user=user,
        )
        value: str = found["stream"]["status"]
        return value

    sent["stream"]["status"] = await eventually(
        status, lambda s: s in TERMINAL, what="the stream to finish"
    )
    return sent


async def count_rows(api: ApiServer, model: type[Any], *where: Any) -> int:
    """Rows of `model`'s table matching `where`, read straight from the database."""
    async with api.services.db.read() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(found or 0)
