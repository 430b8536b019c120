"""Authentication: HS256 and JWKS (RS256/ES256) tokens over HTTP, websocket `connection_init`,
the dev token CLI, and the settings that guard the secret."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import stat
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from gql_api import cli
from gql_api.auth import TokenVerifier, mint_token
from gql_api.settings import Settings
from models.users import User
from tests.conftest import TEST_SECRET, make_settings
from tests.support import ApiServer, start_api

ME = "{ me { id email name } }"
TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")
ISSUER = "https://issuer.chatgql.test/"
AUDIENCE = "chatgql-api"
HOUR = dt.timedelta(hours=1)
OTHER_SECRET = "another-secret-that-is-long-enough-" + "y" * 20


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64url(json.dumps(value).encode())


def claims(sub: object = "carol", **extra: object) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + dt.timedelta(minutes=5)}
    values.update(extra)
    return {k: v for k, v in values.items() if v is not None}


def hs256(payload: dict[str, Any], secret: str = TEST_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def hand_signed_hs256(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    """HS256 signed by hand: PyJWT itself refuses to use a PEM public key as an HMAC secret."""
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def epoch(delta: dt.timedelta = dt.timedelta()) -> int:
    return int((dt.datetime.now(dt.UTC) + delta).timestamp())


async def post_me(api: ApiServer, authorization: str | None) -> dict[str, Any]:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await api.http.post("/graphql", json={"query": ME}, headers=headers)
    body: dict[str, Any] = response.json()
    return body


def refusal(body: dict[str, Any]) -> str | None:
    """None when the request was refused as UNAUTHENTICATED, else what happened instead."""
    errors = body.get("errors")
    if not errors:
        return f"accepted: {body.get('data')}"
    code = errors[0].get("extensions", {}).get("code")
    if code != "UNAUTHENTICATED" or body.get("data") is not None:
        return f"code {code}, data {body.get('data')}: {errors[0].get('message')}"
    return None


async def assert_refused(api: ApiServer, cases: dict[str, str | None]) -> None:
    """Every Authorization header in `cases` is refused with UNAUTHENTICATED; lists all misses."""
    wrong = {}
    for name, header in cases.items():
        outcome = refusal(await post_me(api, header))
        if outcome is not None:
            wrong[name] = outcome
    assert wrong == {}


async def user_count(api: ApiServer) -> int:
    async with api.services.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(User))
    return int(count or 0)


# ---------------------------------------------------------------- HS256 over HTTP


async def test_valid_token_creates_the_user_on_first_use(api: ApiServer) -> None:
    token = hs256(claims("carol", email="carol@example.com", name="Carol C."))
    before = await user_count(api)

    first = await post_me(api, f"Bearer {token}")
    again = await post_me(api, f"bearer {token}")  # the scheme is case-insensitive

    assert "errors" not in first, first
    me = first["data"]["me"]
    assert me["email"] == "carol@example.com"
    assert me["name"] == "Carol C."
    assert again["data"]["me"] == me
    assert await user_count(api) == before + 1
    # A different subject is a different user.
    dave = await post_me(api, f"Bearer {hs256(claims('dave'))}")
    assert dave["data"]["me"]["id"] != me["id"]


async def test_refused_hs256_tokens_are_unauthenticated(api: ApiServer) -> None:
    none_header = b64json({"alg": "none", "typ": "JWT"})
    none_payload = b64json({"sub": "carol", "exp": epoch(dt.timedelta(minutes=5))})
    valid = hs256(claims())
    header, payload, signature = valid.split(".")
    tampered_payload = b64json({"sub": "mallory", "exp": epoch(dt.timedelta(minutes=5))})
    users_before = await user_count(api)

    await assert_refused(
        api,
        {
            "no header": None,
            "empty header": "",
            "expired": f"Bearer {hs256(claims(exp=epoch(-dt.timedelta(hours=1))))}",
            "wrong secret": f"Bearer {hs256(claims(), OTHER_SECRET)}",
            "alg none": f"Bearer {none_header}.{none_payload}.",
            "alg none, signature kept": f"Bearer {none_header}.{none_payload}.{signature}",
            "payload swapped": f"Bearer {header}.{tampered_payload}.{signature}",
            "missing exp": f"Bearer {hs256({'sub': 'carol', 'iat': epoch()})}",
            "missing sub": f"Bearer {hs256({'exp': epoch(dt.timedelta(minutes=5))})}",
            "non-string sub": f"Bearer {hs256(claims(12345))}",
            "empty sub": f"Bearer {hs256(claims(''))}",
            "huge sub": f"Bearer {hs256(claims('s' * 300))}",
            "not yet valid": f"Bearer {hs256(claims(nbf=epoch(dt.timedelta(hours=1))))}",
            "malformed abc": "Bearer abc",
            "malformed a.b.c": "Bearer a.b.c",
            "bearer without token": "Bearer",
            "wrong scheme": "Basic x",
            "wrong scheme with valid token": f"Token {valid}",
            "token without scheme": valid,
        },
    )
    assert await user_count(api) == users_before


async def test_issuer_and_audience_are_checked(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    async with start_api(settings) as api:
        good = hs256(claims(iss=ISSUER, aud=AUDIENCE))
        body = await post_me(api, f"Bearer {good}")
        assert body.get("errors") is None, body
        # The dev token minted with these settings carries both claims.
        assert (await api.gql("{ me { name } }", user="erin"))["me"]["name"] == "Erin"

        await assert_refused(
            api,
            {
                "wrong issuer": f"Bearer {hs256(claims(iss='https://evil.test/', aud=AUDIENCE))}",
                "wrong audience": f"Bearer {hs256(claims(iss=ISSUER, aud='other-api'))}",
                "missing issuer": f"Bearer {hs256(claims(aud=AUDIENCE))}",
                "missing audience": f"Bearer {hs256(claims(iss=ISSUER))}",
            },
        )


# ---------------------------------------------------------------- JWKS (RS256, ES256)


@dataclass
class Jwks:
    url: str
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey
    requests: list[str]


class _JwksHandler(BaseHTTPRequestHandler):
    document: bytes = b""
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        jwk["alg"] = "RS256"
    else:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        jwk["alg"] = "ES256"
    jwk.update(kid=kid, use="sig")
    return jwk


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[Jwks]:
    """A JWKS document with one RSA and one EC P-256 key, served on 127.0.0.1."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    document = {"keys": [_public_jwk(rsa_key, "rsa-1"), _public_jwk(ec_key, "ec-1")]}
    requests: list[str] = []
    handler = type(
        "Handler",
        (_JwksHandler,),
        {"document": json.dumps(document).encode(), "requests": requests},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield Jwks(f"http://127.0.0.1:{port}/.well-known/jwks.json", rsa_key, ec_key, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def jwks_settings(tmp_path: Path, database_url: str, jwks: Jwks) -> Settings:
    # The HS256 secret stays set (download links are signed with a key derived from it); the
    # verifier must ignore it once a JWKS URL is configured.
    return make_settings(
        tmp_path,
        database_url,
        jwt_jwks_url=jwks.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_algorithms=["RS256", "ES256"],
    )


def signed(key: Any, algorithm: str, kid: str | None, **extra: object) -> str:
    headers = {} if kid is None else {"kid": kid}
    payload = claims(**{"iss": ISSUER, "aud": AUDIENCE, **extra})
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


async def test_jwks_accepts_rs256_and_es256(
    tmp_path: Path, database_url: str, jwks_server: Jwks
) -> None:
    async with start_api(jwks_settings(tmp_path, database_url, jwks_server)) as api:
        rs = signed(jwks_server.rsa_key, "RS256", "rsa-1", sub="rsa-user", name="Rosa")
        es = signed(jwks_server.ec_key, "ES256", "ec-1", sub="ec-user", email="ec@example.com")

        rs_body = await post_me(api, f"Bearer {rs}")
        es_body = await post_me(api, f"Bearer {es}")

        assert rs_body.get("errors") is None, rs_body
        assert es_body.get("errors") is None, es_body
        assert rs_body["data"]["me"]["name"] == "Rosa"
        assert es_body["data"]["me"]["email"] == "ec@example.com"
        assert rs_body["data"]["me"]["id"] != es_body["data"]["me"]["id"]
        assert jwks_server.requests, "the verifier never fetched the JWKS document"
        async with raw_ws(api) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"token": es}}))
            assert (await next_message(ws))["type"] == "connection_ack"


async def test_jwks_refuses_unknown_keys_and_algorithm_confusion(
    tmp_path: Path, database_url: str, jwks_server: Jwks
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_ec = ec.generate_private_key(ec.SECP256R1())
    public_pem = jwks_server.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confusion_payload = claims(iss=ISSUER, aud=AUDIENCE)
    confusion_payload["iat"] = epoch()
    confusion_payload["exp"] = epoch(dt.timedelta(minutes=5))
    confused = hand_signed_hs256(
        {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, confusion_payload, public_pem
    )
    confused_no_kid = hand_signed_hs256(
        {"alg": "HS256", "typ": "JWT"}, confusion_payload, public_pem
    )
    rsa_key, ec_key = jwks_server.rsa_key, jwks_server.ec_key
    mismatched = signed(ec_key, "ES256", "rsa-1")

    async with start_api(jwks_settings(tmp_path, database_url, jwks_server)) as api:
        for token in (confused, mismatched):
            async with raw_ws(api) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
                assert await close_code(ws) == 4403
        await assert_refused(
            api,
            {
                "wrong kid": f"Bearer {signed(rsa_key, 'RS256', 'rsa-404')}",
                "no kid": f"Bearer {signed(rsa_key, 'RS256', None)}",
                "key not in the set, known kid": f"Bearer {signed(stranger, 'RS256', 'rsa-1')}",
                "ec key not in the set": f"Bearer {signed(stranger_ec, 'ES256', 'ec-1')}",
                "HS256 signed with the public key PEM": f"Bearer {confused}",
                "HS256 with the PEM, no kid": f"Bearer {confused_no_kid}",
                "HS256 with the test secret": f"Bearer {hs256(confusion_payload)}",
                "ES256 token naming the RSA key": f"Bearer {mismatched}",
                "RS256 token naming the EC key": f"Bearer {signed(rsa_key, 'RS256', 'ec-1')}",
                "RS384 (not allowed)": f"Bearer {signed(rsa_key, 'RS384', 'rsa-1')}",
                "expired": f"Bearer {signed(rsa_key, 'RS256', 'rsa-1', exp=epoch(-HOUR))}",
                "wrong audience": f"Bearer {signed(rsa_key, 'RS256', 'rsa-1', aud='other')}",
                "wrong issuer": f"Bearer {signed(rsa_key, 'RS256', 'rsa-1', iss='https://x/')}",
            },
        )


# ---------------------------------------------------------------- websockets


@asynccontextmanager
async def raw_ws(
    api: ApiServer, subprotocols: list[Subprotocol] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(
        api.ws_url, subprotocols=subprotocols or [TRANSPORT_WS], open_timeout=10, close_timeout=2
    ) as ws:
        yield ws


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return message


async def close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes the connection; its close code (fails on any message)."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await asyncio.wait_for(ws.recv(), 10)
        pytest.fail(f"expected the server to close, got {message!r}")
    return None if closed.value.rcvd is None else closed.value.rcvd.code


async def test_ws_connection_init_with_a_bad_token_is_closed_4403(api: ApiServer) -> None:
    payloads: dict[str, dict[str, Any]] = {
        "bad token": {"type": "connection_init", "payload": {"authorization": "Bearer nope"}},
        "wrong secret": {
            "type": "connection_init",
            "payload": {"authorization": f"Bearer {hs256(claims(), OTHER_SECRET)}"},
        },
        "expired": {
            "type": "connection_init",
            "payload": {"token": hs256(claims(exp=epoch(-dt.timedelta(hours=1))))},
        },
        "wrong scheme": {"type": "connection_init", "payload": {"authorization": "Basic x"}},
        "non-string token": {"type": "connection_init", "payload": {"authorization": 42}},
        "empty payload": {"type": "connection_init", "payload": {}},
        "missing payload": {"type": "connection_init"},
    }
    codes = {}
    for name, message in payloads.items():
        async with raw_ws(api) as ws:
            await ws.send(json.dumps(message))
            codes[name] = await close_code(ws)
    assert codes == dict.fromkeys(payloads, 4403)


async def test_ws_valid_token_is_acknowledged(api: ApiServer) -> None:
    for payload in (
        {"authorization": f"Bearer {api.token('alice')}"},
        {"Authorization": f"Bearer {api.token('alice')}"},
        {"token": api.token("alice")},
    ):
        async with raw_ws(api) as ws:
            assert ws.subprotocol == TRANSPORT_WS
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            assert (await next_message(ws))["type"] == "connection_ack"
            # The connection's user is the token's: a query over the socket sees alice.
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": ME}}))
            result = await next_message(ws)
            assert result["type"] == "next", result
            assert result["payload"]["data"]["me"]["name"] == "Alice"


async def test_ws_subscribe_before_connection_init_is_closed_4401(api: ApiServer) -> None:
    async with raw_ws(api) as ws:
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": ME}}))
        assert await close_code(ws) == 4401


async def test_ws_offers_only_graphql_transport_ws(api: ApiServer) -> None:
    # A legacy-only client gets no protocol and is closed before any GraphQL traffic.
    try:
        async with raw_ws(api, [LEGACY_WS]) as ws:
            assert ws.subprotocol is None
            assert await close_code(ws) == 4406
    except InvalidStatus:
        pass  # refusing the handshake outright is just as good
    # A client offering both, legacy first, gets graphql-transport-ws.
    async with raw_ws(api, [LEGACY_WS, TRANSPORT_WS]) as ws:
        assert ws.subprotocol == TRANSPORT_WS


# ---------------------------------------------------------------- CLI and settings


async def test_cli_token_is_accepted_for_its_subject(
    api: ApiServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("CHATGQL_JWT_SECRET", api.settings.jwt_secret or "")
    monkeypatch.setenv("CHATGQL_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)

    assert cli.main(["token", "--user", "bob", "--name", "Bob B", "--hours", "1"]) == 0
    token = capsys.readouterr().out.strip()

    identity = await TokenVerifier(api.settings).verify(token)
    assert identity.subject == "bob"
    assert identity.name == "Bob B"
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert abs(exp - epoch(dt.timedelta(hours=1))) < 60
    body = await post_me(api, f"Bearer {token}")
    assert body.get("errors") is None, body
    assert body["data"]["me"]["name"] == "Bob B"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CHATGQL_JWT_SECRET", "CHATGQL_ENV", "CHATGQL_JWT_JWKS_URL", "CHATGQL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "secret",
    [None, "", "changeme", "CHANGEME", " secret ", "dev", "development", "short-but-real"],
)
def test_production_refuses_a_placeholder_or_short_secret(
    clean_env: None, tmp_path: Path, secret: str | None
) -> None:
    with pytest.raises(ValidationError):
        Settings(env="production", jwt_secret=secret, data_dir=tmp_path)


def test_production_accepts_a_long_secret_or_jwks(clean_env: None, tmp_path: Path) -> None:
    real = Settings(env="production", jwt_secret="r" * 40, data_dir=tmp_path)
    assert real.resolved_jwt_secret() == "r" * 40
    jwks = Settings(env="production", jwt_jwks_url="https://idp.test/jwks", data_dir=tmp_path)
    assert jwks.resolved_jwt_secret() is None
    assert not (tmp_path / "dev-jwt-secret").exists()


async def test_development_secret_is_generated_once_with_mode_0600(
    clean_env: None, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    first = Settings(env="development", data_dir=data_dir)
    secret = first.resolved_jwt_secret()
    path = data_dir / "dev-jwt-secret"

    assert secret and len(secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.resolved_jwt_secret() == secret
    # A restart (new settings object) reuses the file, so earlier tokens stay valid.
    token = mint_token(first, "dana")
    restarted = Settings(env="development", data_dir=data_dir)
    assert restarted.resolved_jwt_secret() == secret
    assert (await TokenVerifier(restarted).verify(token)).subject == "dana"
    # Another data dir is another secret: it is random, not a constant.
    other = Settings(env="development", data_dir=tmp_path / "other").resolved_jwt_secret()
    assert other and other != secret
