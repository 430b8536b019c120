"""Byte limits on HTTP requests (body, query text, variables), checked before anything is parsed
or cached, and the document cache bounded in bytes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from graphql import parse

from resolvers.documents import DocumentCache, document_cost
from resolvers.schema import build_schema
from tests.conftest import make_settings
from tests.support import ApiServer, start_api
from tests.test_limits import conversation_count

BODY_LIMIT = 64 * 1024
QUERY_LIMIT = 4 * 1024
VARIABLES_LIMIT = 8 * 1024


@pytest.fixture
async def small_api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiServer]:
    settings = make_settings(
        tmp_path,
        database_url,
        max_body_bytes=BODY_LIMIT,
        max_query_bytes=QUERY_LIMIT,
        max_variables_bytes=VARIABLES_LIMIT,
    )
    async with start_api(settings) as server:
        yield server


async def raw_http(api: ApiServer, head: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send a request by hand (a declared length without its body, chunked encoding) and read
    the response, which must come without the client sending the rest."""
    address = urlsplit(api.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(10):
            status_line = await reader.readline()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            payload = await reader.readexactly(int(headers["content-length"]))
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return int(status_line.split()[1]), json.loads(payload)


def request_head(api: ApiServer, **headers: str) -> str:
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: {urlsplit(api.url).netloc}",
        f"Authorization: Bearer {api.token('alice')}",
        "Content-Type: application/json",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n"


def too_large(status: int, body: dict[str, Any]) -> dict[str, Any]:
    assert status == 413, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    assert extensions["code"] == "PAYLOAD_TOO_LARGE", body
    return extensions


async def test_declared_length_over_the_limit_is_refused_before_the_body(
    small_api: ApiServer,
) -> None:
    # 50 MB announced, none of it sent: the answer cannot have waited for the body.
    status, body = await raw_http(small_api, request_head(small_api, content_length="50000000"))
    assert too_large(status, body)["maxBytes"] == BODY_LIMIT


async def test_a_chunked_body_is_counted_as_it_arrives(small_api: ApiServer) -> None:
    # Just over the limit, in chunks, and the end of the body never sent.
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(BODY_LIMIT // 8192 + 1))
    head = request_head(small_api, transfer_encoding="chunked")
    too_large(*await raw_http(small_api, head, body))
    # The app is fine afterwards, and a body at the limit is served.
    padded = json.dumps({"query": "{ me { name } }", "variables": {}}).encode()
    padded = padded[:-1] + b" " * (BODY_LIMIT - len(padded)) + b"}"
    assert len(padded) == BODY_LIMIT
    response = await small_api.http.post(
        "/graphql",
        content=padded,
        headers={
            "Authorization": f"Bearer {small_api.token()}",
            "Content-Type": "application/json",
        },
    )
    assert response.json() == {"data": {"me": {"name": "Alice"}}}


async def test_query_bytes_are_counted_before_parsing(
    small_api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import strawberry.schema.schema as strawberry_schema

    import resolvers.documents

    parsed: list[int] = []
    real = strawberry_schema.parse

    def counting(source: Any, **options: Any) -> Any:
        parsed.append(len(str(source)))
        return real(source, **options)

    # Strawberry parses short documents; KnownDocuments parses long ones, in a thread.
    monkeypatch.setattr(strawberry_schema, "parse", counting)
    monkeypatch.setattr(resolvers.documents, "parse", counting)
    base = "{ me { name } }"
    at_limit = base + " " * (QUERY_LIMIT - len(base))
    assert (await small_api.gql(at_limit))["me"]["name"] == "Alice"
    # Bytes, not characters: 2-byte characters in a comment, half as many as the limit in bytes.
    comment = "#" + "é" * (QUERY_LIMIT // 2) + "\n"
    for query in (at_limit + " ", comment + base, base + " " * 10 * QUERY_LIMIT):
        extensions = too_large(*await _post(small_api, {"query": query}))
        assert extensions["field"] == "query" and extensions["maxBytes"] == QUERY_LIMIT
    assert parsed == [len(at_limit)]  # the refused ones were never parsed


async def test_variables_bytes_are_limited(small_api: ApiServer) -> None:
    add = "mutation($i: CreateConversationInput) { createConversation(input: $i) { id } }"
    big = {"i": {"title": "t", "systemPrompt": "p" * VARIABLES_LIMIT}}
    extensions = too_large(*await _post(small_api, {"query": add, "variables": big}))
    assert extensions["field"] == "variables" and extensions["maxBytes"] == VARIABLES_LIMIT
    assert await conversation_count(small_api) == 0
    fits = {"i": {"title": "t", "systemPrompt": "p" * (VARIABLES_LIMIT // 2)}}
    status, body = await _post(small_api, {"query": add, "variables": fits})
    assert status == 200 and body.get("errors") is None, body
    assert await conversation_count(small_api) == 1


async def _post(api: ApiServer, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = await api.http.post(
        "/graphql", json=payload, headers={"Authorization": f"Bearer {api.token()}"}
    )
    return response.status_code, response.json()


def test_document_cache_is_bounded_in_bytes() -> None:
    documents = [f"{{ a{i:03}: __typename b{i:03}: __typename }}" for i in range(100)]
    costs = [document_cost(text, parse(text)) for text in documents]
    cache = DocumentCache(max_bytes=sum(costs[:10]))
    for text in documents:
        cache.put(text, parse(text))
        assert cache.bytes <= cache.max_bytes
    assert len(cache) == 10
    assert cache.get(documents[-1]) is not None and cache.get(documents[0]) is None
    # A document that costs more than the whole budget is not kept, and evicts nothing.
    huge = "{ " + " ".join(f"a{i}: __typename" for i in range(200)) + " }"
    cache.put(huge, parse(huge))
    assert cache.get(huge) is None and len(cache) == 10


async def test_only_valid_documents_are_cached(tmp_path: Path) -> None:
    schema = build_schema(make_settings(tmp_path, "sqlite+aiosqlite://", max_aliases=3))
    assert (await schema.execute("{ __typename }")).errors is None
    for query in (
        "{ __typename",
        "{ nope }",
        "{ a: __typename b: __typename c: __typename d: __typename }",
    ):
        assert (await schema.execute(query)).errors
    assert len(schema.documents) == 1
    assert schema.known_document("{ __typename }") is not None
    assert schema.known_document("{ nope }") is None


async def test_repeated_fields_are_refused_before_validation(api: ApiServer) -> None:
    """graphql-core compares same-named fields pairwise: refused by count, before that rule."""
    leaves = "{ me { " + " ".join(["id"] * 101) + " } }"
    branches = "{ " + " ".join(["me { id }"] * 11) + " }"
    nested = "{ me { " + " ".join(["preferences { theme }"] * 11) + " } }"
    for query in (leaves, branches, nested):
        status, body = await _post(api, {"query": query})
        assert status == 200 and body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "more than" in body["errors"][0]["message"], body
    fine = "{ " + " ".join(["me { id id }"] * 10) + " }"
    assert (await api.gql(fine))["me"]["id"]


async def test_long_documents_are_handled_off_the_loop_with_the_same_answers(
    api: ApiServer,
) -> None:
    """Past OFF_LOOP_CHARS, parsing and validation run in a thread: same codes, same caching."""
    padding = " " * 3000
    assert (await api.gql("{ me { name } }" + padding))["me"]["name"] == "Alice"
    status, body = await _post(api, {"query": "{ me { name }" + padding})
    assert (status, body["errors"][0]["extensions"]["code"]) == (200, "GRAPHQL_PARSE_FAILED")
    assert body["errors"][0]["message"].startswith("Syntax Error"), body
    status, body = await _post(api, {"query": "{ me { nope } }" + padding})
    assert (status, body["errors"][0]["extensions"]["code"]) == (200, "BAD_USER_INPUT"), body


async def test_the_benchmarks_largest_request_is_accepted(api: ApiServer) -> None:
    """bench requests sends this: at every byte limit exactly, within every document limit."""
    from bench.big_requests import largest_request

    body = largest_request(1)
    assert len(body) == api.settings.max_body_bytes
    response = await api.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {api.token()}", "Content-Type": "application/json"},
    )
    answer = response.json()
    assert response.status_code == 200 and "errors" not in answer, answer
    assert answer["data"]["me"]["name"] == "Alice"
