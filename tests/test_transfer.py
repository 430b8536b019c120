"""Export and import: the whole tree out and back, idempotent, owned, refused whole when bad."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gql_api.domain.transfer_format import ExportDocument
from models.conversations import Conversation
from models.messages import Message
from tests.attachment_support import fetch
from tests.conftest import make_settings
from tests.streaming import send, wait_finished
from tests.support import ApiServer, GraphQLErrors, start_api
from tests.test_branches import EDIT, RETRY, path, two_turns
from tests.test_ownership import upload

EXPORT = "query($ids: [ID!]) { exportConversations(conversationIds: $ids) }"
IMPORT = """mutation($d: JSON!) { importConversations(document: $d) {
  conversationsCreated messagesCreated conversations { id title currentLeafId } } }"""
LIST = "{ conversations(first: 100) { edges { node { id title } } } }"


async def export(api: ApiServer, ids: list[str] | None = None, user: str = "alice") -> Any:
    return (await api.gql(EXPORT, {"ids": ids}, user=user))["exportConversations"]


async def import_(api: ApiServer, document: Any, user: str = "alice") -> dict[str, Any]:
    result: dict[str, Any] = (await api.gql(IMPORT, {"d": document}, user=user))[
        "importConversations"
    ]
    return result


async def row_counts(api: ApiServer) -> tuple[int, int]:
    async with api.services.db.read() as session:
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        messages = await session.scalar(select(func.count()).select_from(Message))
    return int(conversations or 0), int(messages or 0)


async def branched(api: ApiServer) -> tuple[str, list[str]]:
    """Two turns, a retried first answer and an edited second prompt: a real tree."""
    conversation, ids = await two_turns(api)
    retried = (await api.gql(RETRY, {"m": ids[1]}))["retryMessage"]
    await wait_finished(api, retried["stream"]["id"])
    await api.gql("mutation($m: ID!) { selectBranch(messageId: $m) { leafId } }", {"m": ids[1]})
    edited = (await api.gql(EDIT, {"m": ids[2], "t": "edited [demo:words=3]"}))["editAndResend"]
    await wait_finished(api, edited["stream"]["id"])
    return conversation, ids


async def test_export_holds_the_whole_tree_and_attachment_links(api: ApiServer) -> None:
    conversation, _ = await branched(api)
    attachment = await upload(api, "alice", conversation)
    sent = await send(api, conversation, "look [demo:words=2]")
    await wait_finished(api, sent["stream"]["id"])
    await api.gql(
        "mutation($c: ID!, $a: [ID!]) { sendMessage(input: {conversationId: $c, "
        'content: "and this [demo:words=2]", attachmentIds: $a}) { stream { id } } }',
        {"c": conversation, "a": [attachment]},
    )
    document = await export(api, [conversation])
    ExportDocument.model_validate(document)  # the documented format
    assert document["format"] == "chatgql-export" and document["version"] == 1
    [doc] = document["conversations"]
    async with api.services.db.read() as session:
        stored = await session.scalar(
            select(func.count()).where(Message.conversation_id == conversation)
        )
    assert len(doc["messages"]) == stored  # every branch, not only the current path
    current = await path(api, conversation)
    assert doc["currentLeafId"] == current[-1]["id"]
    seen: set[str] = set()
    for message in doc["messages"]:
        assert message["parentId"] is None or message["parentId"] in seen  # parents first
        seen.add(message["id"])
    answers = [m for m in doc["messages"] if m["role"] == "assistant" and m["status"] == "complete"]
    assert all(m["usage"]["outputTokens"] > 0 for m in answers)
    [with_file] = [m for m in doc["messages"] if m["attachments"]]
    [info] = with_file["attachments"]
    assert info["id"] == attachment and info["size"] > 0
    download = await fetch(api, info["url"])  # a signed link: no token needed
    assert download.status_code == 200 and len(download.content) == info["size"]
    # Everything of the user when no ids are given; another user's id is NOT_FOUND.
    assert [c["id"] for c in (await export(api))["conversations"]] == [conversation]
    with pytest.raises(GraphQLErrors) as caught:
        await export(api, [conversation], user="bob")
    assert caught.value.code == "NOT_FOUND"


async def test_import_is_idempotent_and_owned_by_the_importer(api: ApiServer) -> None:
    conversation, _ = await branched(api)
    document = await export(api, [conversation])
    alice_path = await path(api, conversation)

    # Alice imports her own export: it is all there already.
    again = await import_(api, document)
    assert (again["conversationsCreated"], again["messagesCreated"]) == (0, 0)

    # Bob imports it: the ids are Alice's, so his copy gets ids of its own.
    before = await row_counts(api)
    first = await import_(api, document, user="bob")
    assert first["conversationsCreated"] == 1
    assert first["messagesCreated"] == len(document["conversations"][0]["messages"])
    [copy_] = first["conversations"]
    assert copy_["id"] != conversation
    assert await row_counts(api) == (before[0] + 1, before[1] + first["messagesCreated"])
    second = await import_(api, document, user="bob")
    assert (second["conversationsCreated"], second["messagesCreated"]) == (0, 0)
    assert await row_counts(api) == (before[0] + 1, before[1] + first["messagesCreated"])
    # Bob's copy has the same tree and current path; Alice's rows are untouched.
    bob_path = (
        await api.gql(
            "query($c: ID!) { messages(conversationId: $c) { edges { node { content role } } } }",
            {"c": copy_["id"]},
            user="bob",
        )
    )["messages"]["edges"]
    assert [e["node"]["content"] for e in bob_path] == [m["content"] for m in alice_path]
    assert await path(api, conversation) == alice_path
    assert len((await api.gql(LIST))["conversations"]["edges"]) == 1

    # Deleted and imported again: back with its own ids.
    await api.gql("mutation($c: ID!) { deleteConversation(id: $c) { id } }", {"c": conversation})
    back = await import_(api, document)
    assert back["conversations"][0]["id"] == conversation
    assert [m["id"] for m in await path(api, conversation)] == [m["id"] for m in alice_path]


def broken(document: dict[str, Any], change: Any) -> dict[str, Any]:
    bad = copy.deepcopy(document)
    change(bad)
    return bad


async def test_bad_documents_are_refused_with_the_path_and_store_nothing(api: ApiServer) -> None:
    conversation, _ = await branched(api)
    good = await export(api, [conversation])
    await api.gql("mutation($c: ID!) { deleteConversation(id: $c) { id } }", {"c": conversation})
    messages = good["conversations"][0]["messages"]
    other_id = "0" * 32

    def set_(path_: list[Any], value: Any) -> Any:
        def change(doc: Any) -> None:
            target = doc
            for key in path_[:-1]:
                target = target[key]
            target[path_[-1]] = value

        return change

    def cycle(doc: Any) -> None:  # the first message's parent is the last one
        doc["conversations"][0]["messages"][0]["parentId"] = messages[-1]["id"]

    def second_conversation_with_a_foreign_parent(doc: Any) -> None:
        extra = copy.deepcopy(doc["conversations"][0])
        extra["id"] = other_id
        for i, m in enumerate(extra["messages"]):
            m["id"] = f"{i + 1:032x}"
            m["parentId"] = messages[0]["id"] if i == 0 else f"{i:032x}"
            m["replyToId"] = None
        extra["currentLeafId"] = None
        doc["conversations"].append(extra)

    cases = [
        (set_(["version"], 2), "version"),
        (
            set_(["conversations", 0, "messages", 1, "role"], "robot"),
            "conversations[0].messages[1].role",
        ),
        (
            set_(["conversations", 0, "messages", 2, "id"], "nope"),
            "conversations[0].messages[2].id",
        ),
        (set_(["conversations", 0, "title"], None), "conversations[0].title"),
        (set_(["conversations", 0, "surprise"], 1), "conversations[0].surprise"),
        (cycle, "conversations[0].messages[0].parentId"),
        (
            set_(["conversations", 0, "messages", 1, "parentId"], other_id),
            "conversations[0].messages[1].parentId",
        ),
        (second_conversation_with_a_foreign_parent, "conversations[1].messages[0].parentId"),
        (set_(["conversations", 0, "currentLeafId"], other_id), "conversations[0].currentLeafId"),
    ]
    before = await row_counts(api)
    for change, where in cases:
        with pytest.raises(GraphQLErrors) as caught:
            await import_(api, broken(good, change))
        error = caught.value.errors[0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["path"] == where and where in error["message"], error
    for not_a_document in ([], "text", 3):
        with pytest.raises(GraphQLErrors) as caught:
            await import_(api, not_a_document)
        assert caught.value.code == "BAD_USER_INPUT"
    assert await row_counts(api) == before


async def test_a_failure_late_in_the_import_stores_nothing(api: ApiServer) -> None:
    conversation, _ = await branched(api)
    good = await export(api, [conversation])
    await api.gql("mutation($c: ID!) { deleteConversation(id: $c) { id } }", {"c": conversation})
    # The second conversation reuses a clientMessageId: only the database can tell.
    bad = copy.deepcopy(good)
    extra = copy.deepcopy(good["conversations"][0])
    extra["id"] = "a" * 32
    for i, m in enumerate(extra["messages"]):
        m["id"] = f"{i + 1:032x}"
        m["parentId"] = None if m["parentId"] is None else f"{i:032x}"
        m["replyToId"] = None
        m["clientMessageId"] = "same"
    extra["currentLeafId"] = None
    bad["conversations"].append(extra)
    before = await row_counts(api)
    with pytest.raises(GraphQLErrors) as caught:
        await import_(api, bad)
    assert caught.value.code == "CONFLICT"
    assert await row_counts(api) == before  # not even the first, valid conversation


async def test_an_oversized_import_is_refused(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, max_import_bytes=2000)
    async with start_api(settings) as api:
        conversation, _ = await two_turns(api)
        document = await export(api, [conversation])
        await api.gql(
            "mutation($c: ID!) { deleteConversation(id: $c) { id } }", {"c": conversation}
        )
        document["conversations"][0]["messages"][0]["content"] = "x" * 3000
        before = await row_counts(api)
        with pytest.raises(GraphQLErrors) as caught:
            await import_(api, document)
        assert caught.value.code == "PAYLOAD_TOO_LARGE"
        assert await row_counts(api) == before
