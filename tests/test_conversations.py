"""Conversations: create, change, delete, get, list with cursors, and indexed title search."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text

from gql_api.storage.base import new_key
from models.attachments import Attachment
from models.messages import Message
from models.streams import Stream, StreamChunk
from tests.factories import (
    add_message,
    count_rows,
    create_conversation,
    create_project,
    get_conversation,
    send_and_finish,
)
from tests.support import ApiServer, GraphQLErrors

LIST = """
query($first: Int!, $after: String, $archived: Boolean, $projectId: ID, $search: String) {
  conversations(first: $first, after: $after, archived: $archived, projectId: $projectId,
                search: $search) {
    edges { cursor node { id title pinned archived projectId updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
RENAME = """mutation($id: ID!, $t: String!) {
  renameConversation(id: $id, title: $t) { id title updatedAt } }"""
PIN = """mutation($id: ID!, $p: Boolean!) {
  setConversationPinned(id: $id, pinned: $p) { pinned updatedAt } }"""
ARCHIVE = """mutation($id: ID!, $a: Boolean!) {
  setConversationArchived(id: $id, archived: $a) { archived } }"""
DRAFT = "mutation($id: ID!, $d: String) { saveDraft(id: $id, draft: $d) { draft updatedAt } }"
DELETE = "mutation($id: ID!) { deleteConversation(id: $id) { id } }"


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def list_page(
    api: ApiServer, *, first: int = 10, user: str = "alice", **filters: Any
) -> dict[str, Any]:
    data = await api.gql(LIST, {"first": first, **filters}, user=user)
    page: dict[str, Any] = data["conversations"]
    return page


async def list_all(
    api: ApiServer, *, first: int = 10, user: str = "alice", **filters: Any
) -> list[dict[str, Any]]:
    """Follow endCursor until hasNextPage is false; every page but the last is full."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(100):
        variables = dict(filters, after=after) if after else filters
        page = await list_page(api, first=first, user=user, **variables)
        nodes += [edge["node"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        assert len(page["edges"]) == first
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    raise AssertionError("pagination did not end")


async def search_titles(api: ApiServer, term: str, *, user: str = "alice") -> set[str]:
    return {node["title"] for node in await list_all(api, first=50, user=user, search=term)}


# ---------------------------------------------------------------- create, change, get


async def test_create_with_defaults(api: ApiServer) -> None:
    created = await create_conversation(api)
    assert created["title"] == "New conversation"
    assert created["model"] is None
    assert created["systemPrompt"] is None
    assert created["pinned"] is False
    assert created["archived"] is False
    assert created["draft"] is None
    assert created["projectId"] is None
    assert created["lastMessage"] is None
    created_at, updated_at = when(created["createdAt"]), when(created["updatedAt"])
    assert created_at.tzinfo is not None
    assert abs(updated_at - created_at) < dt.timedelta(seconds=1)
    assert await get_conversation(api, created["id"]) == created


async def test_create_with_title_model_and_project(api: ApiServer) -> None:
    project = await create_project(api, "Work")
    created = await create_conversation(
        api,
        title="  Quarterly \t plan  ",
        model="demo",
        projectId=project["id"],
        systemPrompt="Be brief.",
    )
    assert created["title"] == "Quarterly plan"  # whitespace normalized
    assert created["model"] == "demo"
    assert created["projectId"] == project["id"]
    assert created["systemPrompt"] == "Be brief."
    assert await get_conversation(api, created["id"]) == created


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": "   "}, "BAD_USER_INPUT"),
        ({"title": "x" * 201}, "BAD_USER_INPUT"),
        ({"model": "bad model!"}, "BAD_USER_INPUT"),
        ({"model": "gpt-unknown"}, "BAD_USER_INPUT"),
        ({"projectId": "not-an-id"}, "BAD_USER_INPUT"),
        ({"projectId": "0" * 32}, "NOT_FOUND"),
    ],
)
async def test_create_rejects_bad_input(api: ApiServer, fields: dict[str, Any], code: str) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await create_conversation(api, **fields)
    assert caught.value.code == code
    assert await list_all(api, archived=None) == []


async def test_create_in_another_users_project_is_not_found(api: ApiServer) -> None:
    theirs = await create_project(api, "Bob's", user="bob")
    with pytest.raises(GraphQLErrors) as caught:
        await create_conversation(api, projectId=theirs["id"])
    assert caught.value.code == "NOT_FOUND"
    projects = await api.gql("{ projects { conversationCount } }", user="bob")
    assert projects["projects"] == [{"conversationCount": 0}]


async def test_rename(api: ApiServer) -> None:
    created = await create_conversation(api, title="Old")
    renamed = (await api.gql(RENAME, {"id": created["id"], "t": "  New   name "}))[
        "renameConversation"
    ]
    assert renamed["title"] == "New name"
    assert when(renamed["updatedAt"]) > when(created["updatedAt"])
    assert (await get_conversation(api, created["id"]))["title"] == "New name"

    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(RENAME, {"id": created["id"], "t": " \n "})
    assert caught.value.code == "BAD_USER_INPUT"
    assert (await get_conversation(api, created["id"]))["title"] == "New name"


async def test_pin_and_unpin(api: ApiServer) -> None:
    created = await create_conversation(api)
    pinned = (await api.gql(PIN, {"id": created["id"], "p": True}))["setConversationPinned"]
    assert pinned["pinned"] is True
    assert (await get_conversation(api, created["id"]))["pinned"] is True
    unpinned = (await api.gql(PIN, {"id": created["id"], "p": False}))["setConversationPinned"]
    assert unpinned["pinned"] is False
    assert (await get_conversation(api, created["id"]))["pinned"] is False


async def test_archive_and_unarchive(api: ApiServer) -> None:
    created = await create_conversation(api)
    archived = await api.gql(ARCHIVE, {"id": created["id"], "a": True})
    assert archived["setConversationArchived"]["archived"] is True
    assert (await get_conversation(api, created["id"]))["archived"] is True
    assert await list_all(api) == []  # the default list leaves archived ones out
    await api.gql(ARCHIVE, {"id": created["id"], "a": False})
    assert (await get_conversation(api, created["id"]))["archived"] is False
    assert [n["id"] for n in await list_all(api)] == [created["id"]]


async def test_save_and_clear_draft(api: ApiServer) -> None:
    created = await create_conversation(api)
    saved = (await api.gql(DRAFT, {"id": created["id"], "d": "half a thought… ✍️"}))["saveDraft"]
    assert saved["draft"] == "half a thought… ✍️"
    assert (await get_conversation(api, created["id"]))["draft"] == "half a thought… ✍️"
    cleared = (await api.gql(DRAFT, {"id": created["id"], "d": None}))["saveDraft"]
    assert cleared["draft"] is None
    assert (await get_conversation(api, created["id"]))["draft"] is None
    await api.gql(DRAFT, {"id": created["id"], "d": "again"})
    assert (await api.gql(DRAFT, {"id": created["id"], "d": ""}))["saveDraft"]["draft"] is None


async def test_get_is_scoped_to_the_owner(api: ApiServer) -> None:
    created = await create_conversation(api, title="Mine")
    for conversation_id, code in [
        (created["id"], "NOT_FOUND"),  # bob asks for alice's
        ("0" * 32, "NOT_FOUND"),
        ("nope", "BAD_USER_INPUT"),
    ]:
        with pytest.raises(GraphQLErrors) as caught:
            await get_conversation(api, conversation_id, user="bob")
        assert caught.value.code == code
    for mutation, variables in [
        (RENAME, {"id": created["id"], "t": "Bob's now"}),
        (PIN, {"id": created["id"], "p": True}),
        (ARCHIVE, {"id": created["id"], "a": True}),
        (DRAFT, {"id": created["id"], "d": "bob"}),
        (DELETE, {"id": created["id"]}),
    ]:
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(mutation, variables, user="bob")
        assert caught.value.code == "NOT_FOUND"
    assert await get_conversation(api, created["id"]) == created
    assert await list_all(api, user="bob", archived=None) == []


# ---------------------------------------------------------------- delete


async def _store_bytes(api: ApiServer, key: str, data: bytes) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    await api.services.store.put(key, chunks(), media_type="text/plain")


async def test_delete_removes_messages_streams_chunks_and_attachments(api: ApiServer) -> None:
    me = (await api.gql("{ me { id } }"))["me"]["id"]
    project = await create_project(api, "P")
    doomed = await create_conversation(api, title="Doomed", projectId=project["id"])
    kept = await create_conversation(api, title="Kept")
    sent = await send_and_finish(api, doomed["id"], "hello there")
    assert sent["stream"]["status"] == "COMPLETED"
    await add_message(api, doomed["id"], "a note", role="SYSTEM")
    kept_message = await add_message(api, kept["id"], "stays")

    # Attachment rows (one on the conversation, one on its message) and their bytes.
    keys = [new_key(me), new_key(me)]
    async with api.services.db.write() as session:
        for key, message_id in zip(keys, [None, sent["userMessage"]["id"]], strict=True):
            session.add(
                Attachment(
                    owner_id=me,
                    conversation_id=doomed["id"],
                    message_id=message_id,
                    name="a.txt",
                    media_type="text/plain",
                    size=3,
                    sha256="0" * 64,
                    storage_key=key,
                )
            )
    for key in keys:
        await _store_bytes(api, key, b"abc")

    stream_id = sent["stream"]["id"]
    assert await count_rows(api, Message, Message.conversation_id == doomed["id"]) == 3
    assert await count_rows(api, Stream, Stream.conversation_id == doomed["id"]) == 1
    assert await count_rows(api, StreamChunk, StreamChunk.stream_id == stream_id) > 0
    assert await count_rows(api, Attachment, Attachment.conversation_id == doomed["id"]) == 2

    deleted = await api.gql(DELETE, {"id": doomed["id"]})
    assert deleted["deleteConversation"]["id"] == doomed["id"]

    assert await count_rows(api, Message, Message.conversation_id == doomed["id"]) == 0
    assert await count_rows(api, Stream, Stream.conversation_id == doomed["id"]) == 0
    assert await count_rows(api, StreamChunk, StreamChunk.stream_id == stream_id) == 0
    assert await count_rows(api, Attachment, Attachment.conversation_id == doomed["id"]) == 0
    assert await count_rows(api, Attachment) == 0
    for key in keys:
        assert not await api.services.store.exists(key)
    if api.services.db.dialect == "sqlite":
        async with api.services.db.read() as session:
            left = await session.scalar(
                text("SELECT count(*) FROM conversation_titles WHERE conversation_id = :c"),
                {"c": doomed["id"]},
            )
        assert left == 0

    # Everything else is untouched.
    assert await count_rows(api, Message, Message.id == kept_message["id"]) == 1
    assert (await get_conversation(api, kept["id"]))["lastMessage"]["id"] == kept_message["id"]
    count = await api.gql(
        "query($id: ID!) { project(id: $id) { conversationCount } }", {"id": project["id"]}
    )
    assert count["project"]["conversationCount"] == 0
    for operation in (DELETE, "query($id: ID!) { conversation(id: $id) { id } }"):
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(operation, {"id": doomed["id"]})
        assert caught.value.code == "NOT_FOUND"


# ---------------------------------------------------------------- list


async def test_list_pages_by_cursor_most_recent_first_pinned_first(api: ApiServer) -> None:
    created = [await create_conversation(api, title=f"c{i:02}") for i in range(25)]
    # Touch them in a shuffled order, so "most recently updated" differs from creation order.
    touched = created[:]
    random.Random(7).shuffle(touched)
    for conversation in touched:
        await api.gql(RENAME, {"id": conversation["id"], "t": conversation["title"] + "!"})
    expected = [c["id"] for c in reversed(touched)]
    # Pinning does not touch updatedAt; pinned ones come first, still newest first among them.
    to_pin = [expected[20], expected[5]]
    for conversation_id in to_pin:
        await api.gql(PIN, {"id": conversation_id, "p": True})
    expected = [expected[5], expected[20]] + [i for i in expected if i not in to_pin]

    sizes = []
    after: str | None = None
    seen: list[str] = []
    while True:
        page = await list_page(api, first=10, **({"after": after} if after else {}))
        sizes.append(len(page["edges"]))
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sizes == [10, 10, 5]
    assert seen == expected  # no duplicates, no gaps, in order
    assert len(set(seen)) == 25

    nodes = await list_all(api, first=7)
    assert [n["id"] for n in nodes] == expected
    assert [n["pinned"] for n in nodes[:3]] == [True, True, False]
    unpinned = [when(n["updatedAt"]) for n in nodes[2:]]
    assert unpinned == sorted(unpinned, reverse=True)


async def test_list_cursor_stays_valid_when_rows_change(api: ApiServer) -> None:
    ids = [(await create_conversation(api, title=f"c{i}"))["id"] for i in range(6)]
    first = await list_page(api, first=3)
    assert [e["node"]["id"] for e in first["edges"]] == ids[::-1][:3]
    # A conversation from the next page moves to the top: it is not shown twice.
    await api.gql(RENAME, {"id": ids[0], "t": "bumped"})
    rest = await list_page(api, first=10, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [ids[2], ids[1]]


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJ4Il0", "WzEsMiwzXQ"])
async def test_list_rejects_bad_cursor(api: ApiServer, cursor: str) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await list_page(api, after=cursor)
    assert caught.value.code == "BAD_USER_INPUT"


@pytest.mark.parametrize("first", [0, -1, 10_000])
async def test_list_rejects_bad_page_size(api: ApiServer, first: int) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await list_page(api, first=first)
    assert caught.value.code == "BAD_USER_INPUT"


async def test_list_archived_filter(api: ApiServer) -> None:
    ids = [(await create_conversation(api, title=f"c{i}"))["id"] for i in range(8)]
    archived = set(ids[1:4])
    for conversation_id in archived:
        await api.gql(ARCHIVE, {"id": conversation_id, "a": True})
    await create_conversation(api, title="bob's", user="bob")

    def ids_of(nodes: list[dict[str, Any]]) -> set[str]:
        return {n["id"] for n in nodes}

    assert ids_of(await list_all(api, first=3)) == set(ids) - archived  # default: false
    assert ids_of(await list_all(api, first=3, archived=False)) == set(ids) - archived
    archived_nodes = await list_all(api, first=2, archived=True)
    assert ids_of(archived_nodes) == archived
    assert all(n["archived"] for n in archived_nodes)
    assert ids_of(await list_all(api, first=3, archived=None)) == set(ids)


async def test_list_project_filter(api: ApiServer) -> None:
    work = await create_project(api, "Work")
    home = await create_project(api, "Home")
    in_work = {(await create_conversation(api, projectId=work["id"]))["id"] for _ in range(4)}
    in_home = {(await create_conversation(api, projectId=home["id"]))["id"] for _ in range(2)}
    loose = (await create_conversation(api))["id"]

    nodes = await list_all(api, first=3, projectId=work["id"])
    assert {n["id"] for n in nodes} == in_work
    assert {n["projectId"] for n in nodes} == {work["id"]}
    assert {n["id"] for n in await list_all(api, projectId=home["id"])} == in_home
    everything = {n["id"] for n in await list_all(api, first=50)}
    assert everything == in_work | in_home | {loose}
    theirs = await list_all(api, user="bob", projectId=work["id"])
    assert theirs == []


# ---------------------------------------------------------------- search


async def _seed_titles(api: ApiServer) -> None:
    for title in [
        "Über den Wolken",
        "übermorgen planen",
        "ÜBERSICHT 2025",
        "Uber ride receipts",
        "Cab to the AIRPORT",
        "about absinthe",
        "100% done",
        "1000 done",
        "snake_case names",
        "snakeXcase names",
        "Résumé tips",
    ]:
        await create_conversation(api, title=title)
    await create_conversation(api, title="Über Bob's secrets", user="bob")
    await create_conversation(api, title="bob's 100% ab_c", user="bob")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("über", {"Über den Wolken", "übermorgen planen", "ÜBERSICHT 2025"}),
        ("ÜBER", {"Über den Wolken", "übermorgen planen", "ÜBERSICHT 2025"}),
        ("  üBeR  ", {"Über den Wolken", "übermorgen planen", "ÜBERSICHT 2025"}),
        ("üb", {"Über den Wolken", "übermorgen planen", "ÜBERSICHT 2025"}),
        ("Üb", {"Über den Wolken", "übermorgen planen", "ÜBERSICHT 2025"}),
        ("uber", {"Uber ride receipts"}),
        ("ab", {"Cab to the AIRPORT", "about absinthe"}),
        ("AB", {"Cab to the AIRPORT", "about absinthe"}),
        ("airport", {"Cab to the AIRPORT"}),
        ("RÉSUMÉ", {"Résumé tips"}),
        ("0%", {"100% done"}),
        ("100%", {"100% done"}),
        ("%", {"100% done"}),
        ("e_c", {"snake_case names"}),
        ("_", {"snake_case names"}),
        ("snake_", {"snake_case names"}),
        ("1000", {"1000 done"}),
        ("wolke", {"Über den Wolken"}),
        ("den Wolken", {"Über den Wolken"}),
        ('"quoted"', set()),
        ("zzz", set()),
        ("secrets", set()),  # only in bob's conversation
    ],
)
async def test_search_title_substring_ignoring_case(
    api: ApiServer, term: str, expected: set[str]
) -> None:
    await _seed_titles(api)
    assert await search_titles(api, term) == expected


async def test_search_never_matches_other_users(api: ApiServer) -> None:
    await _seed_titles(api)
    assert await search_titles(api, "bob") == set()
    assert await search_titles(api, "über", user="bob") == {"Über Bob's secrets"}
    assert await search_titles(api, "100%", user="bob") == {"bob's 100% ab_c"}
    assert await search_titles(api, "b_", user="bob") == {"bob's 100% ab_c"}
    assert await search_titles(api, "wolken", user="bob") == set()


async def test_search_follows_renames_deletes_and_filters(api: ApiServer) -> None:
    first = await create_conversation(api, title="Alpha project")
    second = await create_conversation(api, title="Alphabet soup")
    assert await search_titles(api, "alpha") == {"Alpha project", "Alphabet soup"}
    await api.gql(RENAME, {"id": first["id"], "t": "Gamma project"})
    assert await search_titles(api, "alpha") == {"Alphabet soup"}
    assert await search_titles(api, "gamma") == {"Gamma project"}
    await api.gql(ARCHIVE, {"id": second["id"], "a": True})
    assert await search_titles(api, "alpha") == set()
    archived = await list_all(api, search="alpha", archived=True)
    assert [n["title"] for n in archived] == ["Alphabet soup"]
    await api.gql(DELETE, {"id": second["id"]})
    assert await list_all(api, search="alpha", archived=None) == []


async def test_search_pages_by_cursor(api: ApiServer) -> None:
    for i in range(12):
        await create_conversation(api, title=f"Weekly sync {i}")
        await create_conversation(api, title=f"Other {i}")
    nodes = await list_all(api, first=5, search="weekly")
    assert len(nodes) == 12
    assert len({n["id"] for n in nodes}) == 12
    assert all(n["title"].startswith("Weekly sync") for n in nodes)


async def test_search_rejects_overlong_term(api: ApiServer) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await list_page(api, search="x" * 201)
    assert caught.value.code == "BAD_USER_INPUT"


async def _captured_search(api: ApiServer, term: str, expected: set[str]) -> tuple[str, Any]:
    """Run a search over HTTP and return the SQL statement (and parameters) the domain built."""
    engine = api.services.db.engine.sync_engine
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if "FROM conversations" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert await search_titles(api, term) == expected
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(captured) == 1, captured
    return captured[0]


async def test_search_is_served_by_the_title_index(api: ApiServer) -> None:
    await _seed_titles(api)
    db = api.services.db
    ascii_search = await _captured_search(api, "wolken", {"Über den Wolken"})
    umlaut_search = await _captured_search(
        api, "über", {"Über den Wolken", "übermorgen planen", "ÜBERSICHT 2025"}
    )
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            # The exact statements the domain ran: the FTS5 trigram table answers the MATCH.
            for statement, parameters in (ascii_search, umlaut_search):
                plan = (
                    await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                ).all()
                details = [row[-1] for row in plan]
                assert any("conversation_titles" in d and "VIRTUAL TABLE" in d for d in details), (
                    details
                )
            return
        # The domain filters on the indexed expression, and the planner uses the index for it.
        assert "lower(conversations.title) LIKE" in ascii_search[0], ascii_search[0]
        assert "lower(conversations.title) ~" in umlaut_search[0], umlaut_search[0]
        await conn.exec_driver_sql("SET enable_seqscan = off")
        for predicate in ("LIKE '%abc%'", "~ '[Üü]ber'"):
            plan = (
                await conn.exec_driver_sql(
                    f"EXPLAIN SELECT id FROM conversations WHERE lower(title) {predicate}"
                )
            ).all()
            lines = "\n".join(row[0] for row in plan)
            assert "ix_conversations_title_trgm" in lines, lines
