"""CORS on HTTP, and the Origin check of websocket and SSE handshakes (protocol level; the
browser test is tests/test_browser_cors.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from gql_api.cors import OriginPolicy
from gql_api.settings import Settings
from tests.conftest import make_settings
from tests.support import ApiServer, start_api

ALLOWED = "http://app.example.test:3000"
OTHER = "http://evil.example.net"


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}"


@pytest.fixture
async def plain_api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    async with start_api(make_settings(tmp_path, sqlite(tmp_path))) as server:
        yield server


@pytest.fixture
async def cors_api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    settings = make_settings(
        tmp_path,
        sqlite(tmp_path),
        cors_origins=[ALLOWED, "https://*.chat.example.com", "http://localhost:*"],
    )
    async with start_api(settings) as server:
        yield server


@pytest.mark.parametrize("path", ["/graphql", "/uploads", "/files/some-id"])
async def test_preflight_from_an_allowed_origin(cors_api: ApiServer, path: str) -> None:
    response = await cors_api.http.options(
        path,
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-filename",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers


async def test_preflight_from_another_origin_is_not_granted(cors_api: ApiServer) -> None:
    response = await cors_api.http.options(
        "/graphql",
        headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://eu.chat.example.com", True),
        ("https://a.b.chat.example.com", True),
        ("https://chat.example.com", False),  # the pattern needs a label before the dot
        ("https://eu.chat.example.com.evil.net", False),
        ("http://eu.chat.example.com", False),  # another scheme
        ("http://localhost:5173", True),
        ("http://localhost", False),
        ("http://localhost.evil.net:80", False),
    ],
)
async def test_patterns(cors_api: ApiServer, origin: str, allowed: bool) -> None:
    response = await cors_api.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": origin},
    )
    assert response.status_code == 200
    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    assert "Origin" in response.headers["vary"]


def test_a_lone_star_allows_everything_and_is_refused_with_credentials(tmp_path: Path) -> None:
    assert OriginPolicy(["*"]).allows(OTHER)
    with pytest.raises(ValueError, match="CREDENTIALS"):
        make_settings(
            tmp_path, "sqlite+aiosqlite://", cors_origins=["*"], cors_allow_credentials=True
        )


def test_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATGQL_CORS_ORIGINS", json.dumps([ALLOWED, "http://localhost:*"]))
    assert Settings(env="test").cors_origins == [ALLOWED, "http://localhost:*"]


async def test_credentials_echo_the_origin(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, sqlite(tmp_path), cors_origins=[ALLOWED], cors_allow_credentials=True
    )
    async with start_api(settings) as api:
        response = await api.http.options(
            "/graphql", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
        )
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert response.headers["access-control-allow-credentials"] == "true"


async def _handshake(api: ApiServer, origin: str | None, host: str | None = None) -> str:
    headers = {"Origin": origin} if origin else {}
    if host:
        headers["Host"] = host
    async with websockets.connect(
        api.ws_url,
        subprotocols=["graphql-transport-ws"],
        additional_headers=headers,  # type: ignore[list-item]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": api.token()}}))
        ack: str = json.loads(await ws.recv())["type"]
        return ack


async def test_websocket_handshakes(cors_api: ApiServer) -> None:
    assert await _handshake(cors_api, ALLOWED) == "connection_ack"
    assert await _handshake(cors_api, "http://localhost:8080") == "connection_ack"
    assert await _handshake(cors_api, None) == "connection_ack"  # not a browser
    own = cors_api.url.removeprefix("http://")
    assert await _handshake(cors_api, f"http://{own}") == "connection_ack"
    for origin in (OTHER, "null", f"http://{own}.evil.net"):
        with pytest.raises(InvalidStatus) as refused:
            await _handshake(cors_api, origin)
        assert refused.value.response.status_code == 403


async def test_same_origin_only_by_default(plain_api: ApiServer) -> None:
    own = plain_api.url.removeprefix("http://")
    assert await _handshake(plain_api, f"https://{own}") == "connection_ack"  # TLS at a proxy
    with pytest.raises(InvalidStatus):
        await _handshake(plain_api, ALLOWED)
    response = await plain_api.http.options(
        "/graphql", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_event_stream_requests_from_other_origins_are_refused(cors_api: ApiServer) -> None:
    body = {"query": "subscription { __typename }"}
    headers = {"Accept": "text/event-stream", "Origin": OTHER}
    response = await cors_api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    headers["Origin"] = ALLOWED
    response = await cors_api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code != 403
