"""Titles: generated after the first answer through the model boundary, pushed as a rename,
never replacing a title the user set; regenerateTitle asks again."""

from __future__ import annotations

from typing import Any

import pytest

from gql_api.domain.titles import clean_title
from tests.factories import create_conversation, get_conversation, send_and_finish
from tests.support import ApiServer, GraphQLErrors
from tests.test_live_sync import subscribed

QUESTION = "plan a weekend hiking trip in the alps please"
DEMO_TITLE = "Plan a weekend hiking trip in"  # the demo model: the first six words
ACTIVITY = """subscription { activity {
  ... on ConversationChanged { change conversation { id title titleSource } }
} }"""
REGENERATE = "mutation($id: ID!) { regenerateTitle(id: $id) { id title titleSource } }"


async def title_of(api: ApiServer, conversation_id: str) -> tuple[str, str]:
    data = await api.gql(
        "query($id: ID!) { conversation(id: $id) { title titleSource } }", {"id": conversation_id}
    )
    return data["conversation"]["title"], data["conversation"]["titleSource"]


async def idle(api: ApiServer) -> None:
    assert api.services.titler is not None
    await api.services.titler.idle()


async def test_first_answer_names_the_conversation_on_every_tab(api: ApiServer) -> None:
    async with subscribed(api, ACTIVITY) as tab:
        conversation = await create_conversation(api)
        assert conversation["title"] == "New conversation"
        await send_and_finish(api, conversation["id"], QUESTION)
        await idle(api)
        renames: list[dict[str, Any]] = []
        index = 0
        while not renames:
            event = await tab.next(index)
            index += 1
            if event.get("change") == "RENAMED":
                renames.append(event)
    assert renames[0]["conversation"] == {
        "id": conversation["id"],
        "title": DEMO_TITLE,
        "titleSource": "GENERATED",
    }
    assert await title_of(api, conversation["id"]) == (DEMO_TITLE, "GENERATED")

    # Only the first answer names it.
    await send_and_finish(api, conversation["id"], "and what about the weather")
    await idle(api)
    assert await title_of(api, conversation["id"]) == (DEMO_TITLE, "GENERATED")


async def test_a_title_the_user_set_is_never_replaced(api: ApiServer) -> None:
    given = await create_conversation(api, title="My trip")
    assert (await get_conversation(api, given["id"]))["title"] == "My trip"
    await send_and_finish(api, given["id"], QUESTION)
    await idle(api)
    assert await title_of(api, given["id"]) == ("My trip", "USER")

    renamed = await create_conversation(api)
    sent = await api.gql(
        "mutation($i: SendMessageInput!) { sendMessage(input: $i) { stream { id } } }",
        {"i": {"conversationId": renamed["id"], "content": QUESTION + " [demo:words=400]"}},
    )
    assert sent["sendMessage"]["stream"]["id"]
    await api.gql(
        'mutation($id: ID!) { renameConversation(id: $id, title: "Mine") { id } }',
        {"id": renamed["id"]},
    )
    stream_id = sent["sendMessage"]["stream"]["id"]
    # Renamed while the answer is still being written, before any title could be generated.
    assert api.services.engine.is_running(stream_id)
    await api.services.engine.wait(stream_id)
    await idle(api)
    assert await title_of(api, renamed["id"]) == ("Mine", "USER")


async def test_regenerate_title_asks_again(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Chosen by me")
    await send_and_finish(api, conversation["id"], QUESTION)
    data = await api.gql(REGENERATE, {"id": conversation["id"]})
    assert data["regenerateTitle"] == {
        "id": conversation["id"],
        "title": DEMO_TITLE,
        "titleSource": "GENERATED",
    }
    assert await title_of(api, conversation["id"]) == (DEMO_TITLE, "GENERATED")


@pytest.mark.parametrize(("target", "code"), [("empty", "CONFLICT"), ("bad", "BAD_USER_INPUT")])
async def test_regenerate_title_refuses(api: ApiServer, target: str, code: str) -> None:
    empty = await create_conversation(api)
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(REGENERATE, {"id": empty["id"] if target == "empty" else "nope"})
    assert caught.value.code == code
    assert await title_of(api, empty["id"]) == ("New conversation", "DEFAULT")


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("<thinking>The user wants hiking. Call it X.</thinking>Alpine weekend", "Alpine weekend"),
        ('Title: "Alpine weekend."', "Alpine weekend"),
        ("\n\n**Alpine weekend**\nBecause the user asked about hiking.", "Alpine weekend"),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight",
        ),
        ("<think>unfinished reasoning with no end", ""),
    ],
)
def test_clean_title_keeps_only_the_title(raw: str, title: str) -> None:
    assert clean_title(raw) == title
