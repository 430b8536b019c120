"""No N+1: listing conversations with their previews costs a small, constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from gql_api.runtime import in_background_job
from tests.factories import add_message, create_conversation, create_project
from tests.support import ApiServer

LIST = """
query($first: Int!) {
  conversations(first: $first) {
    edges { node {
      title
      lastMessage { content }
      project { name conversationCount }
      activeStream { id }
    } }
  }
}
"""
MAX_STATEMENTS = 6
# Transaction control is not a query: SQLite's recipe sends its own BEGIN for each session.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counting(api: ApiServer) -> Iterator[list[str]]:
    """Every SQL statement the app sends for the test while the block runs (its own engine, any
    session), not those of its periodic jobs (the stale-stream sweeper may run meanwhile)."""
    statements: list[str] = []
    engine = api.services.db.engine.sync_engine

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        if not in_background_job():
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def add_conversations(api: ApiServer, project_id: str, count: int, in_project: int) -> None:
    for i in range(count):
        fields = {"projectId": project_id} if i < in_project else {}
        conversation = await create_conversation(api, title=f"c{i}", **fields)
        await add_message(api, conversation["id"], f"hello {i}")


def queries(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)]


def tables_read(statements: list[str]) -> list[str]:
    return sorted(s.split("FROM ", 1)[1].split()[0] for s in queries(statements))


async def list_counting(api: ApiServer, first: int) -> tuple[list[dict[str, Any]], list[str]]:
    with counting(api) as statements:
        data = await api.gql(LIST, {"first": first})
    return [edge["node"] for edge in data["conversations"]["edges"]], statements


async def test_conversation_list_query_count_is_constant(api: ApiServer) -> None:
    await api.gql("{ me { id } }")  # the user exists and is known before counting
    project = await create_project(api, "Ten")

    await add_conversations(api, project["id"], 5, in_project=2)
    small, small_statements = await list_counting(api, 50)
    assert len(small) == 5
    assert sum(1 for n in small if n["project"]) == 2
    assert all(n["lastMessage"]["content"].startswith("hello") for n in small)

    await add_conversations(api, project["id"], 45, in_project=8)
    large, large_statements = await list_counting(api, 50)
    assert len(large) == 50
    in_project = [n for n in large if n["project"]]
    assert len(in_project) == 10
    assert {n["project"]["conversationCount"] for n in in_project} == {10}
    assert {n["lastMessage"]["content"] for n in large} == {f"hello {i}" for i in range(5)} | {
        f"hello {i}" for i in range(45)
    }
    assert all(n["activeStream"] is None for n in large)

    assert len(queries(small_statements)) <= MAX_STATEMENTS, small_statements
    assert len(queries(large_statements)) == len(queries(small_statements)), large_statements
    # One batched query per kind of row, whatever the page size.
    assert tables_read(large_statements) == ["conversations", "messages", "projects", "streams"]
