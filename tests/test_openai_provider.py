"""The OpenAI-compatible provider through the real `openai` SDK against a local fake server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai import AsyncOpenAI

from gql_api.errors import (
    PROVIDER_AUTH,
    PROVIDER_BAD_REQUEST,
    PROVIDER_CONNECTION_LOST,
    PROVIDER_ERROR,
    PROVIDER_OVERLOADED,
    PROVIDER_RATE_LIMITED,
)
from gql_api.providers import (
    Finished,
    MediaBlock,
    ModelMessage,
    ModelProvider,
    TextBlock,
    TextDelta,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from gql_api.providers.openai_compat import OpenAICompatibleProvider
from tests.fake_openai import (
    FakeOpenAI,
    cut_short,
    drop_connection_after,
    error_midstream,
    fake_openai_fixture,  # noqa: F401
    http_status,
    text,
    tool_calls,
)
from tests.test_providers import collect, collect_until_error, request, text_of


@contextlib.asynccontextmanager
async def openai_provider(
    fake: FakeOpenAI, timeout: float = 5.0, **options: Any
) -> AsyncIterator[OpenAICompatibleProvider]:
    async with AsyncOpenAI(
        base_url=fake.base_url_v1, api_key="sk-test-secret", max_retries=0, timeout=timeout
    ) as client:
        yield OpenAICompatibleProvider(client, **options)


async def test_text_streams_as_deltas_then_usage_and_finished(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(text(["Hel", "lo", " world"], prompt_tokens=21, completion_tokens=7))
    async with openai_provider(fake_openai) as provider:
        events = await collect(provider.stream(request()))
    assert events == [
        TextDelta("Hel"),
        TextDelta("lo"),
        TextDelta(" world"),
        Usage(input_tokens=21, output_tokens=7),
        Finished("end_turn"),
    ]
    body = fake_openai.requests[0].body
    assert body["model"] == "claude-test"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 256
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello?"}]},
    ]
    assert "tools" not in body
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test-secret"


async def test_usage_can_be_left_out_and_params_dropped(fake_openai: FakeOpenAI) -> None:
    """An endpoint that refuses stream_options (or max_tokens) is configured not to get them."""
    fake_openai.enqueue(text(["ok"], usage=False))
    async with openai_provider(
        fake_openai, include_usage=False, drop_params=["max_tokens"]
    ) as provider:
        events = await collect(provider.stream(request()))
    assert events[-2:] == [Usage(0, 0, estimated=True), Finished("end_turn")]
    body = fake_openai.requests[0].body
    assert "stream_options" not in body and "max_tokens" not in body


async def test_cached_and_reasoning_tokens_are_read(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(
        text(["ok"], prompt_tokens=100, completion_tokens=50, cached_tokens=60, reasoning_tokens=30)
    )
    async with openai_provider(fake_openai) as provider:
        events = await collect(provider.stream(request()))
    assert Usage(100, 50, cache_read_tokens=60, reasoning_tokens=30) in events


async def test_max_completion_tokens_field(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(text(["ok"]))
    async with openai_provider(fake_openai, max_tokens_field="max_completion_tokens") as provider:
        await collect(provider.stream(request()))
    body = fake_openai.requests[0].body
    assert body["max_completion_tokens"] == 256 and "max_tokens" not in body


async def test_tool_call_argument_deltas_are_assembled(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(
        tool_calls(
            [
                ("call_1", "calculator", ['{"expr', 'ession": "2 +', ' 3 * 4"', "}"]),
                ("call_2", "current_time", []),
            ],
            text_parts=["Let me ", "check."],
            prompt_tokens=30,
            completion_tokens=9,
        )
    )
    tools = [ToolSpec("calculator", "Arithmetic", {"type": "object", "properties": {}})]
    async with openai_provider(fake_openai) as provider:
        events = await collect(provider.stream(request(tools=tools)))
    assert events == [
        TextDelta("Let me "),
        TextDelta("check."),
        ToolCall("call_1", "calculator", {"expression": "2 + 3 * 4"}),
        ToolCall("call_2", "current_time", {}),
        Usage(30, 9),
        Finished("tool_use"),
    ]
    assert fake_openai.requests[0].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "calculator",
                "description": "Arithmetic",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]


async def test_malformed_tool_arguments_are_a_provider_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(tool_calls([("call_1", "calculator", ['{"expression": ', "}"])]))
    async with openai_provider(fake_openai) as provider:
        _, error = await collect_until_error(provider.stream(request()))
    assert error.code == PROVIDER_ERROR


async def test_history_with_images_and_tool_turns(fake_openai: FakeOpenAI) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    history = [
        ModelMessage(
            "user",
            [MediaBlock("image/png", png, "cat.png"), TextBlock("What is 6*7? And the cat?")],
        ),
        ModelMessage(
            "assistant",
            [TextBlock("Computing."), ToolUseBlock("call_9", "calculator", {"expression": "6*7"})],
        ),
        ModelMessage("user", [ToolResultBlock("call_9", "42")]),
        ModelMessage("assistant", [TextBlock("")]),  # failed before its first token
        ModelMessage("user", [ToolResultBlock("call_8", "boom", is_error=True)]),
    ]
    fake_openai.enqueue(text(["42."]))
    async with openai_provider(fake_openai) as provider:
        await collect(provider.stream(request(messages=history)))
    messages = fake_openai.requests[0].body["messages"]
    assert messages[1] == {
        "role": "user",
        "content": [
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()},
            },
            {"type": "text", "text": "What is 6*7? And the cat?"},
        ],
    }
    assert messages[2] == {
        "role": "assistant",
        "content": "Computing.",
        "tool_calls": [
            {
                "id": "call_9",
                "type": "function",
                "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
            }
        ],
    }
    assert messages[3] == {"role": "tool", "tool_call_id": "call_9", "content": "42"}
    assert messages[4] == {"role": "tool", "tool_call_id": "call_8", "content": "Error: boom"}
    assert len(messages) == 5


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (400, PROVIDER_BAD_REQUEST, False),
        (401, PROVIDER_AUTH, False),
        (403, PROVIDER_AUTH, False),
        (404, PROVIDER_BAD_REQUEST, False),
        (429, PROVIDER_RATE_LIMITED, True),
        (500, PROVIDER_OVERLOADED, True),
        (503, PROVIDER_OVERLOADED, True),
    ],
)
async def test_http_errors_are_translated(
    fake_openai: FakeOpenAI, status: int, code: str, retryable: bool
) -> None:
    # OpenAI's own 401 text quotes part of the key; none of it may reach the message.
    fake_openai.enqueue(http_status(status, "Incorrect API key provided: sk-test-secret"))
    async with openai_provider(fake_openai) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert events == []
    assert (error.code, error.retryable) == (code, retryable)
    assert "secret" not in error.message and "{" not in error.message


async def test_error_mid_stream_comes_after_the_deltas(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(error_midstream(parts=["Half ", "an ", "answer"]))
    async with openai_provider(fake_openai) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert events == [TextDelta("Half "), TextDelta("an "), TextDelta("answer")]
    assert error.code == PROVIDER_CONNECTION_LOST and error.retryable


async def test_dropped_connection_mid_stream(fake_openai: FakeOpenAI) -> None:
    # the role chunk, then two text chunks; the socket is reset after that
    fake_openai.enqueue(drop_connection_after(3, ["one ", "two ", "three"]))
    async with openai_provider(fake_openai) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert events == [TextDelta("one "), TextDelta("two ")]
    assert error.code == PROVIDER_CONNECTION_LOST and error.retryable


async def test_stream_that_ends_without_a_finish_reason(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(cut_short(["cut ", "short"]))
    async with openai_provider(fake_openai) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert text_of(events) == "cut short"
    assert error.code == PROVIDER_CONNECTION_LOST


async def test_read_timeout_mid_stream(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(text(["slow"], delay=2.0))
    async with openai_provider(fake_openai, timeout=0.3) as provider:
        _, error = await collect_until_error(provider.stream(request()))
    assert error.code == PROVIDER_CONNECTION_LOST


async def test_cancelling_the_consumer_closes_the_request(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(text(["tick "] * 100, delay=0.05))
    async with openai_provider(fake_openai) as provider:
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in provider.stream(request()):
                first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 5)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        record = fake_openai.requests[0]
        assert await asyncio.to_thread(record.disconnected.wait, 2)
    assert time.monotonic() - started < 2


async def test_closing_the_generator_closes_the_request(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(text(["tick "] * 100, delay=0.05))
    async with openai_provider(fake_openai) as provider:
        stream = provider.stream(request())
        assert await anext(stream) == TextDelta("tick ")
        await stream.aclose()  # type: ignore[attr-defined]
        assert await asyncio.to_thread(fake_openai.requests[0].disconnected.wait, 2)


async def test_provider_satisfies_the_protocol(fake_openai: FakeOpenAI) -> None:
    async with openai_provider(fake_openai) as provider:
        typed: ModelProvider = provider
        assert typed.name == "openai-compatible"
