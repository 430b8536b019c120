"""Full-text search: titles and finished messages, owned, ranked, paged, served by the index."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from models.messages import Message
from tests.factories import add_message, create_conversation, send_and_finish
from tests.support import ApiServer, GraphQLErrors

SEARCH = """
query($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    edges { cursor node { snippet score conversation { id title } message { id role content } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def search(
    api: ApiServer, q: str, *, first: int = 20, after: str | None = None, user: str = "alice"
) -> dict[str, Any]:
    data = await api.gql(SEARCH, {"q": q, "first": first, "after": after}, user=user)
    found: dict[str, Any] = data["search"]
    return found


async def hits(api: ApiServer, q: str, *, user: str = "alice") -> list[dict[str, Any]]:
    return [edge["node"] for edge in (await search(api, q, first=100, user=user))["edges"]]


def message_ids(nodes: list[dict[str, Any]]) -> set[str]:
    return {n["message"]["id"] for n in nodes if n["message"]}


async def test_finds_titles_and_messages_ranked_with_marks(api: ApiServer) -> None:
    trip = await create_conversation(api, title="Trip to Kyoto")
    once = await add_message(api, trip["id"], "We land in Kyoto on Tuesday <b>early</b>.")
    twice = await add_message(api, trip["id"], "kyoto temples, then KYOTO station & Kyōto tower")
    await add_message(api, trip["id"], "nothing to see here")
    other = await create_conversation(api, title="Groceries")
    await add_message(api, other["id"], "buy rice")

    nodes = await hits(api, "kyoto")
    assert message_ids(nodes) == {once["id"], twice["id"]}
    titles = [n for n in nodes if n["message"] is None]
    assert [t["conversation"]["title"] for t in titles] == ["Trip to Kyoto"]
    assert titles[0]["snippet"] == "Trip to <mark>Kyoto</mark>"
    scores = [n["score"] for n in nodes]
    assert scores == sorted(scores, reverse=True)
    by_id = {n["message"]["id"]: n for n in nodes if n["message"]}
    # User text is escaped: only the marks are markup. Case and accents are folded.
    assert by_id[once["id"]]["snippet"] == (
        "We land in <mark>Kyoto</mark> on Tuesday &lt;b&gt;early&lt;/b&gt;."
    )
    assert by_id[twice["id"]]["snippet"].count("<mark>") == 3  # Kyōto: folded in the snippet
    # Every word must match.
    assert message_ids(await hits(api, "kyoto tuesday")) == {once["id"]}
    assert await hits(api, "kyoto wednesday") == []


async def test_never_finds_another_users_text(api: ApiServer) -> None:
    mine = await create_conversation(api, title="secret plans")
    await add_message(api, mine["id"], "the secret password is swordfish")
    assert await hits(api, "swordfish", user="bob") == []
    assert await hits(api, "secret", user="bob") == []
    assert len(await hits(api, "secret")) == 2


async def test_index_follows_edits_renames_and_deletes(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Alpha")
    message = await add_message(api, conversation["id"], "first draft about otters")
    assert message_ids(await hits(api, "otters")) == {message["id"]}

    await api.gql(
        'mutation($id: ID!) { editMessage(id: $id, content: "now about beavers") { id } }',
        {"id": message["id"]},
    )
    assert await hits(api, "otters") == []
    assert message_ids(await hits(api, "beavers")) == {message["id"]}

    await api.gql(
        'mutation($id: ID!) { renameConversation(id: $id, title: "Omega") { id } }',
        {"id": conversation["id"]},
    )
    assert await hits(api, "alpha") == []
    assert [n["conversation"]["id"] for n in await hits(api, "omega")] == [conversation["id"]]

    await api.gql("mutation($id: ID!) { deleteMessage(id: $id) { id } }", {"id": message["id"]})
    assert await hits(api, "beavers") == []
    await api.gql(
        "mutation($id: ID!) { deleteConversation(id: $id) { id } }", {"id": conversation["id"]}
    )
    assert await hits(api, "omega") == []
    async with api.services.db.read() as session:
        left = await session.execute(
            _text("SELECT count(*) FROM search_entries WHERE conversation_id = :c"),
            {"c": conversation["id"]},
        )
        assert left.scalar() == 0


async def test_answers_are_indexed_when_they_finish(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Chat")
    sent = await send_and_finish(api, conversation["id"], "zebracorn migration plan")
    answer_id = sent["assistantMessage"]["id"]
    nodes = await hits(api, "zebracorn")
    assert message_ids(nodes) == {sent["userMessage"]["id"], answer_id}
    answer = next(n for n in nodes if n["message"]["id"] == answer_id)
    assert answer["message"]["role"] == "ASSISTANT"
    assert "<mark>zebracorn</mark>" in answer["snippet"]


async def test_streaming_text_is_not_indexed_until_it_finishes(api: ApiServer) -> None:
    """The flusher's writes while an answer streams leave the index alone; the terminal write
    (status leaves streaming) indexes the whole text in its own transaction."""
    from sqlalchemy import update

    conversation = await create_conversation(api, title="Chat")
    message = await add_message(api, conversation["id"], "placeholder", role="SYSTEM")
    async with api.services.db.write() as session:
        await session.execute(
            update(Message)
            .where(Message.id == message["id"])
            .values(status="streaming", content="partial narwhal")
        )
    assert await hits(api, "narwhal") == []
    assert message_ids(await hits(api, "placeholder")) == {message["id"]}
    async with api.services.db.write() as session:
        await session.execute(
            update(Message)
            .where(Message.id == message["id"])
            .values(status="complete", content="partial narwhal, finished")
        )
    assert message_ids(await hits(api, "narwhal finished")) == {message["id"]}
    assert await hits(api, "placeholder") == []


async def test_pages_by_cursor_without_gaps_or_duplicates(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Notes")
    expected = set()
    for i in range(7):
        text = " ".join(["pangolin"] * (1 + i % 3)) + f" note {i}"
        expected.add((await add_message(api, conversation["id"], text))["id"])
    seen: list[str] = []
    scores: list[float] = []
    after = None
    while True:
        page = await search(api, "pangolin", first=3, after=after)
        seen += [e["node"]["message"]["id"] for e in page["edges"]]
        scores += [e["node"]["score"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 7 and set(seen) == expected
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "BAD_USER_INPUT"),
        ('"', "BAD_USER_INPUT"),
        ("* ( ) : ^ -", "BAD_USER_INPUT"),
        ("x" * 201, "BAD_USER_INPUT"),
        ("bad\x00query", "BAD_USER_INPUT"),
        (" ".join(["w"] * 17), "BAD_USER_INPUT"),
    ],
)
async def test_rejects_malformed_queries(api: ApiServer, query: str, code: str) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await search(api, query)
    assert caught.value.code == code


async def test_query_syntax_of_the_index_is_plain_text(api: ApiServer) -> None:
    """FTS5 and tsquery operators in a query are words or nothing, never syntax."""
    conversation = await create_conversation(api, title="Syntax")
    message = await add_message(api, conversation["id"], "title NEAR near and or not body")
    for query in ("title: NEAR(body", '"title" OR body*', "near AND NOT or", "body)) -title"):
        assert message_ids(await hits(api, query)) == {message["id"]}, query
    assert await hits(api, 'title OR "missing"') == []


@pytest.mark.parametrize("cursor", ["nope", "WzEsMl0", "WyJ4IiwgMV0"])
async def test_rejects_bad_cursor_and_page_size(api: ApiServer, cursor: str) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await search(api, "anything", after=cursor)
    assert caught.value.code == "BAD_USER_INPUT"
    with pytest.raises(GraphQLErrors) as caught:
        await search(api, "anything", first=0)
    assert caught.value.code == "BAD_USER_INPUT"


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


async def test_search_is_served_by_the_full_text_index(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Index")
    for i in range(30):
        await add_message(api, conversation["id"], f"filler message {i}")
    await add_message(api, conversation["id"], "the quokka smiles")
    engine = api.services.db.engine.sync_engine
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if "search_entries" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert len(await hits(api, "quokka")) == 1
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(captured) == 1, captured
    statement, parameters = captured[0]
    db = api.services.db
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
            details = [row[-1] for row in plan]
            assert any("search_fts VIRTUAL TABLE INDEX" in d for d in details), details
            return
        # A small table would be scanned; without the choice the planner must use the index.
        await conn.exec_driver_sql("SET enable_seqscan = off")
        plan = (await conn.exec_driver_sql("EXPLAIN " + statement, parameters)).all()
        lines = "\n".join(row[0] for row in plan)
        assert "Bitmap Index Scan on ix_search_entries_vector" in lines, lines
        assert "Index Cond: (vector @@" in lines, lines
