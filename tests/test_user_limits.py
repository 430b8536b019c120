"""Per-user limits: answers running at once and answers started a minute. RATE_LIMITED with
`retryAfter`, nothing stored on refusal, other users unaffected; shared by processes on Redis."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from gql_api.settings import Settings
from gql_api.user_limits import UserLimits
from models.messages import Message
from tests.conftest import make_settings
from tests.processes import remotes, run_nodes
from tests.servers import RedisServer, free_port
from tests.support import ApiServer, GraphQLErrors, start_api
from tests.test_ownership import wait_for_stream

CREATE = 'mutation { createConversation(input: {title: "x"}) { id } }'
SEND = """mutation($c: ID!) { sendMessage(input: {conversationId: $c, content: "[demo:long] hi"})
  { assistantMessage { id } stream { id } } }"""
RETRY = "mutation($m: ID!) { retryMessage(id: $m) { stream { id } } }"
STOP = "mutation($s: ID!) { stopStream(id: $s) { id } }"


async def message_count(api: ApiServer) -> int:
    async with api.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def send_after(api: ApiServer, user: str, conversation: str) -> Any:
    """sendMessage after a random pause (the race in a different order each time)."""
    await asyncio.sleep(random.uniform(0, 0.02))
    try:
        return (await api.gql(SEND, {"c": conversation}, user=user))["sendMessage"]
    except GraphQLErrors as exc:
        return exc


def rate_limited(outcome: Any) -> bool:
    if not isinstance(outcome, GraphQLErrors):
        return False
    extensions = outcome.errors[0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED", outcome.errors
    assert isinstance(extensions["retryAfter"], int) and extensions["retryAfter"] >= 1
    return True


async def test_answers_running_at_once(tmp_path: Path, database_url: str) -> None:
    # A slow model: the answers are still running while the others are sent.
    settings = make_settings(
        tmp_path, database_url, max_running_answers=3, demo_token_delay_seconds=0.2
    )
    async with start_api(settings) as api:
        for _ in range(3):  # the race, repeated: never more than the limit get through
            users = {"alice": 12, "bob": 3}
            conversations = {
                user: [
                    (await api.gql(CREATE, user=user))["createConversation"]["id"]
                    for _ in range(count)
                ]
                for user, count in users.items()
            }
            messages_before = await message_count(api)
            outcomes = {
                user: await asyncio.gather(*(send_after(api, user, c) for c in ids))
                for user, ids in conversations.items()
            }
            started = {
                user: [o for o in found if not rate_limited(o)] for user, found in outcomes.items()
            }
            assert len(started["alice"]) == 3
            assert len(started["bob"]) == 3  # another user is not affected
            # The refused sends stored nothing: two messages (prompt, answer) per started send.
            assert await message_count(api) == messages_before + 2 * 6
            for user, sent in started.items():
                for one in sent:
                    await api.gql(STOP, {"s": one["stream"]["id"]}, user=user)
                    assert await wait_for_stream(api, one["stream"]["id"], user) == "CANCELLED"


async def test_answers_started_a_minute(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url, max_sends_per_minute=3, user_limits={"carol": {"per_minute": 1}}
    )
    async with start_api(settings) as api:

        async def send(user: str) -> Any:
            conversation = (await api.gql(CREATE, user=user))["createConversation"]["id"]
            return await send_after(api, user, conversation)

        first = [await send("alice") for _ in range(3)]
        assert not any(rate_limited(o) for o in first)
        assert await wait_for_stream(api, first[0]["stream"]["id"], "alice") == "COMPLETED"
        before = await message_count(api)
        assert rate_limited(await send("alice"))
        # A retry starts an answer too: counted alike.
        retried: Any = None
        try:
            await api.gql(RETRY, {"m": first[0]["assistantMessage"]["id"]})
        except GraphQLErrors as exc:
            retried = exc
        assert rate_limited(retried)
        assert await message_count(api) == before
        assert not rate_limited(await send("bob"))
        assert not rate_limited(await send("carol"))  # an override: one a minute
        assert rate_limited(await send("carol"))


@pytest.mark.slow
async def test_limits_are_shared_by_processes_on_redis(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Two real processes, one Redis: the minute's count is one for both."""
    user = f"user-{secrets.token_hex(4)}"  # the Redis server outlives this test
    with run_nodes(
        2,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        broker_url=redis_server.url,
        directory=tmp_path,
        CHATGQL_MAX_SENDS_PER_MINUTE="4",
    ) as (a, b):
        async with remotes(a, b, user=user) as (on_a, on_b):
            outcomes = []
            for remote in (on_a, on_b, on_a, on_b, on_a, on_b):
                conversation = (await remote.gql(CREATE))["createConversation"]["id"]
                try:
                    outcomes.append((await remote.gql(SEND, {"c": conversation}))["sendMessage"])
                except GraphQLErrors as exc:
                    outcomes.append(exc)
            for sent in outcomes[:4]:
                await on_a.gql(STOP, {"s": sent["stream"]["id"]})
    assert [rate_limited(o) for o in outcomes] == [False] * 4 + [True] * 2


def test_overrides_are_checked() -> None:
    limits = Settings(env="test", user_limits={"dave": {"answers": 0}}).user_limits
    assert limits["dave"].answers == 0 and limits["dave"].per_minute is None
    with pytest.raises(ValidationError, match="per_minut"):
        Settings(env="test", user_limits={"dave": {"per_minut": 5}})  # a typo is not ignored


async def test_sends_go_on_when_the_counting_store_is_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis down (nothing listens on the port): not counted, a warning, no error for the user."""
    settings = Settings(env="test", broker_url=f"redis://127.0.0.1:{free_port()}/0")
    limits = UserLimits(settings)
    try:
        with caplog.at_level(logging.WARNING, "chatgql.limits"):
            for _ in range(settings.max_sends_per_minute + 1):
                await limits.count_send("erin")
    finally:
        await limits.close()
    assert "unavailable" in caplog.text
