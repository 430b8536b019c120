"""The model router: a request goes to its model's provider, with the user's key when they have
one; clients for users' keys are kept per key, a bounded few, and closed once nobody uses them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gql_api.db import Database
from gql_api.domain.provider_keys import UserKeys, set_provider_key
from gql_api.domain.users import CurrentUser
from gql_api.errors import PROVIDER_AUTH, PROVIDER_BAD_REQUEST, ProviderError
from gql_api.migrate import upgrade
from gql_api.providers import Finished, ModelRequest, ProviderEvent, TextDelta, Usage
from gql_api.providers.catalog import ModelCatalog, configured_providers
from gql_api.providers.config import ProviderConfig
from gql_api.providers.router import ModelRouter
from gql_api.secrets_box import SecretBox
from gql_api.settings import Settings
from models.users import User
from tests.fake_openai import FakeOpenAI, text


@dataclass
class Recorded:
    """A provider that says whose key it holds; `gate` holds its answers back when set."""

    api_key: str | None
    base_url: str | None
    name: str = "recorded"
    gate: asyncio.Event | None = None
    closed: bool = False
    models: list[str] = field(default_factory=list)

    async def close(self) -> None:
        self.closed = True

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        self.models.append(request.model)
        if self.gate is not None:
            await self.gate.wait()
        yield TextDelta(f"key={self.api_key} max={request.max_tokens}")
        yield Usage(1, 1)
        yield Finished("end_turn")


@dataclass
class World:
    db: Database
    box: SecretBox
    catalog: ModelCatalog
    built: list[Recorded]
    users: dict[str, CurrentUser]

    def router(self, cache_size: int = 2) -> ModelRouter:
        def build(config: Any, api_key: str | None, base_url: str | None, _delay: float) -> Any:
            provider = Recorded(api_key, base_url)
            self.built.append(provider)
            return provider

        return ModelRouter(
            self.catalog, keys=UserKeys(self.db, self.box), cache_size=cache_size, build=build
        )

    async def set_key(self, user: str, key: str) -> None:
        await set_provider_key(
            db=self.db,
            box=self.box,
            catalog=self.catalog,
            user=self.users[user],
            provider="cloud",
            api_key=key,
            base_url=None,
            allowed_hosts=[],
        )


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    monkeypatch.setenv("CHATGQL_TEST_CLOUD_KEY", "server-key")
    cloud = ProviderConfig(
        name="cloud",
        kind="openai-compatible",
        base_url="https://cloud.example/v1",
        api_key_env="CHATGQL_TEST_CLOUD_KEY",
        models=[{"id": "big", "upstream_id": "big-2025", "max_output_tokens": 100}],
    )
    settings = Settings(env="test", data_dir=tmp_path, providers=[cloud], max_output_tokens=4096)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'router.db'}")
    await upgrade(db)
    users = {}
    async with db.write() as session:
        for name in ("ann", "ben", "cat"):
            row = User(subject=name)
            session.add(row)
            await session.flush()
            users[name] = CurrentUser(id=row.id, subject=name)
    box = SecretBox(base64.b64encode(os.urandom(32)).decode())
    try:
        yield World(db, box, ModelCatalog(configured_providers(settings), settings), [], users)
    finally:
        await db.dispose()


def request(world: World, user: str | None, model: str = "big") -> ModelRequest:
    user_id = world.users[user].id if user else None
    return ModelRequest(model=model, system="", messages=[], max_tokens=4096, user_id=user_id)


async def said(router: ModelRouter, req: ModelRequest) -> str:
    async with contextlib.aclosing(router.stream(req)) as events:
        return "".join([e.text async for e in events if isinstance(e, TextDelta)])


async def test_server_key_unless_the_user_has_one_with_upstream_name_and_limit(
    world: World,
) -> None:
    router = world.router()
    await world.set_key("ann", "ann-key")
    assert await said(router, request(world, "ann")) == "key=ann-key max=100"
    assert await said(router, request(world, "ben")) == "key=server-key max=100"
    assert await said(router, request(world, None)) == "key=server-key max=100"
    assert {m for p in world.built for m in p.models} == {"big-2025"}
    await router.close()
    assert all(p.closed for p in world.built)


async def test_clients_per_key_are_reused_bounded_and_closed_when_idle(world: World) -> None:
    router = world.router(cache_size=2)
    server = len(world.built)  # the server's client, made at startup
    for name in ("ann", "ben", "cat"):
        await world.set_key(name, f"{name}-key")
    await said(router, request(world, "ann"))
    await said(router, request(world, "ann"))
    assert len(world.built) == server + 1  # one client for ann's key, used twice
    ann = world.built[-1]
    # ann's request is still streaming when her client is pushed out of the cache.
    ann.gate = asyncio.Event()
    streaming = asyncio.create_task(said(router, request(world, "ann")))
    await asyncio.sleep(0.05)
    await said(router, request(world, "ben"))
    await said(router, request(world, "cat"))
    assert len(world.built) == server + 3
    assert not ann.closed  # evicted, but in use: closed only when its answer ends
    ann.gate.set()
    assert await streaming == "key=ann-key max=100"
    assert ann.closed
    assert not any(p.closed for p in world.built if p is not ann)
    # A new key for ann makes a new client; the old one is never used again.
    await world.set_key("ann", "ann-key-2")
    assert await said(router, request(world, "ann")) == "key=ann-key-2 max=100"
    await router.close()


async def test_a_withdrawn_model_or_a_missing_key_fails_the_answer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = world.router()
    with pytest.raises(ProviderError) as caught:
        await said(router, request(world, "ann", model="gone"))
    assert caught.value.code == PROVIDER_BAD_REQUEST
    monkeypatch.delenv("CHATGQL_TEST_CLOUD_KEY")
    settings = Settings(
        env="test", data_dir=Path("unused"), providers=[world.catalog.providers["cloud"].config]
    )
    world.catalog = ModelCatalog(configured_providers(settings), settings)
    keyless = world.router()
    with pytest.raises(ProviderError) as caught:
        await said(keyless, request(world, "ben"))
    assert caught.value.code == PROVIDER_AUTH
    await world.set_key("ben", "ben-key")
    assert await said(keyless, request(world, "ben")) == "key=ben-key max=100"
    await keyless.close()
    await router.close()


async def test_closing_the_routed_stream_closes_the_upstream_response(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake = ProviderConfig(
        name="fake",
        kind="openai-compatible",
        base_url=fake_openai.base_url_v1,
        max_retries=0,
        models=["fake-model"],
    )
    settings = Settings(env="test", data_dir=tmp_path, providers=[fake])
    router = ModelRouter(ModelCatalog(configured_providers(settings), settings))
    fake_openai.enqueue(text(["tick "] * 100, delay=0.05))
    request = ModelRequest(model="fake-model", system="", messages=[], max_tokens=10)
    stream = router.stream(request)
    assert await anext(stream) == TextDelta("tick ")
    await stream.aclose()  # type: ignore[attr-defined]
    assert await asyncio.to_thread(fake_openai.requests[0].disconnected.wait, 2)
    await router.close()
