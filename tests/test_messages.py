"""Messages (list, add idempotently, edit, delete) and the caller's preferences."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from models.messages import Message
from tests.factories import (
    MESSAGE_FIELDS,
    add_message,
    count_rows,
    create_conversation,
    get_conversation,
)
from tests.support import ApiServer, GraphQLErrors

MESSAGES = """
query($c: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  messages(conversationId: $c, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id content role } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
MESSAGE = f"query($id: ID!) {{ message(id: $id) {{ {MESSAGE_FIELDS} }} }}"
EDIT = f"""mutation($id: ID!, $t: String!) {{
  editMessage(id: $id, content: $t) {{ {MESSAGE_FIELDS} }} }}"""
DELETE = "mutation($id: ID!) { deleteMessage(id: $id) { id } }"
ME = "{ me { id name email createdAt preferences { defaultModel theme toolsEnabled } } }"
PREFERENCES = """
mutation($i: PreferencesInput!) {
  updatePreferences(input: $i) { id preferences { defaultModel theme toolsEnabled } }
}
"""


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def messages_page(api: ApiServer, conversation_id: str, **args: Any) -> dict[str, Any]:
    data = await api.gql(MESSAGES, {"c": conversation_id, **args})
    page: dict[str, Any] = data["messages"]
    return page


def contents(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["content"] for edge in page["edges"]]


async def conversation_with_messages(api: ApiServer, count: int) -> str:
    conversation_id: str = (await create_conversation(api))["id"]
    for i in range(count):
        await add_message(api, conversation_id, f"m{i:02}", role="SYSTEM" if i % 5 == 0 else "USER")
    return conversation_id


# ---------------------------------------------------------------- list


async def test_list_oldest_first_pages_forward(api: ApiServer) -> None:
    conversation_id = await conversation_with_messages(api, 25)
    expected = [f"m{i:02}" for i in range(25)]
    assert contents(await messages_page(api, conversation_id)) == expected  # default page: 50

    seen: list[str] = []
    after: str | None = None
    flags = []
    while True:
        page = await messages_page(api, conversation_id, first=10, after=after)
        seen += contents(page)
        info = page["pageInfo"]
        flags.append((info["hasNextPage"], info["hasPreviousPage"]))
        if page["edges"]:
            assert info["startCursor"] == page["edges"][0]["cursor"]
            assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == expected
    assert flags == [(True, False), (True, True), (False, True)]
    roles = [e["node"]["role"] for e in (await messages_page(api, conversation_id))["edges"]]
    assert roles[:6] == ["SYSTEM", "USER", "USER", "USER", "USER", "SYSTEM"]


async def test_last_gives_the_newest_still_oldest_first(api: ApiServer) -> None:
    conversation_id = await conversation_with_messages(api, 25)
    newest = await messages_page(api, conversation_id, last=5)
    assert contents(newest) == ["m20", "m21", "m22", "m23", "m24"]
    assert newest["pageInfo"]["hasPreviousPage"] is True
    assert newest["pageInfo"]["hasNextPage"] is False

    pages = [contents(newest)]
    before = newest["pageInfo"]["startCursor"]
    while True:
        page = await messages_page(api, conversation_id, last=10, before=before)
        pages.insert(0, contents(page))
        assert page["pageInfo"]["hasNextPage"] is True
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sum(pages, []) == [f"m{i:02}" for i in range(25)]

    everything = await messages_page(api, conversation_id, last=100)
    assert contents(everything) == [f"m{i:02}" for i in range(25)]
    assert everything["pageInfo"]["hasPreviousPage"] is False


async def test_cursor_pages_survive_new_messages(api: ApiServer) -> None:
    conversation_id = await conversation_with_messages(api, 4)
    first = await messages_page(api, conversation_id, first=2)
    await add_message(api, conversation_id, "late")
    rest = await messages_page(api, conversation_id, first=10, after=first["pageInfo"]["endCursor"])
    assert contents(rest) == ["m02", "m03", "late"]


@pytest.mark.parametrize(
    "args",
    [
        {"first": 2, "last": 2},
        {"first": 0},
        {"last": 0},
        {"first": 101},
        {"first": 2, "after": "not-a-cursor"},
        {"last": 2, "before": "WyJ4Il0"},
    ],
)
async def test_list_rejects_bad_arguments(api: ApiServer, args: dict[str, Any]) -> None:
    conversation_id = await conversation_with_messages(api, 1)
    with pytest.raises(GraphQLErrors) as caught:
        await messages_page(api, conversation_id, **args)
    assert caught.value.code == "BAD_USER_INPUT"


async def test_messages_are_scoped_to_the_owner(api: ApiServer) -> None:
    conversation_id = await conversation_with_messages(api, 1)
    message_id = (await messages_page(api, conversation_id))["edges"][0]["node"]["id"]
    for operation, variables in [
        (MESSAGES, {"c": conversation_id}),
        (MESSAGE, {"id": message_id}),
        (EDIT, {"id": message_id, "t": "hacked"}),
        (DELETE, {"id": message_id}),
    ]:
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(operation, variables, user="bob")
        assert caught.value.code == "NOT_FOUND"
    with pytest.raises(GraphQLErrors) as caught:
        await add_message(api, conversation_id, "intrusion", user="bob")
    assert caught.value.code == "NOT_FOUND"
    assert contents(await messages_page(api, conversation_id)) == ["m00"]


# ---------------------------------------------------------------- add


async def test_add_user_and_system_messages(api: ApiServer) -> None:
    conversation = await create_conversation(api)
    user_message = await add_message(api, conversation["id"], "Hello 👋")
    assert user_message["role"] == "USER"
    assert user_message["status"] == "COMPLETE"
    assert user_message["conversationId"] == conversation["id"]
    assert user_message["editedAt"] is None
    system_message = await add_message(api, conversation["id"], "Be terse.", role="SYSTEM")
    assert system_message["role"] == "SYSTEM"
    fetched = (await api.gql(MESSAGE, {"id": system_message["id"]}))["message"]
    assert fetched == system_message
    assert contents(await messages_page(api, conversation["id"])) == ["Hello 👋", "Be terse."]
    assert (await get_conversation(api, conversation["id"]))["lastMessage"] == {
        "id": system_message["id"],
        "content": "Be terse.",
    }


@pytest.mark.parametrize(
    ("content", "extra", "code"),
    [
        ("", {}, "BAD_USER_INPUT"),
        ("  \n ", {}, "BAD_USER_INPUT"),
        ("nul\x00byte", {}, "BAD_USER_INPUT"),
        ("x" * 100_001, {}, "PAYLOAD_TOO_LARGE"),
        ("ok", {"clientMessageId": "has space"}, "BAD_USER_INPUT"),
        ("ok", {"role": "ASSISTANT"}, "BAD_USER_INPUT"),
        ("ok", {"conversationId": "0" * 32}, "NOT_FOUND"),
    ],
)
async def test_add_rejects_bad_input(
    api: ApiServer, content: str, extra: dict[str, Any], code: str
) -> None:
    conversation_id = (await create_conversation(api))["id"]
    variables = {"i": {"conversationId": conversation_id, "content": content, **extra}}
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql("mutation($i: AddMessageInput!) { addMessage(input: $i) { id } }", variables)
    assert caught.value.code == code
    assert await count_rows(api, Message) == 0


async def test_same_client_message_id_gives_the_same_row(api: ApiServer) -> None:
    conversation_id = (await create_conversation(api))["id"]
    first = await add_message(api, conversation_id, "once", client_message_id="c-1")
    again = await add_message(api, conversation_id, "once", client_message_id="c-1")
    assert again == first
    assert first["clientMessageId"] == "c-1"
    assert await count_rows(api, Message, Message.client_message_id == "c-1") == 1

    for content, role in [("different", "USER"), ("once", "SYSTEM")]:
        with pytest.raises(GraphQLErrors) as caught:
            await add_message(api, conversation_id, content, role=role, client_message_id="c-1")
        assert caught.value.code == "CONFLICT"
    assert contents(await messages_page(api, conversation_id)) == ["once"]

    # The key is per conversation.
    other_id = (await create_conversation(api))["id"]
    elsewhere = await add_message(api, other_id, "once", client_message_id="c-1")
    assert elsewhere["id"] != first["id"]
    assert await count_rows(api, Message, Message.client_message_id == "c-1") == 2


async def test_concurrent_adds_with_one_client_message_id_store_one_row(api: ApiServer) -> None:
    conversation_id = (await create_conversation(api))["id"]
    for round_ in range(3):
        key = f"race-{round_}"
        added = await asyncio.gather(
            *(add_message(api, conversation_id, "same", client_message_id=key) for _ in range(10))
        )
        assert len({m["id"] for m in added}) == 1
        assert await count_rows(api, Message, Message.client_message_id == key) == 1
    assert await count_rows(api, Message, Message.conversation_id == conversation_id) == 3


async def test_adds_racing_a_delete_of_the_conversation(api: ApiServer) -> None:
    """Each add either lands before the delete (and goes with it) or is NOT_FOUND: never a 500."""
    for round_ in range(6):
        conversation_id = (await create_conversation(api))["id"]
        operations: list[Any] = [add_message(api, conversation_id, f"m{i}") for i in range(8)]
        delete = "mutation($id: ID!) { deleteConversation(id: $id) { id } }"
        operations.insert(round_, api.gql(delete, {"id": conversation_id}))
        results = await asyncio.gather(*operations, return_exceptions=True)
        assert not isinstance(results.pop(round_), BaseException)
        for result in results:
            if isinstance(result, BaseException):
                assert isinstance(result, GraphQLErrors), result
                assert result.code == "NOT_FOUND", result.errors
        assert await count_rows(api, Message, Message.conversation_id == conversation_id) == 0


async def test_edits_and_deletes_racing_a_delete_of_the_conversation(api: ApiServer) -> None:
    for round_ in range(6):
        conversation_id = (await create_conversation(api))["id"]
        ids = [(await add_message(api, conversation_id, f"m{i}"))["id"] for i in range(8)]
        operations: list[Any] = [
            api.gql(EDIT, {"id": message_id, "t": "edited"}) for message_id in ids[:4]
        ] + [api.gql(DELETE, {"id": message_id}) for message_id in ids[4:]]
        delete = "mutation($id: ID!) { deleteConversation(id: $id) { id } }"
        operations.insert(round_, api.gql(delete, {"id": conversation_id}))
        results = await asyncio.gather(*operations, return_exceptions=True)
        assert not isinstance(results.pop(round_), BaseException)
        for result in results:
            if isinstance(result, BaseException):
                assert isinstance(result, GraphQLErrors), result
                assert result.code == "NOT_FOUND", result.errors
        assert await count_rows(api, Message, Message.conversation_id == conversation_id) == 0


async def test_edit_racing_a_delete_of_the_same_message(api: ApiServer) -> None:
    conversation_id = (await create_conversation(api))["id"]
    for round_ in range(10):
        message_id = (await add_message(api, conversation_id, f"m{round_}"))["id"]
        operations = [api.gql(EDIT, {"id": message_id, "t": "edited"}) for _ in range(3)]
        operations.insert(round_ % 4, api.gql(DELETE, {"id": message_id}))
        results = await asyncio.gather(*operations, return_exceptions=True)
        assert not isinstance(results.pop(round_ % 4), BaseException)
        for result in results:
            if isinstance(result, BaseException):
                assert isinstance(result, GraphQLErrors), result
                assert result.code == "NOT_FOUND", result.errors
        assert await count_rows(api, Message, Message.id == message_id) == 0
    assert (await get_conversation(api, conversation_id))["lastMessage"] is None


async def test_adding_bumps_updated_at_and_the_list_order(api: ApiServer) -> None:
    older = await create_conversation(api, title="older")
    newer = await create_conversation(api, title="newer")
    message = await add_message(api, older["id"], "bump")
    bumped = await get_conversation(api, older["id"])
    assert when(bumped["updatedAt"]) > when(older["updatedAt"])
    assert when(bumped["updatedAt"]) > when(newer["updatedAt"])
    assert when(bumped["updatedAt"]) == when(message["createdAt"])
    listed = await api.gql("{ conversations { edges { node { title } } } }")
    assert [e["node"]["title"] for e in listed["conversations"]["edges"]] == ["older", "newer"]


# ---------------------------------------------------------------- edit, delete


async def test_edit_sets_edited_at(api: ApiServer) -> None:
    conversation_id = (await create_conversation(api))["id"]
    message = await add_message(api, conversation_id, "tpyo")
    assert message["editedAt"] is None
    edited = (await api.gql(EDIT, {"id": message["id"], "t": "typo fixed"}))["editMessage"]
    assert edited["content"] == "typo fixed"
    assert edited["editedAt"] is not None
    assert when(edited["editedAt"]) >= when(message["createdAt"])
    assert edited["createdAt"] == message["createdAt"]
    assert (await api.gql(MESSAGE, {"id": message["id"]}))["message"] == edited
    assert contents(await messages_page(api, conversation_id)) == ["typo fixed"]

    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(EDIT, {"id": message["id"], "t": "   "})
    assert caught.value.code == "BAD_USER_INPUT"
    assert (await api.gql(MESSAGE, {"id": message["id"]}))["message"]["content"] == "typo fixed"


async def test_delete_moves_last_message_back(api: ApiServer) -> None:
    conversation_id = (await create_conversation(api))["id"]
    first, second, third = [await add_message(api, conversation_id, t) for t in "abc"]

    def last(conversation: dict[str, Any]) -> str | None:
        found = conversation["lastMessage"]
        return None if found is None else found["id"]

    assert last(await get_conversation(api, conversation_id)) == third["id"]
    assert (await api.gql(DELETE, {"id": third["id"]}))["deleteMessage"]["id"] == third["id"]
    assert last(await get_conversation(api, conversation_id)) == second["id"]
    await api.gql(DELETE, {"id": first["id"]})  # not the last one: lastMessage stays
    assert last(await get_conversation(api, conversation_id)) == second["id"]
    await api.gql(DELETE, {"id": second["id"]})
    assert last(await get_conversation(api, conversation_id)) is None
    assert contents(await messages_page(api, conversation_id)) == []
    for operation in (DELETE, MESSAGE):
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(operation, {"id": first["id"]})
        assert caught.value.code == "NOT_FOUND"


# ---------------------------------------------------------------- me, preferences


async def preferences(api: ApiServer, **values: Any) -> dict[str, Any]:
    data = await api.gql(PREFERENCES, {"i": values})
    found: dict[str, Any] = data["updatePreferences"]["preferences"]
    return found


async def test_me_is_created_on_first_use(api: ApiServer) -> None:
    alice = (await api.gql(ME))["me"]
    assert alice["name"] == "Alice"
    assert alice["preferences"] == {"defaultModel": None, "theme": "SYSTEM", "toolsEnabled": []}
    assert (await api.gql(ME))["me"] == alice  # the same user the second time
    bob = (await api.gql(ME, user="bob"))["me"]
    assert bob["id"] != alice["id"]
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(ME, user=None)
    assert caught.value.code == "UNAUTHENTICATED"


async def test_update_preferences(api: ApiServer) -> None:
    changed = await preferences(api, defaultModel="demo", theme="DARK")
    assert changed == {"defaultModel": "demo", "theme": "DARK", "toolsEnabled": []}
    changed = await preferences(api, toolsEnabled=["current_time", "calculator", "calculator"])
    assert changed == {
        "defaultModel": "demo",
        "theme": "DARK",
        "toolsEnabled": ["calculator", "current_time"],
    }
    changed = await preferences(api, theme="LIGHT")  # omitted fields stay
    assert changed["defaultModel"] == "demo"
    assert changed["toolsEnabled"] == ["calculator", "current_time"]
    changed = await preferences(api, defaultModel=None)  # null clears it
    assert changed["defaultModel"] is None
    assert changed["theme"] == "LIGHT"
    changed = await preferences(api, toolsEnabled=[])  # an empty list disables every tool
    assert changed["toolsEnabled"] == []
    assert (await api.gql(ME))["me"]["preferences"] == changed
    assert (await api.gql(ME, user="bob"))["me"]["preferences"]["theme"] == "SYSTEM"


@pytest.mark.parametrize(
    "values",
    [
        {"toolsEnabled": ["calculator", "rm_rf"]},
        {"defaultModel": "not a model!"},
        {"defaultModel": "gpt-unknown"},
        {"theme": "NEON"},
    ],
)
async def test_bad_preferences_are_rejected(api: ApiServer, values: dict[str, Any]) -> None:
    before = await preferences(api, toolsEnabled=["current_time"], theme="DARK")
    with pytest.raises(GraphQLErrors) as caught:
        await preferences(api, **{"defaultModel": "demo", **values})
    assert caught.value.code == "BAD_USER_INPUT"
    assert (await api.gql(ME))["me"]["preferences"] == before
