"""The migration to a message tree: a flat list becomes one path, versions become siblings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

import models.base
from gql_api.db import Database
from gql_api.migrate import upgrade
from models.conversations import Conversation
from models.messages import Message
from tests.servers import PostgresServer

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def table(name: str, *columns: str, times: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(
        name,
        *(sa.column(c) for c in columns),
        *(sa.column(c, models.base.UTCDateTime()) for c in times),
    )


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path, database_kind: str) -> str:
    """A database with no tables (the usual fixture's is already at the newest schema)."""
    if database_kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


async def test_versions_become_siblings_and_the_list_a_path(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade(db, "0001")
        users = table("users", "id", "subject", "theme", "tools_enabled",
                      times=("created_at", "seen_at"))  # fmt: skip
        conversations = table("conversations", "id", "owner_id", "title", "pinned", "archived",
                              "last_message_id", times=("created_at", "updated_at"))  # fmt: skip
        messages = table("messages", "id", "conversation_id", "role", "content", "parts",
                         "status", "input_tokens", "output_tokens", "reply_to_id", "version",
                         times=("created_at",))  # fmt: skip
        versions = table("message_versions", "id", "message_id", "version", "content",
                         "parts", "status", "input_tokens", "output_tokens",
                         times=("created_at",))  # fmt: skip
        ids = {name: f"{i + 1:032x}" for i, name in enumerate("u c p1 a1 p2 a2 v1 v2".split())}

        def message(key: str, role: str, second: int, reply_to: str | None, version: int) -> dict:
            return {"id": ids[key], "conversation_id": ids["c"], "role": role, "content": key,
                    "parts": "[]", "status": "complete", "input_tokens": 0, "output_tokens": 0,
                    "reply_to_id": reply_to and ids[reply_to], "version": version,
                    "created_at": at(second)}  # fmt: skip

        async with db.engine.begin() as conn:
            await conn.execute(users.insert().values(
                id=ids["u"], subject="alice", theme="system", tools_enabled="[]",
                created_at=T0, seen_at=T0))  # fmt: skip
            await conn.execute(conversations.insert().values(
                id=ids["c"], owner_id=ids["u"], title="Old", pinned=False, archived=False,
                last_message_id=ids["a2"], created_at=T0, updated_at=T0))  # fmt: skip
            for row in (
                message("p1", "user", 1, None, 1),
                message("a1", "assistant", 2, "p1", 3),  # retried twice
                message("p2", "user", 3, None, 1),
                message("a2", "assistant", 4, "p2", 1),
            ):
                await conn.execute(messages.insert().values(**row))
            for key, version in (("v1", 1), ("v2", 2)):
                await conn.execute(versions.insert().values(
                    id=ids[key], message_id=ids["a1"], version=version, content=f"old {version}",
                    parts="[]", status="failed", input_tokens=1, output_tokens=2,
                    created_at=at(2)))  # fmt: skip

        await upgrade(db)

        async with db.read() as session:
            rows = {m.id: m for m in await session.scalars(select(Message))}
            conversation = await session.get(Conversation, ids["c"])
        parent = {key: rows[ids[key]].parent_id for key in ("p1", "a1", "p2", "a2")}
        assert parent == {"p1": None, "a1": ids["p1"], "p2": ids["a1"], "a2": ids["p2"]}
        earlier = sorted(
            (m for m in rows.values() if m.id not in ids.values()), key=lambda m: m.content
        )
        assert [m.content for m in earlier] == ["old 1", "old 2"]
        for old in earlier:
            assert old.parent_id == ids["p1"] and old.reply_to_id == ids["p1"]
            assert (old.role, old.status, old.output_tokens) == ("assistant", "failed", 2)
        assert conversation is not None and conversation.last_message_id == ids["a2"]
    finally:
        await db.dispose()
