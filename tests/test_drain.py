"""Deploys and crashes with real `chatgql serve` processes: drain on SIGTERM, continue after
`kill -9`. Watchers always see one answer, with no gap or repeat, and exactly one end event.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.processes import Node, RemoteError, node_env, remotes, run_nodes, wait_until
from tests.servers import PostgresServer, RedisServer
from tests.test_liveness import demo_answer
from tests.test_scale_out import (
    BOUND,
    SEND,
    WAIT,
    Watcher,
    ends,
    owning_node,
    received,
    start_answer,
    stored,
    text_saved,
)

pytestmark = pytest.mark.slow

CONTINUE = "mutation($m: ID!) { continueMessage(id: $m) { id status } }"


async def draining(node: Node) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as http:
        try:
            response = await http.get(f"{node.url}/health")
        except httpx.HTTPError:
            return False
    return response.status_code == 503 and response.json()["status"] == "draining"


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'chatgql.db'}"


async def test_sigterm_lets_a_running_answer_finish_and_refuses_new_ones(tmp_path: Path) -> None:
    prompt = "deploy [demo:words=1500]"
    with run_nodes(
        1,
        database_url=sqlite_url(tmp_path),
        broker_url="memory://",
        directory=tmp_path,
        CHATGQL_DRAIN_GRACE_SECONDS="60",
    ) as (a,):
        async with remotes(a) as (ra,):
            other = await ra.gql("mutation { createConversation(input: {}) { id } }")
            stream_id, message_id = await start_answer(ra, prompt)
            async with asyncio.timeout(BOUND), asyncio.TaskGroup() as tg:
                watcher = Watcher(tg, ra, stream_id)
                async with asyncio.timeout(WAIT):
                    await watcher.started.wait()
                a.terminate()
                await wait_until(lambda: draining(a), WAIT)
                with pytest.raises(RemoteError) as refused:
                    await ra.gql(SEND, {"c": other["createConversation"]["id"], "text": "hi"})
                events = await watcher.result()
            answer = await stored(ra, message_id)
        assert refused.value.code == "UNAVAILABLE"
        assert refused.value.errors[0]["extensions"]["retryAfter"] == 1
        assert ends(events) == 1
        text, end = received(events)
        assert end is not None and end["status"] == "COMPLETED"
        assert text == answer["content"] == await demo_answer(prompt)
        assert a.wait_exit(WAIT) == 0


async def test_a_drain_past_its_grace_hands_the_answer_to_another_process(
    postgres_server: PostgresServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    prompt = "hand off [demo:words=1500]"
    database_url = postgres_server.create_database()
    with run_nodes(
        2,
        database_url=database_url,
        broker_url=redis_server.url,
        directory=tmp_path,
        CHATGQL_DRAIN_GRACE_SECONDS="0.5",
    ) as (a, b):
        async with remotes(a, b) as (ra, rb):
            stream_id, message_id = await start_answer(ra, prompt)
            async with asyncio.timeout(BOUND), asyncio.TaskGroup() as tg:
                watcher = Watcher(tg, rb, stream_id)
                await text_saved(rb, message_id, more_than=300)
                a.terminate()
                events = await watcher.result()
            assert a.wait_exit(WAIT) == 0
            assert ends(events) == 1
            text, end = received(events)
            assert end is not None and end["status"] == "COMPLETED"
            assert text == (await stored(rb, message_id))["content"] == await demo_answer(prompt)
            assert await owning_node(database_url, stream_id) == b.node_id


async def test_a_drain_past_its_grace_alone_ends_the_answer_for_continue_later(
    tmp_path: Path,
) -> None:
    """No other process to take it: interrupted, with its one end event to the watcher on the
    draining process; the next process continues it on request."""
    prompt = "alone [demo:words=1500]"
    database_url = sqlite_url(tmp_path)
    extra = {"CHATGQL_DRAIN_GRACE_SECONDS": "0.3"}
    with run_nodes(
        1, database_url=database_url, broker_url="memory://", directory=tmp_path, **extra
    ) as (a,):
        async with remotes(a) as (ra,):
            stream_id, message_id = await start_answer(ra, prompt)
            async with asyncio.timeout(BOUND), asyncio.TaskGroup() as tg:
                watcher = Watcher(tg, ra, stream_id)
                await text_saved(ra, message_id, more_than=300)
                a.terminate()
                events = await watcher.result()
        assert a.wait_exit(WAIT) == 0
    assert ends(events) == 1
    text, end = received(events)
    assert end is not None and end["status"] == "INTERRUPTED"
    b = Node("B", node_env(database_url, "memory://", tmp_path, **extra), tmp_path)
    b.start()
    try:
        async with remotes(b) as (rb,):
            assert (await rb.gql(CONTINUE, {"m": message_id}))["continueMessage"]["id"] == stream_id
            rest = await rb.subscribe_all(
                "subscription($s: ID!, $o: Int!) { streamEvents(streamId: $s, offset: $o) {"
                " __typename ... on StreamEnd { status } } }",
                {"s": stream_id, "o": end["length"]},
            )
            assert rest[-1]["streamEvents"] == {"__typename": "StreamEnd", "status": "COMPLETED"}
            answer = await stored(rb, message_id)
        assert answer["content"] == await demo_answer(prompt)
        assert answer["content"].startswith(text)
    finally:
        b.stop()


async def test_kill_9_mid_answer_is_continued_by_another_process(
    postgres_server: PostgresServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    prompt = "crash [demo:words=1500]"
    database_url = postgres_server.create_database()
    with run_nodes(
        2, database_url=database_url, broker_url=redis_server.url, directory=tmp_path
    ) as (a, b):
        async with remotes(a, b) as (ra, rb):
            stream_id, message_id = await start_answer(ra, prompt)
            async with asyncio.timeout(BOUND), asyncio.TaskGroup() as tg:
                watcher = Watcher(tg, rb, stream_id)
                await text_saved(rb, message_id, more_than=300)
                a.kill()
                events = await watcher.result()
            assert ends(events) == 1
            text, end = received(events)
            assert end is not None and end["status"] == "COMPLETED"
            answer = await stored(rb, message_id)
            assert text == answer["content"] == await demo_answer(prompt)
            assert answer["siblings"]["count"] == 1  # continued, not a new answer
            assert await owning_node(database_url, stream_id) == b.node_id
