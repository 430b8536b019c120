"""Persisted documents: Apollo's automatic persisted queries (through Apollo Client itself and
as exact protocol requests), the byte-bounded caches, Redis shared by processes, and trusted
documents."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gql_api.persisted import MemoryCache, RedisCache, load_manifest, sha256_hex
from tests.conftest import make_settings
from tests.js_tools import js_tools, run_node  # noqa: F401
from tests.servers import RedisServer
from tests.support import ApiServer, start_api

ME = "query Me { me { name } }"


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}"


@pytest.fixture
async def sqlite_api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    async with start_api(make_settings(tmp_path, sqlite(tmp_path))) as server:
        yield server


def persisted(digest: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def post(api: ApiServer, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api.token()}"}
    response = await api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


async def get(api: ApiServer, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    headers = {"Authorization": f"Bearer {api.token()}", "Accept": "application/json"}
    response = await api.http.get("/graphql", params=encoded, headers=headers)
    return response.status_code, response.json()


def code(body: dict[str, Any]) -> str:
    result: str = body["errors"][0]["extensions"]["code"]
    return result


async def test_apollo_client_registers_then_sends_hashes(
    sqlite_api: ApiServer,
    js_tools: Path,  # noqa: F811
) -> None:
    url, token = f"{sqlite_api.url}/graphql", sqlite_api.token()
    first = [json.loads(line) for line in await run_node("apollo_apq.mjs", url, token, "post")]
    # the hash alone, refused as unknown, then the hash with the text
    assert first[:-1] == [
        {"method": "POST", "hashOnly": True},
        {"method": "POST", "hashOnly": False},
    ]
    assert first[-1]["data"]["me"]["name"] == "Alice" and first[-1]["error"] is None
    # a new client (another tab, another process of the app): the hash alone is enough
    again = [json.loads(line) for line in await run_node("apollo_apq.mjs", url, token, "get")]
    assert again[:-1] == [{"method": "GET", "hashOnly": True}]
    assert again[-1]["data"]["me"]["name"] == "Alice"


async def test_the_protocol(sqlite_api: ApiServer) -> None:
    digest = sha256_hex(ME)
    unknown = await post(sqlite_api, {"extensions": persisted(digest)})
    assert code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown["errors"][0]["message"] == "PersistedQueryNotFound"
    status, by_get = await get(sqlite_api, {"extensions": persisted(digest)})
    assert (status, code(by_get)) == (200, "PERSISTED_QUERY_NOT_FOUND")

    registered = await post(sqlite_api, {"query": ME, "extensions": persisted(digest)})
    assert registered == {"data": {"me": {"name": "Alice"}}}
    assert await post(sqlite_api, {"extensions": persisted(digest)}) == registered
    assert await get(sqlite_api, {"extensions": persisted(digest)}) == (200, registered)


async def test_a_mutation_by_hash_is_not_run_by_get(sqlite_api: ApiServer) -> None:
    mutation = 'mutation { createProject(name: "p") { id } }'
    digest = sha256_hex(mutation)
    await post(sqlite_api, {"query": "{ me { id } }"})
    cache = sqlite_api.services.persisted.cache
    assert cache is not None
    await cache.put(digest, mutation)
    headers = {"Authorization": f"Bearer {sqlite_api.token()}"}
    params = {"extensions": json.dumps(persisted(digest))}
    response = await sqlite_api.http.get("/graphql", params=params, headers=headers)
    assert response.status_code == 400 and "not allowed" in response.text
    assert await post(sqlite_api, {"query": "{ projects { id } }"}) == {"data": {"projects": []}}


@pytest.mark.parametrize(
    "extensions",
    [
        persisted("NOT-A-HASH"),
        persisted(sha256_hex(ME).upper()),
        persisted(sha256_hex(ME), version=2),
        {"persistedQuery": "abc"},
        persisted(sha256_hex("query Other { me { id } }")),  # another document's hash
    ],
)
async def test_bad_hashes_store_nothing(sqlite_api: ApiServer, extensions: dict[str, Any]) -> None:
    refused = await post(sqlite_api, {"query": ME, "extensions": extensions})
    assert code(refused) == "BAD_USER_INPUT" and not refused.get("data")
    cache = sqlite_api.services.persisted.cache
    assert isinstance(cache, MemoryCache) and cache.bytes == 0
    lookup = await post(sqlite_api, {"extensions": persisted(sha256_hex(ME))})
    assert code(lookup) == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_memory_cache_is_bounded_in_bytes() -> None:
    cache = MemoryCache(max_bytes=100)
    texts = [f"query Q{i} {{ me {{ id }} }}" + " " * 10 for i in range(10)]
    for text in texts:
        await cache.put(sha256_hex(text), text)
        assert cache.bytes <= 100
    assert await cache.get(sha256_hex(texts[-1])) == texts[-1]
    assert await cache.get(sha256_hex(texts[0])) is None
    await cache.put("x" * 64, "y" * 101)  # larger than the whole cache: not kept
    assert await cache.get("x" * 64) is None


@pytest.mark.redis
async def test_redis_cache_is_bounded_and_expires(redis_server: RedisServer) -> None:
    cache = RedisCache(redis_server.url, max_bytes=300, ttl_seconds=3600, prefix="t1:")
    try:
        texts = [f"query Q{i} {{ me {{ id }} }}" + "#" * 60 for i in range(20)]
        for text in texts:
            await cache.put(sha256_hex(text), text)
        kept = [t for t in texts if await cache.get(sha256_hex(t)) is not None]
        assert kept == texts[-len(kept) :] and 0 < sum(len(t) for t in kept) <= 300
        assert int(await cache._redis.get("t1:bytes")) == sum(len(t) for t in kept)
    finally:
        await cache.close()
    expiring = RedisCache(redis_server.url, max_bytes=10_000, ttl_seconds=-1, prefix="t2:")
    try:
        await expiring.put(sha256_hex(ME), ME)
        await expiring.put(sha256_hex("{ me { id } }"), "{ me { id } }")  # sweeps the first
        assert await expiring.get(sha256_hex(ME)) is None
    finally:
        await expiring.close()


@pytest.mark.redis
async def test_processes_share_documents_through_redis(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    database = sqlite(tmp_path)
    first = make_settings(tmp_path / "a", database, broker_url=redis_server.url)
    second = make_settings(tmp_path / "b", database, broker_url=redis_server.url)
    digest = sha256_hex("query Shared { me { name } }")
    async with start_api(first) as a, start_api(second) as b:
        assert isinstance(a.services.persisted.cache, RedisCache)
        b.tokens = a.tokens
        query = {"query": "query Shared { me { name } }", "extensions": persisted(digest)}
        assert code(await post(b, {"extensions": persisted(digest)})) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        await post(a, query)
        assert await post(b, {"extensions": persisted(digest)}) == {
            "data": {"me": {"name": "Alice"}}
        }


def write_manifest(path: Path, *texts: str) -> Path:
    operations = [{"id": sha256_hex(t), "name": "op", "type": "query", "body": t} for t in texts]
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1}
    path.write_text(json.dumps({**manifest, "operations": operations}))
    return path


async def test_trusted_documents_only(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "manifest.json", ME)
    settings = make_settings(tmp_path, sqlite(tmp_path), trusted_documents=manifest)
    async with start_api(settings) as api:
        listed = {"data": {"me": {"name": "Alice"}}}
        assert await post(api, {"extensions": persisted(sha256_hex(ME))}) == listed
        assert await post(api, {"query": ME}) == listed
        other = "query Other { me { id } }"
        for body in (
            {"query": other},
            {"extensions": persisted(sha256_hex(other))},
            {"query": other, "extensions": persisted(sha256_hex(other))},
        ):
            assert code(await post(api, body)) == "PERSISTED_QUERY_NOT_IN_LIST"
        assert api.services.persisted.cache is None  # nothing learned from clients


def test_a_manifest_with_a_wrong_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({sha256_hex("{ me { id } }"): ME}))
    with pytest.raises(ValueError, match="not the sha256"):
        load_manifest(path)
    path.write_text(json.dumps({f"sha256:{sha256_hex(ME)}": ME}))
    assert load_manifest(path) == {sha256_hex(ME): ME}


@pytest.mark.redis
async def test_without_redis_the_text_still_runs(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), broker_url=redis_server.url)
    async with start_api(settings) as api:
        cache = api.services.persisted.cache
        assert isinstance(cache, RedisCache)
        # the broker's connection stays; only this cache's client points at a dead port
        await cache.close()
        cache._redis = RedisCache(
            "redis://127.0.0.1:1/0", max_bytes=1000, ttl_seconds=60, prefix="x:"
        )._redis
        cache._put = cache._redis.register_script("return 0")
        digest = sha256_hex(ME)
        assert code(await post(api, {"extensions": persisted(digest)})) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        again = await post(api, {"query": ME, "extensions": persisted(digest)})
        assert again == {"data": {"me": {"name": "Alice"}}}
    assert any("redis unavailable" in r.getMessage() for r in caplog.records)


async def test_turned_off_it_says_so(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), persisted_queries=False)
    async with start_api(settings) as api:
        refused = await post(api, {"query": ME, "extensions": persisted(sha256_hex(ME))})
        # the message and code on which Apollo's link stops sending hashes
        assert refused["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert code(refused) == "PERSISTED_QUERY_NOT_SUPPORTED"
        assert await post(api, {"query": ME}) == {"data": {"me": {"name": "Alice"}}}
