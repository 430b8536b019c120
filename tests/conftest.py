"""Fixtures: settings per test, a fresh database (SQLite, and PostgreSQL when it can run),
a real uvicorn server on 127.0.0.1:0, and GraphQL clients over HTTP and websockets."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gql_api.db import Database
from gql_api.migrate import upgrade
from gql_api.settings import Settings
from tests.fake_anthropic import fake_anthropic_fixture  # noqa: F401
from tests.fake_openai import fake_openai_fixture  # noqa: F401
from tests.servers import (  # noqa: F401
    PostgresServer,
    moto_endpoint,
    postgres_bin_dir,
    postgres_server,
    redis_server,
)
from tests.support import ApiServer, start_api

TEST_SECRET = "test-secret-" + "x" * 40
POSTGRES_TEMPLATE = "chatgql_template"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take `database_kind` run on SQLite and, where it can run, PostgreSQL too."""
    if "database_kind" in metafunc.fixturenames:
        kinds = ["sqlite"]
        if os.environ.get("CI") == "true" or postgres_bin_dir() is not None:
            kinds.append("postgres")
        metafunc.parametrize("database_kind", kinds)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "chatgql.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template(request: pytest.FixtureRequest) -> str:
    """A database migrated once per session; each test gets a copy (CREATE DATABASE TEMPLATE)."""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    asyncio.run(migrate(server.create_database(POSTGRES_TEMPLATE)))
    return POSTGRES_TEMPLATE


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()  # a template must have no connection left


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_kind: str
) -> Iterator[str]:
    """A fresh database at the newest schema (servers still run `upgrade`: it finds none to do)."""
    if database_kind == "sqlite":
        path = tmp_path / "chatgql.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield server.create_database(template=request.getfixturevalue("postgres_template"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "data_dir": tmp_path / "var",
        "database_url": database_url,
        "broker_url": "memory://",
        "jwt_secret": TEST_SECRET,
        "anthropic_api_key": None,
        "demo_token_delay_seconds": 0.002,
        "flush_interval_ms": 20,
        "node_heartbeat_seconds": 0.5,
        "node_stale_after_seconds": 3.0,
        "sweep_interval_seconds": 0.5,
        # Tests start many answers as one user; tests of the per-user limits set their own.
        "max_running_answers": 10_000,
        "max_sends_per_minute": 10_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def unflushed_settings(tmp_path: Path, database_url: str) -> Settings:
    """Flushes a minute apart: generated text stays unsaved while a test looks, unless
    something asks for a flush."""
    return make_settings(
        tmp_path, database_url, flush_interval_ms=60_000, flush_max_bytes=10_000_000
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[ApiServer]:
    async with start_api(settings, migrate=False) as server:  # a copy of the migrated template
        yield server
