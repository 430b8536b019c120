"""Scale-out with an OpenAI-compatible model: two `chatgql serve` nodes on one PostgreSQL and
one Redis, the model a fake server speaking chat completions. An answer generated on A is
watched and resumed through B, stopped through B (A closes its upstream response), retried."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from gql import GraphQLRequest

from tests.fake_openai import FakeOpenAI, text
from tests.processes import Node, Remote, remotes, run_nodes, wait_until
from tests.servers import PostgresServer, RedisServer
from tests.streaming import EVENTS, rebuild

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

MODEL = "gpt-fake"
WAIT = 30.0
SEND = """mutation($c: ID!, $text: String!, $model: String) {
  sendMessage(input: {conversationId: $c, content: $text, model: $model}) {
    assistantMessage { id } stream { id } } }"""
MESSAGE = """query($m: ID!) { message(id: $m) {
  content status siblings { ids } } }"""


@dataclass
class Cluster:
    a: Node
    b: Node
    fake: FakeOpenAI


@pytest.fixture(scope="module")
def cluster(
    postgres_server: PostgresServer,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    fake = FakeOpenAI()
    fake.start()
    providers = [
        {
            "name": "fakeai",
            "kind": "openai-compatible",
            "base_url": fake.base_url + "/v1",
            "api_key_env": "FAKEAI_KEY",
            "max_retries": 0,
            "models": [MODEL],
        }
    ]
    try:
        with run_nodes(
            2,
            database_url=postgres_server.create_database(),
            broker_url=redis_server.url,
            directory=tmp_path_factory.mktemp("cluster-openai"),
            CHATGQL_PROVIDERS=json.dumps(providers),
            FAKEAI_KEY="sk-cluster",
        ) as (a, b):
            yield Cluster(a, b, fake)
    finally:
        fake.close()


async def start_on(remote: Remote, prompt: str) -> tuple[str, str]:
    created = await remote.gql('mutation { createConversation(input: {title: "x"}) { id } }')
    variables = {"c": created["createConversation"]["id"], "text": prompt, "model": MODEL}
    sent = (await remote.gql(SEND, variables))["sendMessage"]
    return sent["stream"]["id"], sent["assistantMessage"]["id"]


async def first_events(remote: Remote, stream_id: str, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with remote.ws() as session:
        request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "m": None, "o": 0})
        async for event in session.subscribe(request):
            events.append(event)
            if len(events) >= count:
                break
    return events


async def test_answer_on_a_is_watched_and_resumed_through_b(cluster: Cluster) -> None:
    words = [f"word{i} " for i in range(150)]
    async with remotes(cluster.a, cluster.b) as (ra, rb):
        for seed in range(3):
            cluster.fake.enqueue(text(words, delay=0.01))
            stream_id, message_id = await start_on(ra, f"count {seed}")
            rng = random.Random(seed)
            async with asyncio.timeout(60):
                whole = asyncio.create_task(
                    rb.subscribe_all(EVENTS, {"s": stream_id, "m": None, "o": 0})
                )
                seen = await first_events(ra, stream_id, rng.randint(2, 60))
                have = "".join(e["streamEvents"].get("text", "") for e in seen)
                rest = await rb.subscribe_all(EVENTS, {"s": stream_id, "m": None, "o": len(have)})
                tail, end = rebuild(rest, len(have))
                full, full_end = rebuild(await whole)
            assert have + tail == full == "".join(words)
            assert end["status"] == full_end["status"] == "COMPLETED"


async def test_stop_through_b_closes_the_upstream_response_and_retry_through_b(
    cluster: Cluster,
) -> None:
    async with remotes(cluster.a, cluster.b) as (ra, rb):
        calls = cluster.fake.calls
        cluster.fake.enqueue(text(["tick "] * 2000, delay=0.01))
        stream_id, message_id = await start_on(ra, "go on")
        await first_events(rb, stream_id, 5)
        stop = "mutation($s: ID!) { stopStream(id: $s) { status length } }"
        stopped = (await rb.gql(stop, {"s": stream_id}))["stopStream"]
        assert stopped["status"] == "CANCELLED"
        upstream = cluster.fake.requests[calls]
        assert await asyncio.to_thread(upstream.disconnected.wait, 5)

        cluster.fake.enqueue(text(["Done ", "now."]))
        retry = (
            "mutation($m: ID!) { retryMessage(id: $m) { assistantMessage { id } stream { id } } }"
        )
        retried = (await rb.gql(retry, {"m": message_id}))["retryMessage"]
        again, new_id = retried["stream"]["id"], retried["assistantMessage"]["id"]
        events = await ra.subscribe_all(EVENTS, {"s": again, "m": None, "o": 0})
        assert rebuild(events)[0] == "Done now."

        async def finished() -> bool:
            message = (await rb.gql(MESSAGE, {"m": new_id}))["message"]
            return bool(message["status"] == "COMPLETE")

        await wait_until(finished, WAIT)
        earlier = (await rb.gql(MESSAGE, {"m": message_id}))["message"]
        assert earlier["status"] == "CANCELLED" and earlier["siblings"]["ids"] == [
            message_id,
            new_id,
        ]
        assert len(earlier["content"]) == stopped["length"] > 0
