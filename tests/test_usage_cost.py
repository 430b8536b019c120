"""Usage and cost per user: tokens of each sort apart, cost from the model's prices, estimates
where the provider sends nothing (a stopped answer, an endpoint without a usage chunk)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gql_api.providers.config import ProviderConfig
from tests.conftest import make_settings
from tests.fake_openai import FakeOpenAI, text
from tests.streaming import new_conversation, send, wait_finished
from tests.support import ApiServer, GraphQLErrors, start_api

REPORT = """query($f: DateTime!, $t: DateTime!, $g: UsageGranularity!) {
  usageReport(from: $f, to: $t, granularity: $g) {
    periods { start model usage { inputTokens outputTokens requests } }
    byModel { model usage { inputTokens outputTokens cacheReadTokens cacheWriteTokens
      reasoningTokens costMicros requests estimatedRequests } }
    total { inputTokens outputTokens costMicros requests estimatedRequests }
  } }"""


def priced(name: str, base_url: str, **options: Any) -> ProviderConfig:
    model = {
        "id": f"{name}-model",
        "input_price": "2.5",  # USD per million tokens: micro-dollars per token
        "output_price": "10",
        "cache_read_price": "1.25",
    }
    return ProviderConfig(
        name=name, kind="openai-compatible", base_url=base_url, models=[model], **options
    )


@pytest.fixture
async def metered(
    tmp_path: Path, database_url: str, fake_openai: FakeOpenAI
) -> AsyncIterator[ApiServer]:
    providers = [
        priced("full", fake_openai.base_url_v1),
        priced("bare", fake_openai.base_url_v1, include_usage=False),
        ProviderConfig(name="demo", kind="demo"),
    ]
    async with start_api(make_settings(tmp_path, database_url, providers=providers)) as api:
        yield api


async def report(api: ApiServer, granularity: str = "DAY", user: str = "alice") -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    variables = {
        "f": (now - dt.timedelta(hours=1)).isoformat(),
        "t": (now + dt.timedelta(hours=1)).isoformat(),
        "g": granularity,
    }
    result: dict[str, Any] = (await api.gql(REPORT, variables, user=user))["usageReport"]
    return result


async def answer(api: ApiServer, model: str, prompt: str = "hi") -> dict[str, Any]:
    conversation = await new_conversation(api)
    query = """mutation($c: ID!, $m: String!, $p: String!) {
      sendMessage(input: {conversationId: $c, content: $p, model: $m}) { stream { id } } }"""
    sent = await api.gql(query, {"c": conversation, "m": model, "p": prompt})
    return await wait_finished(api, sent["sendMessage"]["stream"]["id"])


async def settled(api: ApiServer, requests: int) -> dict[str, Any]:
    """The report once `requests` model requests are in (they are written in the background)."""
    async with asyncio.timeout(10):
        while (found := await report(api))["total"]["requests"] < requests:
            await asyncio.sleep(0.02)
    return found


async def test_tokens_apart_and_cost_from_the_prices(
    metered: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        text(
            ["a"], prompt_tokens=1000, completion_tokens=200, cached_tokens=600, reasoning_tokens=50
        ),
        text(["b"], prompt_tokens=100, completion_tokens=10),
    )
    assert (await answer(metered, "full-model"))["status"] == "COMPLETED"
    assert (await answer(metered, "full-model"))["status"] == "COMPLETED"
    found = await settled(metered, 2)
    assert found["byModel"] == [
        {
            "model": "full-model",
            "usage": {
                "inputTokens": 1100,
                "outputTokens": 210,
                "cacheReadTokens": 600,
                "cacheWriteTokens": 0,
                "reasoningTokens": 50,
                # (400 + 100) uncached x 2.5 + 600 cached x 1.25 + 210 x 10
                "costMicros": 500 * 2.5 + 600 * 1.25 + 210 * 10,
                "requests": 2,
                "estimatedRequests": 0,
            },
        }
    ]
    assert found["total"]["costMicros"] == 4100
    (period,) = found["periods"]
    assert dt.datetime.fromisoformat(period["start"]).time() == dt.time(0, 0)
    hourly = await report(metered, "HOUR")
    assert dt.datetime.fromisoformat(hourly["periods"][0]["start"]).minute == 0
    assert hourly["total"] == found["total"]
    nobody = await report(metered, user="bob")
    assert nobody["periods"] == [] and nobody["total"]["requests"] == 0


async def test_an_endpoint_without_usage_is_estimated(
    metered: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(text(["x" * 400], usage=False))
    assert (await answer(metered, "bare-model", prompt="y" * 80))["status"] == "COMPLETED"
    usage = (await settled(metered, 1))["byModel"][0]["usage"]
    assert (usage["outputTokens"], usage["estimatedRequests"]) == (100, 1)
    system = len(metered.settings.system_prompt)
    assert usage["inputTokens"] == -(-(80 + system) // 4)
    assert usage["costMicros"] == round(usage["inputTokens"] * 2.5 + 100 * 10)  # whole micros


async def test_a_stopped_answer_records_an_estimate(
    metered: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(text(["tick "] * 1000, delay=0.01))
    conversation = await new_conversation(metered)
    query = """mutation($c: ID!) { sendMessage(input: {conversationId: $c, content: "go",
      model: "full-model"}) { stream { id } } }"""
    stream_id = (await metered.gql(query, {"c": conversation}))["sendMessage"]["stream"]["id"]
    await asyncio.sleep(0.3)
    stop = "mutation($s: ID!) { stopStream(id: $s) { status length } }"
    stopped = (await metered.gql(stop, {"s": stream_id}))["stopStream"]
    assert stopped["status"] == "CANCELLED" and stopped["length"] > 0
    usage = (await settled(metered, 1))["byModel"][0]["usage"]
    assert usage["estimatedRequests"] == 1
    assert usage["outputTokens"] == -(-stopped["length"] // 4)


async def test_the_demo_model_is_free_but_counted(metered: ApiServer) -> None:
    await answer(metered, "demo")
    usage = (await settled(metered, 1))["byModel"][0]["usage"]
    assert usage["outputTokens"] > 0 and usage["costMicros"] == 0


@pytest.mark.parametrize(
    ("start", "end", "granularity"),
    [
        ("2026-01-02T00:00:00+00:00", "2026-01-01T00:00:00+00:00", "DAY"),
        ("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00", "DAY"),
        ("2025-01-01T00:00:00+00:00", "2026-06-01T00:00:00+00:00", "DAY"),
        ("2026-01-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "HOUR"),
        ("2026-01-01T00:00:00", "2026-01-02T00:00:00+00:00", "DAY"),
    ],
)
async def test_bad_ranges_are_refused(
    metered: ApiServer, start: str, end: str, granularity: str
) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await metered.gql(REPORT, {"f": start, "t": end, "g": granularity})
    assert caught.value.code == "BAD_USER_INPUT"


async def test_usage_of_the_old_daily_query_is_unchanged(
    metered: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(text(["hi"]))
    sent = await send(metered, await new_conversation(metered), "hello")
    await wait_finished(metered, sent["stream"]["id"])
    today = dt.datetime.now(dt.UTC).date().isoformat()
    daily = await metered.gql(
        "query($d: Date!) { usage(from: $d, to: $d) { model requests } }", {"d": today}
    )
    assert daily["usage"] == [{"model": "full-model", "requests": 1}]
