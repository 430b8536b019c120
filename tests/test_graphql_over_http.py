"""GraphQL over HTTP: graphql-http's audit against a live server, and the
application/graphql-response+json media type with its status codes."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gql_api.graphql_http import wants_graphql_response
from tests.conftest import make_settings
from tests.js_tools import js_tools, run_node  # noqa: F401
from tests.support import ApiServer, start_api

NEW = "application/graphql-response+json"


@pytest.fixture
async def sqlite_api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}")
    async with start_api(settings) as server:
        yield server


async def test_the_graphql_http_audit_passes(sqlite_api: ApiServer, js_tools: Path) -> None:  # noqa: F811
    lines = await run_node("audit.mjs", f"{sqlite_api.url}/graphql")
    results = [json.loads(line) for line in lines]
    assert len(results) > 50
    assert [r for r in results if r["status"] != "ok"] == []


@pytest.mark.parametrize(
    ("accept", "new"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (NEW, True),
        (f"{NEW}, application/json;q=0.9", True),
        (f"application/json, {NEW}", True),
        (f"application/json, {NEW};q=0.5", False),
        (f"{NEW};q=0", False),
    ],
)
def test_negotiation(accept: str | None, new: bool) -> None:
    assert wants_graphql_response(accept) is new


async def _post(api: ApiServer, query: str, accept: str, **extra: object) -> tuple[int, str, dict]:
    response = await api.http.post(
        "/graphql",
        json={"query": query, **extra},
        headers={"Accept": accept, "Authorization": f"Bearer {api.token()}"},
    )
    return response.status_code, response.headers["content-type"], response.json()


async def test_request_errors_are_400_without_data(sqlite_api: ApiServer) -> None:
    for query, extra in [
        ("{ me { id", {}),  # does not parse
        ("{ me { nope } }", {}),  # does not validate
        ("query ($id: ID!) { message(id: $id) { id } }", {"variables": {}}),  # no variable
    ]:
        status, content_type, body = await _post(sqlite_api, query, NEW, **extra)
        assert (status, content_type.split(";")[0]) == (400, NEW)
        assert "data" not in body and body["errors"][0]["extensions"]["code"]
        # the same request, from a client that knows only application/json
        status, content_type, body = await _post(sqlite_api, query, "application/json", **extra)
        assert (status, content_type.split(";")[0]) == (200, "application/json")
        assert body["data"] is None


async def test_field_errors_stay_200_with_data(sqlite_api: ApiServer) -> None:
    status, content_type, body = await _post(sqlite_api, '{ message(id: "missing") { id } }', NEW)
    assert (status, content_type.split(";")[0]) == (200, NEW)
    # an error at a non-null field makes `data` null, yet execution ran: not a request error
    assert body["data"] is None and body["errors"][0]["path"] == ["message"]
    status, _, body = await _post(sqlite_api, "{ me { name } }", NEW)
    assert status == 200 and body == {"data": {"me": {"name": "Alice"}}}


async def test_a_subscription_over_plain_http_is_refused_cleanly(
    sqlite_api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    response = await sqlite_api.http.post(
        "/graphql",
        json={"query": 'subscription { streamEvents(messageId: "1") { __typename } }'},
        headers={"Authorization": f"Bearer {sqlite_api.token()}", "Accept": NEW},
    )
    assert response.status_code == 400
    assert "subscriptions are not allowed" in response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
