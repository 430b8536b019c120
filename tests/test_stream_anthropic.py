"""The Anthropic path end to end: the app, the real SDK, and a local fake Messages API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gql_api.settings import Settings
from tests.conftest import make_settings
from tests.fake_anthropic import (
    FakeAnthropic,
    drop_connection_after,
    error_midstream,
    http_status,
    text,
    tool_use,
)
from tests.streaming import new_conversation, rebuild, send, stored_answer, watch
from tests.support import ApiServer, start_api, today


@pytest.fixture
async def claude(
    tmp_path: Path, database_url: str, fake_anthropic: FakeAnthropic
) -> AsyncIterator[ApiServer]:
    async with start_api(claude_settings(tmp_path, database_url, fake_anthropic)) as api:
        yield api


def claude_settings(
    tmp_path: Path, database_url: str, fake_anthropic: FakeAnthropic, **overrides: object
) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.base_url,
        anthropic_max_retries=0,
        anthropic_timeout_seconds=10,
        default_model="claude-test-1",
        max_output_tokens=321,
        system_prompt="Be brief.",
        **overrides,
    )


async def test_text_answer_with_history_model_and_usage(
    claude: ApiServer, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        text(["Paris ", "is the ", "capital."], input_tokens=11, output_tokens=5),
        text(["Lyon ", "is second."], input_tokens=30, output_tokens=4),
    )
    conversation = await new_conversation(claude)
    first = await send(claude, conversation, "Capital of France?")
    text_1, end = rebuild(await watch(claude, stream_id=first["stream"]["id"]))
    assert text_1 == "Paris is the capital." and end["status"] == "COMPLETED"
    assert end["usage"] == {"inputTokens": 11, "outputTokens": 5}
    second = await send(claude, conversation, "And the second city?")
    rebuild(await watch(claude, stream_id=second["stream"]["id"]))

    body = fake_anthropic.requests[-1].body
    assert body["model"] == "claude-test-1"
    assert body["max_tokens"] == 321
    assert body["stream"] is True
    system = body["system"] if isinstance(body["system"], str) else body["system"][0]["text"]
    assert system == "Be brief."
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert "Paris is the capital." in str(body["messages"][1]["content"])
    assert "tools" not in body  # no tools enabled for this user

    usage = await claude.gql(
        "query($f: Date!, $t: Date!) { usage(from: $f, to: $t) "
        "{ model inputTokens outputTokens requests } }",
        {"f": today().isoformat(), "t": today().isoformat()},
    )
    assert usage["usage"] == [
        {"model": "claude-test-1", "inputTokens": 41, "outputTokens": 9, "requests": 2}
    ]


async def test_tool_call_is_run_stored_and_streamed(
    claude: ApiServer, fake_anthropic: FakeAnthropic
) -> None:
    await claude.gql('mutation { updatePreferences(input: {toolsEnabled: ["calculator"]}) { id } }')
    fake_anthropic.enqueue(
        tool_use(
            "toolu_1",
            "calculator",
            ['{"expres', 'sion": "6', '*7"}'],
            text_parts=["Let me ", "compute. "],
            input_tokens=20,
            output_tokens=8,
        ),
        text(["It is ", "42."], input_tokens=40, output_tokens=3),
    )
    conversation = await new_conversation(claude)
    sent = await send(claude, conversation, "What is 6*7?")
    events = await watch(claude, stream_id=sent["stream"]["id"])
    streamed, end = rebuild(events)
    assert streamed == "Let me compute. It is 42."
    assert end["usage"] == {"inputTokens": 60, "outputTokens": 11}
    calls = [
        e["streamEvents"]["toolCall"]
        for e in events
        if e["streamEvents"]["__typename"] == "StreamToolCall"
    ]
    snapshot_calls = events[0]["streamEvents"]["toolCalls"]
    seen = {(c["id"], c["result"]) for c in calls + snapshot_calls}
    assert ("toolu_1", "42") in seen

    answer = await stored_answer(claude, sent["assistantMessage"]["id"])
    assert answer["content"] == "Let me compute. It is 42."
    assert answer["parts"] == [
        {"__typename": "TextPart", "text": "Let me compute. "},
        {
            "__typename": "ToolCallPart",
            "id": "toolu_1",
            "name": "calculator",
            "input": {"expression": "6*7"},
            "result": "42",
        },
        {"__typename": "TextPart", "text": "It is 42."},
    ]
    first, second = (r.body for r in fake_anthropic.requests[-2:])
    assert [t["name"] for t in first["tools"]] == ["calculator"]
    assert second["messages"][-2]["role"] == "assistant"
    assert {"type": "tool_use", "id": "toolu_1", "name": "calculator"}.items() <= second[
        "messages"
    ][-2]["content"][-1].items()
    result = second["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1"


@pytest.mark.parametrize(
    ("script", "code", "partial"),
    [
        (http_status(529), "PROVIDER_OVERLOADED", ""),
        (http_status(429), "PROVIDER_RATE_LIMITED", ""),
        (error_midstream(parts=["Half ", "an answer"]), "PROVIDER_OVERLOADED", "Half an answer"),
    ],
)
async def test_provider_errors_fail_the_stream_and_keep_the_text(
    claude: ApiServer,
    fake_anthropic: FakeAnthropic,
    script: object,
    code: str,
    partial: str | None,
) -> None:
    fake_anthropic.enqueue(script)  # type: ignore[arg-type]
    conversation = await new_conversation(claude)
    sent = await send(claude, conversation, "hello")
    streamed, end = rebuild(await watch(claude, stream_id=sent["stream"]["id"]))
    assert end["status"] == "FAILED"
    assert end["errorCode"] == code
    assert end["errorMessage"]
    answer = await stored_answer(claude, sent["assistantMessage"]["id"])
    assert answer["status"] == "FAILED" and answer["errorCode"] == code
    assert answer["content"] == streamed
    if partial is not None:
        assert streamed == partial
    # Retry after the failure completes the answer.
    fake_anthropic.enqueue(text(["Better ", "now."]))
    retry = "mutation($m: ID!) { retryMessage(id: $m) { stream { id } } }"
    stream_id = (await claude.gql(retry, {"m": sent["assistantMessage"]["id"]}))["retryMessage"][
        "stream"
    ]["id"]
    again, end = rebuild(await watch(claude, stream_id=stream_id))
    assert (again, end["status"]) == ("Better now.", "COMPLETED")


async def test_a_dropped_connection_is_continued_with_an_assistant_prefill(
    claude: ApiServer, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        drop_connection_after(6, ["one ", "two ", "three ", "four"]), text([" four", " five."])
    )
    sent = await send(claude, await new_conversation(claude), "count")
    streamed, end = rebuild(await watch(claude, stream_id=sent["stream"]["id"]))
    assert end["status"] == "COMPLETED"
    assert streamed.endswith("four five.") and "  " not in streamed
    delivered = streamed[: -len("four five.")]
    assert delivered.strip(), "the drop came before any text: nothing to continue from"
    # The model was asked to go on from the saved text, without its trailing space.
    body = fake_anthropic.requests[-1].body
    assert body["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": delivered.rstrip()}],
    }
    assert (await stored_answer(claude, sent["assistantMessage"]["id"]))["content"] == streamed


async def test_a_dropped_connection_fails_the_stream_when_continuing_is_off(
    tmp_path: Path, database_url: str, fake_anthropic: FakeAnthropic
) -> None:
    settings = claude_settings(tmp_path, database_url, fake_anthropic, auto_continue=False)
    async with start_api(settings) as claude:
        fake_anthropic.enqueue(drop_connection_after(6, ["one ", "two ", "three ", "four"]))
        sent = await send(claude, await new_conversation(claude), "hello")
        streamed, end = rebuild(await watch(claude, stream_id=sent["stream"]["id"]))
        assert (end["status"], end["errorCode"]) == ("FAILED", "PROVIDER_CONNECTION_LOST")
        answer = await stored_answer(claude, sent["assistantMessage"]["id"])
        assert answer["content"] == streamed
