"""Prometheus metrics at /metrics: per app, counting operations, errors, answers, uploads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gql import GraphQLRequest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_settings
from tests.streaming import EVENTS, new_conversation, send, wait_finished
from tests.support import ApiServer, start_api

CONVERSATION = "query($c: ID!) { conversation(id: $c) { id title } }"


def sqlite(tmp_path: Path, name: str = "chatgql.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    async with start_api(make_settings(tmp_path, sqlite(tmp_path))) as server:
        yield server


async def scrape(
    api: ApiServer, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and sorted labels."""
    response = await api.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operations_and_errors_by_root_field_and_code(api: ApiServer) -> None:
    conversation = await new_conversation(api)
    await api.gql(CONVERSATION, {"c": conversation})
    missing = await api.raw(CONVERSATION, {"c": uuid.uuid4().hex})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND", missing
    invalid = await api.raw("query { noSuchField }")
    assert invalid["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    samples = await scrape(api)
    ops = "chatgql_graphql_operations_total"
    assert value(samples, ops, type="query", field="conversation") == 2
    assert value(samples, ops, type="mutation", field="createConversation") == 1
    # a field the schema does not have is no label value of its own
    assert value(samples, ops, type="query", field="unknown") == 1
    errors = "chatgql_graphql_errors_total"
    assert value(samples, errors, type="query", field="conversation", code="NOT_FOUND") == 1
    assert value(samples, errors, type="query", field="unknown", code="BAD_USER_INPUT") == 1
    assert (
        value(samples, errors, type="mutation", field="createConversation", code="NOT_FOUND") == 0
    )
    seconds = "chatgql_graphql_operation_seconds_count"
    assert value(samples, seconds, type="query") == 3
    http = "chatgql_http_requests_total"
    assert value(samples, http, method="POST", route="/graphql", status="200") == 4


async def test_answers_deltas_model_timings_flushes_and_subscribers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), demo_token_delay_seconds=0.02)
    async with start_api(settings) as api:
        await _answer_and_watch(api)


async def _answer_and_watch(api: ApiServer) -> None:
    conversation = await new_conversation(api)
    before = await scrape(api)
    assert value(before, "chatgql_stream_deltas_total") == 0
    sent = await send(api, conversation, "hello there")
    stream_id = sent["stream"]["id"]
    async with api.ws() as session:
        request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "o": 0})
        events = session.subscribe(request)
        first = await anext(events)
        assert first["streamEvents"]["status"] in ("PENDING", "STREAMING")
        during = await scrape(api)
        assert value(during, "chatgql_subscribers", channel="stream") == 1
        assert value(during, "chatgql_active_answers") == 1
        async for _ in events:
            pass
    await wait_finished(api, stream_id)
    # The end reaches subscribers before the generation's task has finished its cleanup.
    async with asyncio.timeout(10):
        while value(after := await scrape(api), "chatgql_active_answers") != 0:
            await asyncio.sleep(0.01)
    deltas = value(after, "chatgql_stream_deltas_total")
    assert deltas > 0
    assert value(after, "chatgql_broker_events_delivered_total") > 0
    assert value(after, "chatgql_active_answers") == 0
    assert value(after, "chatgql_model_first_token_seconds_count") == 1
    assert value(after, "chatgql_model_tokens_per_second_count") == 1
    assert value(after, "chatgql_model_tokens_per_second_sum") > 0
    assert value(after, "chatgql_flush_seconds_count") >= 1
    assert value(after, "chatgql_broker_reconnects_total") == 0
    assert value(after, "chatgql_subscribers", channel="stream") == 0


async def test_active_answers_while_generating(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), demo_token_delay_seconds=0.05)
    async with start_api(settings) as api:
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "a long one please")
        during = await scrape(api)
        assert value(during, "chatgql_active_answers") == 1
        await api.gql(
            "mutation($s: ID!) { stopStream(id: $s) { status } }", {"s": sent["stream"]["id"]}
        )
        await wait_finished(api, sent["stream"]["id"])
        async with asyncio.timeout(10):
            while value(await scrape(api), "chatgql_active_answers") != 0:
                await asyncio.sleep(0.01)


async def test_upload_bytes(api: ApiServer) -> None:
    body = b"some plain text to attach\n" * 10
    response = await api.http.post(
        "/uploads",
        params={"filename": "notes.txt"},
        content=body,
        headers={"Authorization": f"Bearer {api.token()}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    assert value(await scrape(api), "chatgql_upload_bytes_total") == len(body)


async def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    one = make_settings(tmp_path / "one", sqlite(tmp_path, "one.db"))
    two = make_settings(tmp_path / "two", sqlite(tmp_path, "two.db"))
    async with start_api(one) as a, start_api(two) as b:
        await new_conversation(a)
        await new_conversation(a)
        ops = "chatgql_graphql_operations_total"
        assert value(await scrape(a), ops, type="mutation", field="createConversation") == 2
        assert value(await scrape(b), ops, type="mutation", field="createConversation") == 0


async def test_token_protects_the_endpoint(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), metrics_token="scrape-" + "k" * 20)
    async with start_api(settings) as api:
        assert (await api.http.get("/metrics")).status_code == 401
        wrong = await api.http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        samples = await scrape(api, Authorization="Bearer scrape-" + "k" * 20)
        assert ("chatgql_active_answers", ()) in samples
        assert value(samples, "process_resident_memory_bytes") > 0  # the process's own
        assert value(samples, "python_gc_collections_total", generation="0") >= 0


async def test_metrics_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), metrics=False)
    async with start_api(settings) as api:
        assert (await api.http.get("/metrics")).status_code == 404
        await new_conversation(api)  # operations still run, uncounted
        assert api.services.metrics.operations.collect()[0].samples == []


async def test_scrape_during_load_is_consistent(api: ApiServer) -> None:
    """Scrapes racing with operations never fail and the count only grows."""
    conversation = await new_conversation(api)
    seen: list[float] = []

    async def scraper() -> None:
        for _ in range(20):
            samples = await scrape(api)
            seen.append(
                value(
                    samples, "chatgql_graphql_operations_total", type="query", field="conversation"
                )
            )
            await asyncio.sleep(0)

    async def load() -> None:
        for _ in range(20):
            await api.gql(CONVERSATION, {"c": conversation})

    await asyncio.gather(scraper(), load())
    assert seen == sorted(seen)
    assert (
        value(
            await scrape(api),
            "chatgql_graphql_operations_total",
            type="query",
            field="conversation",
        )
        == 20
    )
