"""CHATGQL_DATA_DIR holds what the README says: two `chatgql serve` processes started from one
working directory with different data dirs share nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from gql_api.settings import Settings
from tests.processes import Node, node_env, remotes

pytestmark = pytest.mark.slow

CONVERSATIONS = "{ conversations { edges { node { title } } } }"


def test_default_database_follows_data_dir(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path / "data")
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'chatgql.db'}"
    assert settings.attachments_path == tmp_path / "data" / "attachments"
    explicit = Settings(env="test", data_dir=tmp_path, database_url="sqlite+aiosqlite:///x.db")
    assert explicit.database_url == "sqlite+aiosqlite:///x.db"


async def test_two_servers_with_their_own_data_dirs(tmp_path: Path) -> None:
    work = tmp_path / "work"  # the one working directory of both
    work.mkdir()
    nodes = []
    for name in ("A", "B"):
        env = node_env("unused", "memory://", tmp_path / f"data-{name}")
        del env["CHATGQL_DATABASE_URL"]  # the default: the SQLite file in the data dir
        nodes.append(Node(name, env, work))
    try:
        for node in nodes:
            node.start()  # `chatgql serve` migrates its own database first
        async with remotes(*nodes) as (a, b):
            await a.gql('mutation { createConversation(input: {title: "on A"}) { id } }')
            await b.gql('mutation { createConversation(input: {title: "on B"}) { id } }')
            on_a = (await a.gql(CONVERSATIONS))["conversations"]["edges"]
            on_b = (await b.gql(CONVERSATIONS))["conversations"]["edges"]
    finally:
        for node in nodes:
            node.stop()
    assert [edge["node"]["title"] for edge in on_a] == ["on A"]
    assert [edge["node"]["title"] for edge in on_b] == ["on B"]
    for name in ("A", "B"):
        assert (tmp_path / f"data-{name}" / "chatgql.db").is_file()
    assert not (work / "var").exists()  # nothing written relative to the working directory
