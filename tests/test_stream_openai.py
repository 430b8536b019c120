"""An OpenAI-compatible model end to end: the app, the real `openai` SDK, a local fake server.
Answers, tool calls, errors, resume, stop and retry behave as with any other provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gql_api.providers.config import ProviderConfig
from models.messages import Message
from models.streams import Stream
from tests.conftest import make_settings
from tests.factories import count_rows
from tests.fake_anthropic import Script
from tests.fake_openai import (
    FakeOpenAI,
    drop_connection_after,
    error_midstream,
    http_status,
    text,
    tool_calls,
)
from tests.streaming import new_conversation, rebuild, send, stored_answer, wait_finished, watch
from tests.support import ApiServer, GraphQLErrors, start_api, today

MODEL = "gpt-fake"
KEY_ENV = "CHATGQL_TEST_OPENAI_KEY"
SERVER_KEY = "sk-server-key-0000"


def openai_settings(tmp_path: Path, database_url: str, base_url: str, **overrides: Any) -> Any:
    provider = ProviderConfig(
        name="fakeai",
        kind="openai-compatible",
        base_url=base_url,
        api_key_env=KEY_ENV,
        headers={"X-Title": "chatgql tests"},
        max_retries=0,
        timeout_seconds=10,
        models=[
            {"id": MODEL, "upstream_id": "fake-1", "display_name": "Fake GPT", "input_price": 2},
            {"id": "gpt-4o-mini"},  # priced from the table only for api.openai.com: not here
        ],
    )
    demo = ProviderConfig(name="demo", kind="demo")
    values: dict[str, Any] = {"providers": [provider, demo], "system_prompt": "Be brief."}
    values.update(overrides)
    return make_settings(tmp_path, database_url, **values)


@pytest.fixture
async def gpt(
    tmp_path: Path, database_url: str, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ApiServer]:
    monkeypatch.setenv(KEY_ENV, SERVER_KEY)
    async with start_api(openai_settings(tmp_path, database_url, fake_openai.base_url_v1)) as api:
        yield api


async def test_text_answer_with_history_model_and_usage(
    gpt: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(
        text(["Paris ", "is the ", "capital."], prompt_tokens=11, completion_tokens=5),
        text(["Lyon ", "is second."], prompt_tokens=30, completion_tokens=4),
    )
    conversation = await new_conversation(gpt)
    first = await send(gpt, conversation, "Capital of France?")  # the default: first model
    text_1, end = rebuild(await watch(gpt, stream_id=first["stream"]["id"]))
    assert text_1 == "Paris is the capital." and end["status"] == "COMPLETED"
    assert end["usage"] == {"inputTokens": 11, "outputTokens": 5}
    second = await send(gpt, conversation, "And the second city?")
    rebuild(await watch(gpt, stream_id=second["stream"]["id"]))

    request = fake_openai.requests[-1]
    assert request.body["model"] == "fake-1"  # the upstream name
    assert request.headers["authorization"] == f"Bearer {SERVER_KEY}"
    assert request.headers["x-title"] == "chatgql tests"
    roles = [m["role"] for m in request.body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert request.body["messages"][2]["content"] == "Paris is the capital."
    usage = await gpt.gql(
        "query($f: Date!, $t: Date!) { usage(from: $f, to: $t) { model inputTokens requests } }",
        {"f": today().isoformat(), "t": today().isoformat()},
    )
    assert usage["usage"] == [{"model": MODEL, "inputTokens": 41, "requests": 2}]


async def test_tool_call_is_run_stored_and_streamed(
    gpt: ApiServer, fake_openai: FakeOpenAI
) -> None:
    await gpt.gql('mutation { updatePreferences(input: {toolsEnabled: ["calculator"]}) { id } }')
    fake_openai.enqueue(
        tool_calls(
            [("call_1", "calculator", ['{"expres', 'sion": "6', '*7"}'])], text_parts=["Hm. "]
        ),
        text(["It is ", "42."]),
    )
    conversation = await new_conversation(gpt)
    sent = await send(gpt, conversation, "What is 6*7?")
    streamed, end = rebuild(await watch(gpt, stream_id=sent["stream"]["id"]))
    assert (streamed, end["status"]) == ("Hm. It is 42.", "COMPLETED")
    answer = await stored_answer(gpt, sent["assistantMessage"]["id"])
    assert answer["parts"][1] == {
        "__typename": "ToolCallPart",
        "id": "call_1",
        "name": "calculator",
        "input": {"expression": "6*7"},
        "result": "42",
    }
    follow_up = fake_openai.requests[-1].body["messages"]
    assert follow_up[-2]["tool_calls"][0]["id"] == "call_1"
    assert follow_up[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "42"}


@pytest.mark.parametrize(
    ("script", "code", "partial"),
    [
        (http_status(503), "PROVIDER_OVERLOADED", ""),
        (http_status(429), "PROVIDER_RATE_LIMITED", ""),
        (
            error_midstream(parts=["Half ", "an answer"]),
            "PROVIDER_CONNECTION_LOST",
            "Half an answer",
        ),
        (
            drop_connection_after(3, ["one ", "two ", "three"]),
            "PROVIDER_CONNECTION_LOST",
            "one two ",
        ),
    ],
)
async def test_provider_errors_fail_the_stream_and_retry_keeps_a_version(
    tmp_path: Path,
    database_url: str,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    script: Script,
    code: str,
    partial: str,
) -> None:
    monkeypatch.setenv(KEY_ENV, SERVER_KEY)
    # Automatic continuation off: the error itself ends the answer.
    settings = openai_settings(tmp_path, database_url, fake_openai.base_url_v1, auto_continue=False)
    async with start_api(settings) as gpt:
        await _fail_then_retry(gpt, fake_openai, script, code, partial)


async def test_a_dropped_connection_is_continued_from_the_saved_text(
    gpt: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(error_midstream(parts=["Half ", "an answer"]), text([", and the rest."]))
    conversation = await new_conversation(gpt)
    sent = await send(gpt, conversation, "hello")
    streamed, end = rebuild(await watch(gpt, stream_id=sent["stream"]["id"]))
    assert (streamed, end["status"]) == ("Half an answer, and the rest.", "COMPLETED")
    continued = fake_openai.requests[-1].body["messages"]
    assert continued[-2] == {"role": "assistant", "content": "Half an answer"}
    assert continued[-1]["role"] == "user"


async def _fail_then_retry(
    gpt: ApiServer, fake_openai: FakeOpenAI, script: Script, code: str, partial: str
) -> None:
    fake_openai.enqueue(script)
    conversation = await new_conversation(gpt)
    sent = await send(gpt, conversation, "hello")
    streamed, end = rebuild(await watch(gpt, stream_id=sent["stream"]["id"]))
    assert (end["status"], end["errorCode"], streamed) == ("FAILED", code, partial)
    fake_openai.enqueue(text(["Better ", "now."]))
    retry = "mutation($m: ID!) { retryMessage(id: $m) { stream { id } } }"
    again = await gpt.gql(retry, {"m": sent["assistantMessage"]["id"]})
    text_2, end = rebuild(await watch(gpt, stream_id=again["retryMessage"]["stream"]["id"]))
    assert (text_2, end["status"]) == ("Better now.", "COMPLETED")
    answer = await stored_answer(gpt, sent["assistantMessage"]["id"])
    # The failed answer is kept, as the retried one's earlier sibling.
    assert (answer["content"], answer["status"]) == (partial, "FAILED")
    assert answer["siblings"]["count"] == 2


async def test_resume_from_an_offset_mid_answer(gpt: ApiServer, fake_openai: FakeOpenAI) -> None:
    words = [f"w{i} " for i in range(40)]
    fake_openai.enqueue(text(words, delay=0.02))
    conversation = await new_conversation(gpt)
    sent = await send(gpt, conversation, "count")
    stream_id = sent["stream"]["id"]
    first = await watch_until(gpt, stream_id, count=10)
    have = "".join(e["streamEvents"].get("text", "") for e in first)
    rest, end = rebuild(await watch(gpt, stream_id=stream_id, offset=len(have)), len(have))
    assert have + rest == "".join(words) and end["status"] == "COMPLETED"


async def watch_until(api: ApiServer, stream_id: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events of a subscription from the start; then it goes away."""
    from gql import GraphQLRequest

    from tests.streaming import EVENTS

    events: list[dict[str, Any]] = []
    async with api.ws() as session:
        request = GraphQLRequest(EVENTS, variable_values={"s": stream_id, "m": None, "o": 0})
        async for event in session.subscribe(request):
            events.append(event)
            if len(events) >= count:
                break
    return events


async def test_stop_mid_answer_closes_the_upstream_response(
    gpt: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(text(["tick "] * 500, delay=0.02))
    conversation = await new_conversation(gpt)
    sent = await send(gpt, conversation, "go on")
    await watch_until(gpt, sent["stream"]["id"], count=5)
    stop = "mutation($s: ID!) { stopStream(id: $s) { status length } }"
    stopped = (await gpt.gql(stop, {"s": sent["stream"]["id"]}))["stopStream"]
    assert stopped["status"] == "CANCELLED"
    assert await asyncio.to_thread(fake_openai.requests[0].disconnected.wait, 5)
    answer = await stored_answer(gpt, sent["assistantMessage"]["id"])
    assert answer["status"] == "CANCELLED"
    assert 0 < len(answer["content"]) == stopped["length"] < len("tick ") * 500


MODELS = """{ models { id provider displayName contextWindow maxOutputTokens
  capabilities { tools vision reasoning promptCaching }
  pricing { input output cacheRead cacheWrite } } }"""


async def test_models_lists_the_configured_models(gpt: ApiServer) -> None:
    models = {m["id"]: m for m in (await gpt.gql(MODELS))["models"]}
    assert list(models) == [MODEL, "gpt-4o-mini", "demo"]
    assert models[MODEL] == {
        "id": MODEL,
        "provider": "fakeai",
        "displayName": "Fake GPT",
        "contextWindow": None,
        "maxOutputTokens": gpt.settings.max_output_tokens,
        "capabilities": {
            "tools": True,
            "vision": False,
            "reasoning": False,
            "promptCaching": False,
        },
        "pricing": {"input": 2.0, "output": None, "cacheRead": None, "cacheWrite": None},
    }
    # A local endpoint's model is not priced from the table by its name alone.
    assert models["gpt-4o-mini"]["pricing"]["input"] is None
    assert models["demo"]["pricing"]["input"] == 0.0


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        (
            'mutation($c: ID!) { sendMessage(input: {conversationId: $c, content: "hi",'
            ' model: "gpt-nope"}) { stream { id } } }',
            {},
        ),
        ('mutation { createConversation(input: {model: "gpt-nope"}) { id } }', None),
        ('mutation { updatePreferences(input: {defaultModel: "gpt-nope"}) { id } }', None),
    ],
)
async def test_unknown_model_is_refused_naming_the_valid_ones_and_nothing_is_stored(
    gpt: ApiServer, mutation: str, variables: dict[str, Any] | None
) -> None:
    conversation = await new_conversation(gpt)
    before = await count_rows(gpt, Message), await count_rows(gpt, Stream)
    if variables is not None:
        variables = {"c": conversation}
    with pytest.raises(GraphQLErrors) as caught:
        await gpt.gql(mutation, variables)
    assert caught.value.code == "BAD_USER_INPUT"
    assert "gpt-nope" in str(caught.value) and f"{MODEL}, gpt-4o-mini, demo" in str(caught.value)
    assert (await count_rows(gpt, Message), await count_rows(gpt, Stream)) == before
    conversations = await gpt.gql("{ conversations(first: 10) { edges { node { id } } } }")
    assert len(conversations["conversations"]["edges"]) == 1
    me = await gpt.gql("{ me { preferences { defaultModel } } }")
    assert me["me"]["preferences"]["defaultModel"] is None


async def test_retry_with_an_unknown_model_changes_nothing(
    gpt: ApiServer, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(text(["fine"]))
    conversation = await new_conversation(gpt)
    sent = await send(gpt, conversation, "hi")
    await wait_finished(gpt, sent["stream"]["id"])
    retry = 'mutation($m: ID!) { retryMessage(id: $m, model: "gpt-nope") { stream { id } } }'
    with pytest.raises(GraphQLErrors) as caught:
        await gpt.gql(retry, {"m": sent["assistantMessage"]["id"]})
    assert caught.value.code == "BAD_USER_INPUT"
    answer = await stored_answer(gpt, sent["assistantMessage"]["id"])
    assert (answer["content"], answer["siblings"]["count"]) == ("fine", 1)


async def test_the_demo_model_beside_a_configured_one(gpt: ApiServer) -> None:
    conversation = await new_conversation(gpt)
    data = await gpt.gql(
        'mutation($c: ID!) { sendMessage(input: {conversationId: $c, content: "hi",'
        ' model: "demo"}) { stream { id } } }',
        {"c": conversation},
    )
    done = await wait_finished(gpt, data["sendMessage"]["stream"]["id"])
    assert done["status"] == "COMPLETED"
