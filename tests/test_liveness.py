"""Liveness per process and continued answers, in one process (real processes: test_drain.py).

A process's own streams are never swept, however late their writes; a dead process's answer is
continued on the same stream (or ended, when it has no attempts left or continuing is off); a
send never waits for a sweep; `continueMessage` picks up a stopped or interrupted answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from gql_api import jobs, runtime
from gql_api.providers.base import ModelMessage, ModelRequest, TextBlock, TextDelta
from gql_api.providers.demo import DemoProvider
from gql_api.settings import Settings
from models import nodes
from models.base import utcnow
from models.messages import Message
from models.nodes import Node
from models.streams import Stream
from tests.conftest import make_settings
from tests.streaming import (
    new_conversation,
    rebuild,
    send,
    stored_answer,
    wait_finished,
    watch,
)
from tests.support import ApiServer, GraphQLErrors, start_api

pytestmark = pytest.mark.slow

CONTINUE = "mutation($m: ID!) { continueMessage(id: $m) { id status length } }"
STOP = "mutation($s: ID!) { stopStream(id: $s) { status length } }"
QUIET = 3600.0  # a sweep interval no test waits for: sweeps run when the test says


def quiet_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    """Sweeps only when a test calls them (and may judge others within a second of starting);
    tokens slow enough to act mid-answer."""
    values: dict[str, Any] = {
        "sweep_interval_seconds": QUIET,
        "demo_token_delay_seconds": 0.004,
        "node_heartbeat_seconds": 0.2,
        "node_stale_after_seconds": 1.0,
    }
    values.update(overrides)
    return make_settings(tmp_path, database_url, **values)


@pytest.fixture
async def quiet(tmp_path: Path, database_url: str) -> AsyncIterator[ApiServer]:
    async with start_api(quiet_settings(tmp_path, database_url)) as api:
        yield api


async def demo_answer(prompt: str) -> str:
    """What the demo model answers to `prompt`, uninterrupted."""
    request = ModelRequest(
        model="demo",
        system="",
        messages=[ModelMessage(role="user", content=[TextBlock(prompt)])],
        max_tokens=100,
    )
    pieces = [e.text async for e in DemoProvider().stream(request) if isinstance(e, TextDelta)]
    return "".join(pieces)


async def saved_length(api: ApiServer, message_id: str) -> int:
    async with api.services.db.read() as session:
        message = await session.get(Message, message_id)
    assert message is not None
    return len(message.content)


async def until_saved(api: ApiServer, message_id: str, more_than: int) -> None:
    async with asyncio.timeout(20):
        while await saved_length(api, message_id) <= more_than:
            await asyncio.sleep(0.01)


async def stream_row(api: ApiServer, stream_id: str) -> Stream:
    async with api.services.db.read() as session:
        stream = await session.get(Stream, stream_id)
    assert stream is not None
    return stream


async def orphan(
    api: ApiServer, stream_id: str, *, node: str = "dead-node", steady: bool = True, **values: Any
) -> None:
    """Make this process's running answer look like a dead process's: its text saved, left
    active, owned by `node` (by default one that has no heartbeat)."""
    assert stream_id in await api.services.engine.hand_off()
    async with api.services.db.write() as session:
        await session.execute(
            update(Stream).where(Stream.id == stream_id).values(node_id=node, **values)
        )
    if steady:
        await until_steady(api, True)


async def until_steady(api: ApiServer, steady: bool) -> None:
    """A process judges others only once it has beaten for a whole stale period itself."""
    liveness = api.services.liveness
    assert liveness is not None
    async with asyncio.timeout(10):
        while liveness.steady() != steady:
            await asyncio.sleep(0.02)


async def started(api: ApiServer, prompt: str, *, saved: int = 40) -> tuple[str, str, str]:
    """An answer under way with more than `saved` code points flushed: (conversation, stream,
    message)."""
    conversation = await new_conversation(api)
    sent = await send(api, conversation, prompt)
    message_id = sent["assistantMessage"]["id"]
    await until_saved(api, message_id, saved)
    return conversation, sent["stream"]["id"], message_id


# ---------------------------------------------------------------- own streams are never swept


async def test_a_process_never_sweeps_its_own_streams_however_late_their_writes(
    quiet: ApiServer,
) -> None:
    """The stream's own heartbeat is an hour old (its writes were late): neither this process's
    sweeper nor another's touches it while this process beats."""
    api = quiet
    _, stream_id, message_id = await started(api, "busy [demo:words=600]")
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    async with api.services.db.write() as session:
        await session.execute(
            update(Stream).where(Stream.id == stream_id).values(heartbeat_at=an_hour_ago)
        )
    assert await runtime.sweep(api.services) == []
    assert (
        await jobs.sweep_orphans(
            api.services.db, api.services.broker, me="another-node", stale_after=3
        )
        == []
    )
    # Even when this node's own heartbeat is late, its own sweeper leaves its streams alone.
    async with api.services.db.write() as session:
        await session.execute(
            update(Node).where(Node.id == api.services.node_id).values(heartbeat_at=an_hour_ago)
        )
    assert await runtime.sweep(api.services) == []
    final = await wait_finished(api, stream_id)
    assert final["status"] == "COMPLETED"
    assert len((await stored_answer(api, message_id))["content"].split()) == 600


async def test_answers_whose_writes_are_late_all_complete(
    tmp_path: Path, database_url: str
) -> None:
    """Flushes (the only stream writes) 4 s apart, nodes stale after 3 s, sweeps every 0.2 s:
    with liveness per stream write, each of these answers was swept as stale mid-way."""
    settings = make_settings(
        tmp_path, database_url, flush_interval_ms=4000, sweep_interval_seconds=0.2
    )
    async with start_api(settings) as api:
        conversations = [await new_conversation(api) for _ in range(5)]
        sent = await asyncio.gather(*(send(api, c, "hi [demo:words=2000]") for c in conversations))
        finals = await asyncio.gather(*(wait_finished(api, s["stream"]["id"]) for s in sent))
    assert [f["status"] for f in finals] == ["COMPLETED"] * 5, finals


# ---------------------------------------------------------------- a dead process's answer


async def test_an_answer_of_a_dead_process_continues_on_the_same_stream(
    quiet: ApiServer,
) -> None:
    api = quiet
    prompt = "crash me [demo:words=500]"
    _, stream_id, message_id = await started(api, prompt)
    watcher = asyncio.create_task(watch(api, stream_id=stream_id))
    await orphan(api, stream_id)
    before = await saved_length(api, message_id)
    await asyncio.sleep(random.uniform(0, 0.2))  # watchers see a pause
    calls = api.services.engine.model_calls
    assert await runtime.sweep(api.services) == [stream_id]
    text, end = rebuild(await asyncio.wait_for(watcher, 30))
    assert end["status"] == "COMPLETED"
    assert text == await demo_answer(prompt)  # one answer, nothing repeated, nothing missing
    answer = await stored_answer(api, message_id)
    assert answer["status"] == "COMPLETE" and answer["content"] == text
    assert answer["siblings"]["count"] == 1  # continued, not a new answer
    row = await stream_row(api, stream_id)
    assert row.node_id == api.services.node_id and row.continuations == 1
    assert row.last_seq > 0 and row.length == len(text) > before
    assert api.services.engine.model_calls == calls + 1


async def test_an_answer_this_process_dropped_is_picked_up_again(quiet: ApiServer) -> None:
    """Still named as this process's, but not generated here (say its terminal write failed):
    once its row is stale, this process's own sweeper continues it."""
    api = quiet
    prompt = "dropped [demo:words=500]"
    _, stream_id, message_id = await started(api, prompt)
    await orphan(api, stream_id, node=api.services.node_id)
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    async with api.services.db.write() as session:
        await session.execute(
            update(Stream).where(Stream.id == stream_id).values(heartbeat_at=an_hour_ago)
        )
    assert await runtime.sweep(api.services) == [stream_id]
    assert (await wait_finished(api, stream_id))["status"] == "COMPLETED"
    assert (await stored_answer(api, message_id))["content"] == await demo_answer(prompt)


async def test_continuations_are_bounded_then_the_answer_ends_interrupted(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(quiet_settings(tmp_path, database_url, max_continuations=2)) as api:
        _, stream_id, message_id = await started(api, "again [demo:words=500]")
        await orphan(api, stream_id, continuations=2)
        watcher = asyncio.create_task(watch(api, stream_id=stream_id))
        assert await runtime.sweep(api.services) == [stream_id]
        text, end = rebuild(await asyncio.wait_for(watcher, 30))
        assert end["status"] == "INTERRUPTED" and end["errorCode"] == "NODE_LOST"
        answer = await stored_answer(api, message_id)
        assert answer["status"] == "INTERRUPTED" and answer["content"] == text
        assert not api.services.engine.is_running(stream_id)


async def test_without_automatic_continuation_a_dead_process_answer_ends_interrupted(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(quiet_settings(tmp_path, database_url, auto_continue=False)) as api:
        _, stream_id, message_id = await started(api, "no more [demo:words=500]")
        await orphan(api, stream_id)
        assert await runtime.sweep(api.services) == [stream_id]
        final = await wait_finished(api, stream_id)
        assert final["status"] == "INTERRUPTED" and final["errorCode"] == "NODE_LOST"
        # ... and continueMessage finishes it on request.
        await api.gql(CONTINUE, {"m": message_id})
        assert (await wait_finished(api, stream_id))["status"] == "COMPLETED"
        answer = await stored_answer(api, message_id)
        assert answer["content"] == await demo_answer("no more [demo:words=500]")


async def test_two_processes_race_to_continue_an_answer_and_one_wins(
    tmp_path: Path, database_url: str
) -> None:
    """Two live processes sweep at random moments: one continues the answer, the other leaves it."""
    a_settings = quiet_settings(tmp_path / "a", database_url)
    b_settings = quiet_settings(tmp_path / "b", database_url)
    async with start_api(a_settings) as a, start_api(b_settings) as b:
        for round_ in range(4):
            prompt = f"race {round_} [demo:words=300]"
            _, stream_id, message_id = await started(a, prompt)
            await orphan(a, stream_id)
            calls = a.services.engine.model_calls + b.services.engine.model_calls

            async def sweep_later(api: ApiServer) -> list[str]:
                await asyncio.sleep(random.uniform(0, 0.01))
                return await runtime.sweep(api.services)

            results = await asyncio.gather(sweep_later(a), sweep_later(b))
            assert sorted(map(len, results)) == [0, 1], results
            winner = a if results[0] else b
            assert (await wait_finished(winner, stream_id))["status"] == "COMPLETED"
            answer = await stored_answer(a, message_id)
            assert answer["content"] == await demo_answer(prompt)
            assert a.services.engine.model_calls + b.services.engine.model_calls == calls + 1


async def test_after_its_heartbeat_failed_a_process_judges_no_one_for_a_while(
    quiet: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database outage leaves every process's heartbeat old: the first process back must not
    take the others for dead before they could beat again."""
    api = quiet
    _, stream_id, _ = await started(api, "outage [demo:words=500]")
    failing = True
    beat = nodes.beat

    async def flaky(session: Any, node_id: str, state: str) -> None:
        if failing:
            raise ConnectionError("the database is away")
        await beat(session, node_id, state)

    monkeypatch.setattr(nodes, "beat", flaky)
    await until_steady(api, False)
    await orphan(api, stream_id, steady=False)
    assert await runtime.sweep(api.services) == []
    failing = False
    await until_steady(api, True)
    assert await runtime.sweep(api.services) == [stream_id]
    assert (await wait_finished(api, stream_id))["status"] == "COMPLETED"


# ---------------------------------------------------------------- sends are not blocked


async def test_a_send_after_a_crash_ends_the_dead_answer_instead_of_conflict(
    quiet: ApiServer,
) -> None:
    api = quiet
    conversation, stream_id, message_id = await started(api, "blocked? [demo:words=500]")
    await orphan(api, stream_id)
    watcher = asyncio.create_task(watch(api, stream_id=stream_id))
    sent = await send(api, conversation, "next question [demo:words=5]")
    assert (await wait_finished(api, sent["stream"]["id"]))["status"] == "COMPLETED"
    _, end = rebuild(await asyncio.wait_for(watcher, 30))
    assert end["status"] == "INTERRUPTED" and end["errorCode"] == "NODE_LOST"
    assert (await stored_answer(api, message_id))["status"] == "INTERRUPTED"


async def test_a_send_while_the_owner_is_alive_is_still_a_conflict(quiet: ApiServer) -> None:
    conversation, stream_id, _ = await started(quiet, "alive [demo:words=600]")
    with pytest.raises(GraphQLErrors) as refused:
        await send(quiet, conversation, "too soon")
    assert refused.value.code == "CONFLICT"
    assert (await wait_finished(quiet, stream_id))["status"] == "COMPLETED"


async def test_stopping_a_dead_process_answer_cancels_it_at_once(quiet: ApiServer) -> None:
    _, stream_id, message_id = await started(quiet, "stop dead [demo:words=500]")
    await orphan(quiet, stream_id)
    stopped = (await quiet.gql(STOP, {"s": stream_id}))["stopStream"]
    assert stopped["status"] == "CANCELLED"
    assert stopped["length"] == await saved_length(quiet, message_id) > 0


# ---------------------------------------------------------------- continueMessage


async def test_stop_then_continue_gives_one_answer_on_the_same_stream(quiet: ApiServer) -> None:
    """The "paused" state: stop, then continue; a watcher from the start sees one answer."""
    api = quiet
    prompt = "pause [demo:words=500]"
    _, stream_id, message_id = await started(api, prompt)
    stopped = (await api.gql(STOP, {"s": stream_id}))["stopStream"]
    assert stopped["status"] == "CANCELLED" and stopped["length"] > 0
    continued = (await api.gql(CONTINUE, {"m": message_id}))["continueMessage"]
    assert continued["id"] == stream_id and continued["status"] in ("PENDING", "STREAMING")
    assert continued["length"] == stopped["length"]
    watcher = asyncio.create_task(watch(api, stream_id=stream_id))
    text, end = rebuild(await asyncio.wait_for(watcher, 30))
    assert end["status"] == "COMPLETED"
    assert text == await demo_answer(prompt)
    answer = await stored_answer(api, message_id)
    assert answer["content"] == text and answer["status"] == "COMPLETE"
    assert answer["siblings"]["count"] == 1  # continued, not a new answer


async def test_continue_message_refuses_what_it_cannot_continue(quiet: ApiServer) -> None:
    api = quiet
    conversation, stream_id, message_id = await started(api, "refuse [demo:words=600]")

    async def code_of(message: str, user: str = "alice") -> str | None:
        with pytest.raises(GraphQLErrors) as refused:
            await api.gql(CONTINUE, {"m": message}, user=user)
        return refused.value.code

    assert await code_of(message_id) == "CONFLICT"  # being generated
    assert await code_of(message_id, user="mallory") == "NOT_FOUND"  # not the caller's
    assert await code_of("not-an-id") == "BAD_USER_INPUT"
    assert await code_of("0" * 32) == "NOT_FOUND"
    await wait_finished(api, stream_id)
    assert await code_of(message_id) == "CONFLICT"  # completed: nothing to continue
    prompt = (
        await api.gql(
            "query($c: ID!) { messages(conversationId: $c) { edges { node { id role } } } }",
            {"c": conversation},
        )
    )["messages"]["edges"][0]["node"]
    assert prompt["role"] == "USER"
    assert await code_of(prompt["id"]) == "BAD_USER_INPUT"
    assert (await stored_answer(api, message_id))["status"] == "COMPLETE"


# ---------------------------------------------------------------- dropped provider connection


async def test_a_dropped_provider_connection_is_continued(quiet: ApiServer) -> None:
    api = quiet
    prompt = "flaky [demo:drop] [demo:words=60]"
    conversation = await new_conversation(api)
    calls = api.services.engine.model_calls
    sent = await send(api, conversation, prompt)
    text, end = rebuild(await watch(api, stream_id=sent["stream"]["id"]))
    assert end["status"] == "COMPLETED"
    assert api.services.engine.model_calls == calls + 2
    # The demo model continues from where the text stops: one answer of 60 pieces.
    assert len(text.split()) == 60
    assert (await stored_answer(api, sent["assistantMessage"]["id"]))["content"] == text


async def test_a_dropped_provider_connection_fails_when_continuing_is_off(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(quiet_settings(tmp_path, database_url, auto_continue=False)) as api:
        sent = await send(api, await new_conversation(api), "flaky [demo:drop] [demo:words=60]")
        final = await wait_finished(api, sent["stream"]["id"])
    assert final["status"] == "FAILED" and final["errorCode"] == "PROVIDER_CONNECTION_LOST"
