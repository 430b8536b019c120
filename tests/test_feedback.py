"""Feedback: rateMessage sets, changes and clears a rating on an answer, synced to every tab."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from models.messages import Message
from tests.factories import add_message, create_conversation, send_and_finish
from tests.support import ApiServer, GraphQLErrors
from tests.test_live_sync import subscribed

RATE = """mutation($id: ID!, $rating: Rating, $comment: String) {
  rateMessage(id: $id, rating: $rating, comment: $comment) {
    id feedback { rating comment ratedAt }
  }
}"""
EVENTS = """subscription($c: ID!) { conversationEvents(conversationId: $c) {
  ... on MessageChanged { change message { id feedback { rating comment } } }
} }"""


async def rate(
    api: ApiServer,
    message_id: str,
    rating: str | None,
    comment: str | None = None,
    *,
    user: str = "alice",
) -> dict[str, Any] | None:
    data = await api.gql(RATE, {"id": message_id, "rating": rating, "comment": comment}, user=user)
    feedback: dict[str, Any] | None = data["rateMessage"]["feedback"]
    return feedback


async def answer(api: ApiServer) -> tuple[str, str]:
    conversation = await create_conversation(api, title="Rated")
    sent = await send_and_finish(api, conversation["id"], "tell me something")
    return conversation["id"], sent["assistantMessage"]["id"]


async def stored_feedback(api: ApiServer, message_id: str) -> dict[str, Any] | None:
    data = await api.gql(
        "query($id: ID!) { message(id: $id) { feedback { rating comment } } }", {"id": message_id}
    )
    feedback: dict[str, Any] | None = data["message"]["feedback"]
    return feedback


async def test_rate_change_and_clear(api: ApiServer) -> None:
    _, answer_id = await answer(api)
    assert await stored_feedback(api, answer_id) is None
    up = await rate(api, answer_id, "UP", "  clear and short  ")
    assert up is not None and up["rating"] == "UP" and up["comment"] == "clear and short"
    assert up["ratedAt"]
    assert await stored_feedback(api, answer_id) == {"rating": "UP", "comment": "clear and short"}
    await rate(api, answer_id, "DOWN")
    assert await stored_feedback(api, answer_id) == {"rating": "DOWN", "comment": None}
    assert await rate(api, answer_id, None) is None
    assert await stored_feedback(api, answer_id) is None


async def test_every_tab_sees_the_rating(api: ApiServer) -> None:
    conversation_id, answer_id = await answer(api)
    async with subscribed(api, EVENTS, {"c": conversation_id}) as tab:
        await rate(api, answer_id, "DOWN", "wrong year")
        # Events of the finished answer may still arrive first; the rating's comes after them.
        index = 0
        event = await tab.next(index)
        while event["message"]["feedback"] is None:
            index += 1
            event = await tab.next(index)
    assert event["change"] == "UPDATED"
    assert event["message"] == {
        "id": answer_id,
        "feedback": {"rating": "DOWN", "comment": "wrong year"},
    }


@pytest.mark.parametrize(
    ("rating", "comment", "code"),
    [
        (None, "a comment without a rating", "BAD_USER_INPUT"),
        ("UP", "bad\x00comment", "BAD_USER_INPUT"),
        ("UP", "x" * 2001, "PAYLOAD_TOO_LARGE"),
        ("SIDEWAYS", None, "BAD_USER_INPUT"),
    ],
)
async def test_rejects_bad_input_and_keeps_the_rating(
    api: ApiServer, rating: str | None, comment: str | None, code: str
) -> None:
    _, answer_id = await answer(api)
    await rate(api, answer_id, "UP", "kept")
    with pytest.raises(GraphQLErrors) as caught:
        await rate(api, answer_id, rating, comment)
    assert caught.value.code == code
    assert await stored_feedback(api, answer_id) == {"rating": "UP", "comment": "kept"}


async def test_only_finished_answers_can_be_rated(api: ApiServer) -> None:
    conversation_id, answer_id = await answer(api)
    question = await add_message(api, conversation_id, "a question")
    with pytest.raises(GraphQLErrors) as caught:
        await rate(api, question["id"], "UP")
    assert caught.value.code == "BAD_USER_INPUT"
    async with api.services.db.write() as session:
        await session.execute(
            update(Message).where(Message.id == answer_id).values(status="streaming")
        )
    with pytest.raises(GraphQLErrors) as caught:
        await rate(api, answer_id, "UP")
    assert caught.value.code == "CONFLICT"
    with pytest.raises(GraphQLErrors) as caught:
        await rate(api, answer_id, "UP", user="bob")
    assert caught.value.code == "NOT_FOUND"
