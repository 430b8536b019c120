"""The test servers themselves: PostgreSQL answers and hands out fresh databases; Redis restarts."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from tests.servers import PostgresServer, RedisServer, start_redis


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _ping(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=1.0)
    try:
        return bool(await client.ping())
    except RedisError:
        return False
    finally:
        await client.aclose()


@pytest.mark.postgres
async def test_postgres_answers_and_creates_databases(postgres_server: PostgresServer) -> None:
    conn = await asyncpg.connect(_dsn(postgres_server.url))
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select current_database()") == "chatgql_test"
    finally:
        await conn.close()

    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second
    names = []
    for url in (first, second):
        conn = await asyncpg.connect(_dsn(url))
        try:
            names.append(await conn.fetchval("select current_database()"))
            await conn.execute("create table t (x int)")  # each one is empty and writable
        finally:
            await conn.close()
    assert names == [first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]]


@pytest.mark.redis
async def test_session_redis_answers(redis_server: RedisServer) -> None:
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert await _ping(redis_server.url)


@pytest.mark.redis
async def test_redis_stops_and_starts_on_the_same_port(
    redis_server: RedisServer,  # skips or fails like the others when absent
    tmp_path: Path,
) -> None:
    server = start_redis(tmp_path)
    try:
        port = server.port
        assert await _ping(server.url)
        server.stop()
        assert not server.ping()
        assert not await _ping(server.url)
        server.start()
        assert server.port == port
        assert await _ping(server.url)
    finally:
        server.stop()
    assert server.proc is None
