"""Users' own provider keys: write-only, sealed at rest, used for their answers only, never
logged or returned; their base URLs kept out of the server's own network."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gql_api.cli import main as cli_main
from gql_api.db import Database
from gql_api.providers.config import ProviderConfig
from gql_api.runtime import make_models
from gql_api.secrets_box import SecretBox, kek_id, parse_kek
from models.provider_keys import ProviderKey
from tests.conftest import make_settings
from tests.factories import count_rows
from tests.fake_openai import FakeOpenAI, http_status, text
from tests.streaming import new_conversation, rebuild, watch
from tests.support import ApiServer, GraphQLErrors, start_api

KEY_ENV = "CHATGQL_TEST_OPENAI_KEY"
SERVER_KEY = "sk-server-key-0000"
USER_KEY = "sk-user-Qx7-secret-Zw81"
SET = """mutation($p: String!, $k: String!, $u: String) {
  setProviderKey(provider: $p, apiKey: $k, baseUrl: $u) {
    id provider lastFour baseUrl createdAt lastUsedAt lastError lastErrorAt } }"""
KEYS = "{ providerKeys { id provider lastFour baseUrl lastUsedAt lastError } }"
DELETE = "mutation($id: ID!) { deleteProviderKey(id: $id) { id } }"


@pytest.fixture
def second_fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.close()


def key_settings(tmp_path: Path, database_url: str, base_url: str, **overrides: Any) -> Any:
    providers = [
        ProviderConfig(
            name="fakeai",
            kind="openai-compatible",
            base_url=base_url,
            api_key_env=KEY_ENV,
            max_retries=0,
            models=["gpt-fake"],
        ),
        # No server key at all: its models are for users who bring one.
        ProviderConfig(
            name="bring-your-own",
            kind="openai-compatible",
            base_url=base_url,
            api_key_env="CHATGQL_TEST_UNSET_KEY",
            max_retries=0,
            models=["byo-model"],
        ),
        ProviderConfig(name="demo", kind="demo"),
    ]
    return make_settings(tmp_path, database_url, providers=providers, **overrides)


@pytest.fixture
async def api_keys(
    tmp_path: Path,
    database_url: str,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[ApiServer]:
    monkeypatch.setenv(KEY_ENV, SERVER_KEY)
    monkeypatch.delenv("CHATGQL_TEST_UNSET_KEY", raising=False)
    caplog.set_level(logging.DEBUG)
    settings = key_settings(
        tmp_path, database_url, fake_openai.base_url_v1, user_base_url_allowed_hosts=["127.0.0.1"]
    )
    async with start_api(settings) as api:
        yield api
    # Whatever a test did, the user's key went into no log line (nor a logged traceback).
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    assert records, "nothing was logged at all: the check below would prove nothing"
    logged = "\n".join(logging.Formatter("%(message)s %(exc_text)s").format(r) for r in records)
    assert USER_KEY not in logged


async def set_key(api: ApiServer, provider: str = "fakeai", **extra: Any) -> dict[str, Any]:
    variables = {"p": provider, "k": extra.pop("key", USER_KEY), "u": extra.pop("url", None)}
    body = await api.raw(SET, variables, user=extra.pop("user", "alice"))
    assert USER_KEY not in json.dumps(body)
    if body.get("errors"):
        raise GraphQLErrors(body["errors"])
    result: dict[str, Any] = body["data"]["setProviderKey"]
    return result


async def answer(api: ApiServer, model: str | None = None, user: str = "alice") -> dict[str, Any]:
    conversation = await new_conversation(api, user=user)
    query = """mutation($c: ID!, $m: String) {
      sendMessage(input: {conversationId: $c, content: "hi", model: $m}) { stream { id } } }"""
    sent = await api.gql(query, {"c": conversation, "m": model}, user=user)
    events = await watch(api, stream_id=sent["sendMessage"]["stream"]["id"], user=user)
    assert USER_KEY not in json.dumps(events)
    return rebuild(events)[1]


async def test_set_list_delete_and_the_key_is_never_returned(api_keys: ApiServer) -> None:
    created = await set_key(api_keys)
    assert (created["provider"], created["lastFour"], created["baseUrl"]) == (
        "fakeai",
        "Zw81",
        None,
    )
    assert created["lastUsedAt"] is None and created["lastError"] is None
    listed = (await api_keys.gql(KEYS))["providerKeys"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert (await api_keys.gql(KEYS, user="bob"))["providerKeys"] == []
    async with api_keys.services.db.read() as session:
        row = (await session.scalars(select(ProviderKey))).one()
    assert USER_KEY not in row.sealed_key and row.kek_id == api_keys.services.secrets_box.current_id
    # Setting it again replaces it: one key per provider.
    again = await set_key(api_keys, key="sk-other-key-9999")
    assert again["lastFour"] == "9999"
    assert await count_rows(api_keys, ProviderKey) == 1
    await api_keys.gql(DELETE, {"id": again["id"]})
    assert (await api_keys.gql(KEYS))["providerKeys"] == []
    with pytest.raises(GraphQLErrors) as caught:
        await api_keys.gql(DELETE, {"id": again["id"]})
    assert caught.value.code == "NOT_FOUND"


async def test_a_users_key_is_used_for_their_answers_only(
    api_keys: ApiServer, fake_openai: FakeOpenAI
) -> None:
    await set_key(api_keys)
    fake_openai.enqueue(text(["mine"]), text(["theirs"]))
    assert (await answer(api_keys))["status"] == "COMPLETED"
    assert (await answer(api_keys, user="bob"))["status"] == "COMPLETED"
    alice, bob = (r.headers["authorization"] for r in fake_openai.requests)
    assert (alice, bob) == (f"Bearer {USER_KEY}", f"Bearer {SERVER_KEY}")
    listed = (await api_keys.gql(KEYS))["providerKeys"]
    assert listed[0]["lastUsedAt"] is not None and listed[0]["lastError"] is None


async def test_a_users_base_url_gets_their_requests(
    api_keys: ApiServer, fake_openai: FakeOpenAI, second_fake: FakeOpenAI
) -> None:
    created = await set_key(api_keys, url=second_fake.base_url_v1 + "/")
    assert created["baseUrl"] == second_fake.base_url_v1
    second_fake.enqueue(text(["from ", "my server"]))
    assert (await answer(api_keys))["status"] == "COMPLETED"
    assert fake_openai.calls == 0 and second_fake.calls == 1
    assert second_fake.requests[0].headers["authorization"] == f"Bearer {USER_KEY}"


async def test_a_rejected_key_fails_the_answer_and_is_noted(
    api_keys: ApiServer, fake_openai: FakeOpenAI
) -> None:
    await set_key(api_keys)
    fake_openai.enqueue(http_status(401, f"Incorrect API key provided: {USER_KEY}"))
    end = await answer(api_keys)
    assert (end["status"], end["errorCode"]) == ("FAILED", "PROVIDER_AUTH")
    assert "fakeai" in end["errorMessage"]
    listed = (await api_keys.gql(KEYS))["providerKeys"]
    assert listed[0]["lastError"] == end["errorMessage"]


async def test_models_that_need_a_users_own_key(
    api_keys: ApiServer, fake_openai: FakeOpenAI
) -> None:
    models = "{ models { id provider } }"
    assert [m["id"] for m in (await api_keys.gql(models))["models"]] == ["gpt-fake", "demo"]
    conversation = await new_conversation(api_keys)
    query = """mutation($c: ID!) { sendMessage(input: {conversationId: $c, content: "hi",
      model: "byo-model"}) { stream { id } } }"""
    with pytest.raises(GraphQLErrors) as caught:
        await api_keys.gql(query, {"c": conversation})
    assert caught.value.code == "BAD_USER_INPUT" and "key of your own" in str(caught.value)
    await set_key(api_keys, "bring-your-own")
    listed = [m["id"] for m in (await api_keys.gql(models))["models"]]
    assert listed == ["gpt-fake", "byo-model", "demo"]
    assert [m["id"] for m in (await api_keys.gql(models, user="bob"))["models"]] == [
        "gpt-fake",
        "demo",
    ]
    fake_openai.enqueue(text(["ok"]))
    assert (await answer(api_keys, "byo-model"))["status"] == "COMPLETED"
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {USER_KEY}"


@pytest.mark.parametrize(
    ("provider", "key", "url", "field"),
    [
        ("nope", USER_KEY, None, "provider"),
        ("demo", USER_KEY, None, "provider"),
        ("fakeai", "", None, "apiKey"),
        ("fakeai", "   ", None, "apiKey"),
        ("fakeai", "k" * 513, None, "apiKey"),
        ("fakeai", "sk-line\nbreak", None, "apiKey"),
        ("fakeai", USER_KEY, "ftp://example.com/v1", "baseUrl"),
        ("fakeai", USER_KEY, "not a url", "baseUrl"),
        ("fakeai", USER_KEY, "http://user:pw@example.com/v1", "baseUrl"),
        ("fakeai", USER_KEY, "http://example.com:99999/v1", "baseUrl"),
        ("fakeai", USER_KEY, "https://" + "a" * 500 + ".com", "baseUrl"),
        ("fakeai", USER_KEY, "http://no-such-host.invalid/v1", "baseUrl"),
    ],
)
async def test_bad_input_is_refused_and_nothing_stored(
    api_keys: ApiServer, provider: str, key: str, url: str | None, field: str
) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await set_key(api_keys, provider, key=key, url=url)
    assert caught.value.code == "BAD_USER_INPUT"
    assert caught.value.errors[0]["extensions"]["field"] == field
    assert key.strip() == "" or key not in str(caught.value.errors)
    assert await count_rows(api_keys, ProviderKey) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/v1",
        "http://localhost:8080/v1",
        "http://10.1.2.3/v1",
        "http://192.168.0.10/v1",
        "http://169.254.169.254/latest",
        "http://[::1]:8000/v1",
        "http://[fe80::1]/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://0.0.0.0/v1",
    ],
)
async def test_internal_addresses_are_refused_unless_the_operator_allows_them(
    tmp_path: Path, database_url: str, url: str
) -> None:
    settings = key_settings(tmp_path, database_url, "http://127.0.0.1:9/v1")
    async with start_api(settings) as api:
        with pytest.raises(GraphQLErrors) as caught:
            await set_key(api, url=url)
        assert caught.value.code == "BAD_USER_INPUT"
        assert "loopback, private or link-local" in str(caught.value)
        assert await count_rows(api, ProviderKey) == 0


async def test_rotate_keys_reseals_under_the_new_kek(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    settings = key_settings(tmp_path, database_url, "http://127.0.0.1:9/v1", encryption_key=first)
    async with start_api(settings) as api:
        await set_key(api)
        await set_key(api, "bring-your-own", user="bob")
    for name, value in {
        "CHATGQL_ENV": "test",
        "CHATGQL_DATABASE_URL": database_url,
        "CHATGQL_DATA_DIR": str(tmp_path / "var"),
        "CHATGQL_ENCRYPTION_KEY": second,
        "CHATGQL_ENCRYPTION_OLD_KEYS": json.dumps([first]),
    }.items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(cli_main, ["rotate-keys"]) == 0
    monkeypatch.setenv("CHATGQL_ENCRYPTION_OLD_KEYS", "[]")
    rotated = settings.model_copy(update={"encryption_key": second})
    async with start_api(rotated) as api:
        async with api.services.db.read() as session:
            rows = list(await session.scalars(select(ProviderKey)))
        assert {r.kek_id for r in rows} == {kek_id(parse_kek(second))}
        box = SecretBox(second)  # the old KEK is no longer needed
        from models.provider_keys import sealing_context

        opened = {box.open(r.sealed_key, sealing_context(r.owner_id, r.provider)) for r in rows}
        assert opened == {USER_KEY}


async def test_production_needs_a_kek_only_where_users_bring_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        production = {"env": "production", "jwt_secret": "p" * 40, "encryption_key": None}
        keyed = key_settings(tmp_path, "sqlite+aiosqlite://", "http://127.0.0.1:9/v1")
        with pytest.raises(ValueError, match="CHATGQL_ENCRYPTION_KEY"):
            make_models(keyed.model_copy(update=production), db)
        demo_only = keyed.model_copy(
            update={**production, "providers": [ProviderConfig(name="demo", kind="demo")]}
        )
        _, box, router = make_models(demo_only, db)
        assert box is None
        await router.close()  # type: ignore[attr-defined]
    finally:
        await db.dispose()
