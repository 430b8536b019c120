"""Helpers for stream tests: start answers, watch them, wait for them."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support import ApiServer, subscribe_all

EVENTS = """
subscription($s: ID, $m: ID, $o: Int!) {
  streamEvents(streamId: $s, messageId: $m, offset: $o) {
    __typename
    ... on StreamSnapshot { status seq offset text length toolCalls { id name result } }
    ... on StreamDelta { seq offset text }
    ... on StreamToolCall { seq offset toolCall { id name input result isError } }
    ... on StreamEnd { status seq length usage { inputTokens outputTokens } errorCode errorMessage }
  }
}
"""

SEND = """
mutation($c: ID!, $text: String!, $cid: String) {
  sendMessage(input: {conversationId: $c, content: $text, clientMessageId: $cid}) {
    userMessage { id content }
    assistantMessage { id status }
    stream { id status }
  }
}
"""


async def new_conversation(api: ApiServer, user: str = "alice", title: str = "Chat") -> str:
    data = await api.gql(
        "mutation($t: String) { createConversation(input: {title: $t}) { id } }",
        {"t": title},
        user=user,
    )
    return str(data["createConversation"]["id"])


async def send(
    api: ApiServer, conversation_id: str, text: str, *, user: str = "alice", cid: str | None = None
) -> dict[str, Any]:
    data = await api.gql(SEND, {"c": conversation_id, "text": text, "cid": cid}, user=user)
    result: dict[str, Any] = data["sendMessage"]
    return result


async def wait_finished(api: ApiServer, stream_id: str, *, user: str = "alice") -> dict[str, Any]:
    """Poll the stream until it is terminal. The bound catches a stream that never ends, not a
    slow one: fifty answers on a machine whose cores other processes keep busy take well over
    30 s."""
    query = "query($s: ID!) { stream(id: $s) { status length errorCode errorMessage } }"
    async with asyncio.timeout(120):
        while True:
            stream: dict[str, Any] = (await api.gql(query, {"s": stream_id}, user=user))["stream"]
            if stream["status"] not in ("PENDING", "STREAMING"):
                return stream
            await asyncio.sleep(0.02)


async def stored_answer(api: ApiServer, message_id: str, *, user: str = "alice") -> dict[str, Any]:
    query = """query($m: ID!) { message(id: $m) {
        content status errorCode parentId usage { inputTokens outputTokens }
        parts { __typename ... on TextPart { text } ... on ToolCallPart { id name input result } }
        siblings { index count ids } } }"""
    result: dict[str, Any] = (await api.gql(query, {"m": message_id}, user=user))["message"]
    return result


def rebuild(events: list[dict[str, Any]], offset: int = 0) -> tuple[str, dict[str, Any]]:
    """Apply a subscription's events as a client would; check the protocol on the way.

    Returns the text from `offset` on and the terminal event. Fails on a gap, an overlap, an
    event after the end, or a missing snapshot.
    """
    items = [e["streamEvents"] for e in events]
    assert items and items[0]["__typename"] == "StreamSnapshot", items[:1]
    snap = items[0]
    assert snap["offset"] == offset
    text = snap["text"]
    position = offset + len(text)
    end: dict[str, Any] | None = None
    for item in items[1:]:
        assert end is None, f"event after the end: {item}"
        kind = item["__typename"]
        assert kind != "StreamSnapshot", f"a second snapshot: {item}"
        if kind == "StreamDelta":
            assert item["offset"] == position, f"gap or overlap at {position}: {item}"
            text += item["text"]
            position += len(item["text"])
        elif kind == "StreamEnd":
            end = item
    assert end is not None, "no end event"
    assert end["length"] == position, (end, position)
    return text, end


async def watch(
    api: ApiServer, *, stream_id: str, offset: int = 0, user: str = "alice"
) -> list[dict[str, Any]]:
    async with api.ws(user) as session:
        return await subscribe_all(session, EVENTS, {"s": stream_id, "m": None, "o": offset})
