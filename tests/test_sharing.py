"""Share links: a snapshot copied at creation, public by token, revocable, expiring."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from models.sharing import ShareLink
from resolvers.schema import build_schema
from tests.factories import add_message, create_conversation, send_and_finish
from tests.support import ApiServer, GraphQLErrors

CREATE = """mutation($c: ID!, $m: ID!, $e: DateTime) {
  createShareLink(conversationId: $c, upToMessageId: $m, expiresAt: $e) {
    token link { id conversationId upToMessageId title active expiresAt revokedAt }
  }
}"""
SHARED = """query($t: String!) { sharedConversation(token: $t) {
  title sharedAt messages { role content model attachments { name downloadUrl } }
} }"""


async def share(api: ApiServer, conversation_id: str, message_id: str, **extra: Any) -> Any:
    data = await api.gql(CREATE, {"c": conversation_id, "m": message_id, **extra})
    return data["createShareLink"]


async def shared(api: ApiServer, token: str) -> dict[str, Any]:
    data = await api.gql(SHARED, {"t": token}, user=None)  # no account
    result: dict[str, Any] = data["sharedConversation"]
    return result


async def test_snapshot_is_public_and_later_edits_do_not_leak(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Recipe")
    first = await add_message(api, conversation["id"], "how do I make bread")
    sent = await send_and_finish(api, conversation["id"], "and with rye flour?")
    answer_id = sent["assistantMessage"]["id"]
    created = await share(api, conversation["id"], answer_id)
    token = created["token"]
    assert len(token) >= 43
    assert created["link"]["active"] and created["link"]["title"] == "Recipe"

    # Changes after the link was made: none of them shows.
    await api.gql(
        'mutation($id: ID!) { editMessage(id: $id, content: "a secret edit") { id } }',
        {"id": first["id"]},
    )
    await add_message(api, conversation["id"], "a later private message")
    await api.gql(
        'mutation($id: ID!) { renameConversation(id: $id, title: "Renamed") { id } }',
        {"id": conversation["id"]},
    )
    snapshot = await shared(api, token)
    assert snapshot["title"] == "Recipe"
    assert [(m["role"], m["content"][:19]) for m in snapshot["messages"]] == [
        ("USER", "how do I make bread"),
        ("USER", "and with rye flour?"),
        ("ASSISTANT", snapshot["messages"][2]["content"][:19]),
    ]
    assert "rye flour" in snapshot["messages"][2]["content"]

    # Up to a message: what came after it is not in the snapshot.
    partial = await share(api, conversation["id"], first["id"])
    assert [m["content"] for m in (await shared(api, partial["token"]))["messages"]] == [
        "a secret edit"
    ]


async def test_revoked_expired_and_unknown_tokens_are_not_found(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Shared")
    message = await add_message(api, conversation["id"], "hello")
    revoked = await share(api, conversation["id"], message["id"])
    expiring = await share(
        api,
        conversation["id"],
        message["id"],
        e=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(),
    )
    assert (await shared(api, expiring["token"]))["messages"]
    for _ in range(2):
        data = await api.gql(
            "mutation($id: ID!) { revokeShareLink(id: $id) { id active revokedAt } }",
            {"id": revoked["link"]["id"]},
        )
        assert data["revokeShareLink"]["active"] is False
    async with api.services.db.write() as session:
        await session.execute(
            update(ShareLink)
            .where(ShareLink.id == expiring["link"]["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    for token in (revoked["token"], expiring["token"], "x" * 43, ""):
        with pytest.raises(GraphQLErrors) as caught:
            await shared(api, token)
        assert caught.value.code == "NOT_FOUND", token
    links = (await api.gql("{ shareLinks { id active } }"))["shareLinks"]
    assert {(link["id"], link["active"]) for link in links} == {
        (revoked["link"]["id"], False),
        (expiring["link"]["id"], False),
    }
    assert (await api.gql("{ shareLinks { id } }", user="bob"))["shareLinks"] == []


async def test_only_a_hash_of_the_token_is_stored(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Hash")
    message = await add_message(api, conversation["id"], "hello")
    created = await share(api, conversation["id"], message["id"])
    async with api.services.db.read() as session:
        row = await session.get(ShareLink, created["link"]["id"])
    assert row is not None and created["token"] not in row.token_hash
    assert len(row.token_hash) == 64


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("past", "BAD_USER_INPUT"),
        ("far", "BAD_USER_INPUT"),
        ("other conversation", "NOT_FOUND"),
        ("bad id", "BAD_USER_INPUT"),
    ],
)
async def test_create_refuses_bad_input(api: ApiServer, change: str, code: str) -> None:
    conversation = await create_conversation(api, title="A")
    other = await create_conversation(api, title="B")
    message = await add_message(api, conversation["id"], "hello")
    now = dt.datetime.now(dt.UTC)
    variables: dict[str, Any] = {"c": conversation["id"], "m": message["id"]}
    if change == "past":
        variables["e"] = (now - dt.timedelta(minutes=1)).isoformat()
    elif change == "far":
        variables["e"] = (now + dt.timedelta(days=400)).isoformat()
    elif change == "other conversation":
        variables["c"] = other["id"]
    else:
        variables["m"] = "nope"
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(CREATE, variables)
    assert caught.value.code == code
    assert (await api.gql("{ shareLinks { id } }"))["shareLinks"] == []


async def test_another_user_cannot_share_or_revoke(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Mine")
    message = await add_message(api, conversation["id"], "hello")
    created = await share(api, conversation["id"], message["id"])
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(CREATE, {"c": conversation["id"], "m": message["id"]}, user="bob")
    assert caught.value.code == "NOT_FOUND"
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(
            "mutation($id: ID!) { revokeShareLink(id: $id) { id } }",
            {"id": created["link"]["id"]},
            user="bob",
        )
    assert caught.value.code == "NOT_FOUND"
    assert (await shared(api, created["token"]))["messages"]


def test_the_public_snapshot_type_reveals_no_ids_or_owner() -> None:
    """sharedConversation is deliberately public: its types carry only the snapshot."""
    schema = build_schema()._schema
    fields = {
        name: set(schema.get_type(name).fields)  # type: ignore[union-attr]
        for name in ("SharedConversation", "SharedMessage", "SharedAttachment")
    }
    assert fields == {
        "SharedConversation": {"title", "sharedAt", "messages"},
        "SharedMessage": {"role", "content", "model", "createdAt", "attachments", "parts"},
        "SharedAttachment": {"name", "mediaType", "size", "downloadUrl"},
    }
