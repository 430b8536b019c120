"""The model boundary: Anthropic through the real SDK, the demo model, the built-in tools."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from anthropic import AsyncAnthropic

from gql_api.errors import (
    PROVIDER_AUTH,
    PROVIDER_BAD_REQUEST,
    PROVIDER_CONNECTION_LOST,
    PROVIDER_ERROR,
    PROVIDER_OVERLOADED,
    PROVIDER_RATE_LIMITED,
    ProviderError,
)
from gql_api.providers import (
    Finished,
    MediaBlock,
    ModelMessage,
    ModelProvider,
    ModelRequest,
    ProviderEvent,
    TextBlock,
    TextDelta,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from gql_api.providers.anthropic import AnthropicProvider, make_anthropic_client
from gql_api.providers.demo import DemoProvider
from gql_api.tools import ToolRegistry
from tests.fake_anthropic import (
    FakeAnthropic,
    Script,
    drop_connection_after,
    error_midstream,
    fake_anthropic_fixture,  # noqa: F401
    http_status,
    text,
    tool_use,
)

MODEL = "claude-test"


def request(user_text: str = "Hello?", **overrides: object) -> ModelRequest:
    fields: dict[str, object] = {
        "model": MODEL,
        "system": "Be brief.",
        "messages": [ModelMessage("user", [TextBlock(user_text)])],
        "max_tokens": 256,
        "tools": [],
    }
    fields.update(overrides)
    return ModelRequest(**fields)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def anthropic_provider(
    fake: FakeAnthropic, timeout: float = 5.0
) -> AsyncIterator[AnthropicProvider]:
    async with AsyncAnthropic(
        base_url=fake.base_url, api_key="test", max_retries=0, timeout=timeout
    ) as client:
        yield AnthropicProvider(client)


async def collect(stream: AsyncIterator[ProviderEvent]) -> list[ProviderEvent]:
    return [event async for event in stream]


async def collect_until_error(
    stream: AsyncIterator[ProviderEvent],
) -> tuple[list[ProviderEvent], ProviderError]:
    events: list[ProviderEvent] = []
    with pytest.raises(ProviderError) as caught:
        async for event in stream:
            events.append(event)
    return events, caught.value


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# --- Anthropic through the real SDK -------------------------------------------------------------


async def test_text_streams_as_deltas_then_usage_and_finished(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.enqueue(text(["Hel", "lo", " world"], input_tokens=21, output_tokens=7))
    async with anthropic_provider(fake_anthropic) as provider:
        events = await collect(provider.stream(request()))
    assert events == [
        TextDelta("Hel"),
        TextDelta("lo"),
        TextDelta(" world"),
        Usage(input_tokens=21, output_tokens=7),
        Finished("end_turn"),
    ]
    assert fake_anthropic.calls == 1


async def test_prompt_cache_tokens_are_counted_apart(fake_anthropic: FakeAnthropic) -> None:
    script = text(["Hi"], input_tokens=10, output_tokens=3)
    start = script.events[0][1]["message"]["usage"]
    start.update(cache_read_input_tokens=200, cache_creation_input_tokens=50)
    fake_anthropic.enqueue(script)
    async with anthropic_provider(fake_anthropic) as provider:
        events = await collect(provider.stream(request()))
    assert Usage(260, 3, cache_read_tokens=200, cache_write_tokens=50) in events


async def test_tool_use_input_json_is_assembled_into_one_call(
    fake_anthropic: FakeAnthropic,
) -> None:
    parts = ['{"expr', 'ession": "2 +', ' 3 * 4"', "}"]
    fake_anthropic.enqueue(
        tool_use("toolu_01", "calculator", parts, text_parts=["Let me ", "check."])
    )
    async with anthropic_provider(fake_anthropic) as provider:
        events = await collect(provider.stream(request()))
    assert events == [
        TextDelta("Let me "),
        TextDelta("check."),
        ToolCall("toolu_01", "calculator", {"expression": "2 + 3 * 4"}),
        Usage(input_tokens=12, output_tokens=6),
        Finished("tool_use"),
    ]


async def test_tool_use_without_input_gives_empty_dict(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(tool_use("toolu_02", "current_time", []))
    async with anthropic_provider(fake_anthropic) as provider:
        events = await collect(provider.stream(request()))
    assert ToolCall("toolu_02", "current_time", {}) in events


async def test_malformed_tool_input_is_a_provider_error(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(tool_use("toolu_03", "calculator", ['{"expression": ', "}"]))
    async with anthropic_provider(fake_anthropic) as provider:
        _, error = await collect_until_error(provider.stream(request()))
    assert error.code == PROVIDER_ERROR


async def test_history_is_translated_to_the_api_shape(fake_anthropic: FakeAnthropic) -> None:
    png, pdf = b"\x89PNG\r\n\x1a\nfake", b"%PDF-1.7 fake"
    history = [
        ModelMessage(
            "user",
            [
                TextBlock("What is in these?"),
                MediaBlock("image/png", png, "cat.png"),
                MediaBlock("application/pdf", pdf, "report.pdf"),
                MediaBlock("text/plain", b"line one\nline two", "notes.txt"),
            ],
        ),
        ModelMessage(
            "assistant",
            [TextBlock(""), ToolUseBlock("toolu_9", "calculator", {"expression": "1+1"})],
        ),
        ModelMessage("user", [ToolResultBlock("toolu_9", "Division by zero.", is_error=True)]),
        ModelMessage("assistant", [TextBlock("")]),  # a failed answer: nothing to send
        ModelMessage("user", [TextBlock("And now?")]),
    ]
    tools = ToolRegistry().specs(["calculator"])
    fake_anthropic.enqueue(text(["ok"]))
    async with anthropic_provider(fake_anthropic) as provider:
        await collect(provider.stream(request(messages=history, tools=tools, max_tokens=321)))

    sent = fake_anthropic.requests[0]
    assert sent.method == "POST" and sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer test"  # how SDK 2.x sends api_key
    assert "anthropic-version" in sent.headers
    body = sent.body
    assert body["model"] == MODEL
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 321
    assert body["stream"] is True
    assert body["tools"] == [
        {
            "name": "calculator",
            "description": tools[0].description,
            "input_schema": tools[0].input_schema,
        }
    ]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these?"},
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": base64.b64encode(png).decode(),
                    },
                },
                {
                    "type": "document",
                    "source": {
                        "type": "base64",
                        "media_type": "application/pdf",
                        "data": base64.b64encode(pdf).decode(),
                    },
                    "title": "report.pdf",
                },
                {"type": "text", "text": '<file name="notes.txt">\nline one\nline two\n</file>'},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_9",
                    "name": "calculator",
                    "input": {"expression": "1+1"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_9",
                    "content": "Division by zero.",
                    "is_error": True,
                }
            ],
        },
        {"role": "user", "content": [{"type": "text", "text": "And now?"}]},
    ]


async def test_no_tools_means_no_tools_key(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text(["ok"]))
    async with anthropic_provider(fake_anthropic) as provider:
        await collect(provider.stream(request()))
    assert "tools" not in fake_anthropic.requests[0].body


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (529, PROVIDER_OVERLOADED, True),
        (500, PROVIDER_OVERLOADED, True),
        (429, PROVIDER_RATE_LIMITED, True),
        (400, PROVIDER_BAD_REQUEST, False),
        (401, PROVIDER_AUTH, False),
        (403, PROVIDER_AUTH, False),
        (404, PROVIDER_ERROR, False),
    ],
)
async def test_http_errors_are_translated(
    fake_anthropic: FakeAnthropic, status: int, code: str, retryable: bool
) -> None:
    fake_anthropic.enqueue(http_status(status))
    async with anthropic_provider(fake_anthropic) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert events == []
    assert (error.code, error.retryable) == (code, retryable)
    assert "test" not in error.message  # the API key never leaks into a message
    assert "{" not in error.message  # no raw response bodies


async def test_bad_request_keeps_the_api_explanation(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(http_status(400, message="max_tokens: must be at most 64000"))
    async with anthropic_provider(fake_anthropic) as provider:
        _, error = await collect_until_error(provider.stream(request()))
    assert (
        error.message
        == "The model provider rejected the request: max_tokens: must be at most 64000"
    )


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        ("overloaded_error", PROVIDER_OVERLOADED),
        ("rate_limit_error", PROVIDER_RATE_LIMITED),
        ("api_error", PROVIDER_CONNECTION_LOST),
    ],
)
async def test_error_event_mid_stream_comes_after_the_deltas(
    fake_anthropic: FakeAnthropic, error_type: str, code: str
) -> None:
    fake_anthropic.enqueue(error_midstream(error_type, parts=["Half ", "an ", "answer"]))
    async with anthropic_provider(fake_anthropic) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert events == [TextDelta("Half "), TextDelta("an "), TextDelta("answer")]
    assert error.code == code and error.retryable


async def test_dropped_connection_mid_stream(fake_anthropic: FakeAnthropic) -> None:
    # message_start, ping, content_block_start, then two deltas; the socket is reset after that.
    fake_anthropic.enqueue(drop_connection_after(5, ["one ", "two ", "three"]))
    async with anthropic_provider(fake_anthropic) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert events == [TextDelta("one "), TextDelta("two ")]
    assert error.code == PROVIDER_CONNECTION_LOST and error.retryable


async def test_stream_that_ends_without_message_stop(fake_anthropic: FakeAnthropic) -> None:
    events_without_end = text(["cut ", "short"]).events[:-3]  # no block stop, delta or stop
    fake_anthropic.enqueue(Script(events_without_end))
    async with anthropic_provider(fake_anthropic) as provider:
        events, error = await collect_until_error(provider.stream(request()))
    assert text_of(events) == "cut short"
    assert error.code == PROVIDER_CONNECTION_LOST


async def test_read_timeout_mid_stream(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text(["slow"], delay=2.0))
    async with anthropic_provider(fake_anthropic, timeout=0.3) as provider:
        _, error = await collect_until_error(provider.stream(request()))
    assert error.code == PROVIDER_CONNECTION_LOST


async def test_unreachable_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens
    async with AsyncAnthropic(
        base_url=f"http://127.0.0.1:{port}", api_key="test", max_retries=0, timeout=2
    ) as client:
        _, error = await collect_until_error(AnthropicProvider(client).stream(request()))
    assert error.code == PROVIDER_CONNECTION_LOST


async def test_cancelling_the_consumer_closes_the_request(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text(["tick "] * 100, delay=0.05))  # would take 5 s
    first = asyncio.Event()
    async with anthropic_provider(fake_anthropic) as provider:

        async def consume() -> None:
            async for _ in provider.stream(request()):
                first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 5)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        record = fake_anthropic.requests[0]
        assert await asyncio.to_thread(record.disconnected.wait, 2)
    assert time.monotonic() - started < 2
    assert record.finished.is_set() or await asyncio.to_thread(record.finished.wait, 2)


async def test_closing_the_generator_closes_the_request(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text(["tick "] * 100, delay=0.05))
    async with anthropic_provider(fake_anthropic) as provider:
        stream = provider.stream(request())
        assert await anext(stream) == TextDelta("tick ")
        await stream.aclose()  # type: ignore[attr-defined]
        assert await asyncio.to_thread(fake_anthropic.requests[0].disconnected.wait, 2)


async def test_make_anthropic_client_retries_the_opening_request(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.enqueue(http_status(529), text(["fine"]))
    async with make_anthropic_client("test", fake_anthropic.base_url, timeout=5) as client:
        events = await collect(AnthropicProvider(client).stream(request()))
    assert text_of(events) == "fine"
    assert fake_anthropic.calls == 2


async def test_providers_satisfy_the_protocol() -> None:
    # Checked by mypy; at run time it only shows that the names are set.
    async with AsyncAnthropic(api_key="x") as client:
        providers: list[ModelProvider] = [DemoProvider(0), AnthropicProvider(client)]
        assert [p.name for p in providers] == ["demo", "anthropic"]


# --- Demo model ---------------------------------------------------------------------------------


async def demo(user_text: str, **overrides: object) -> list[ProviderEvent]:
    return await collect(DemoProvider(token_delay=0).stream(request(user_text, **overrides)))


async def test_demo_is_deterministic_and_refers_to_the_question() -> None:
    first = await demo("How should I water tomatoes?")
    assert first == await demo("How should I water tomatoes?")
    assert text_of(first) != text_of(await demo("How should I prune roses?"))
    assert "How should I water tomatoes" in text_of(first)
    assert isinstance(first[-2], Usage) and first[-1] == Finished("end_turn")
    assert first[-2].output_tokens == len(first) - 2


@pytest.mark.parametrize("seed", range(20))
async def test_demo_answer_length(seed: int) -> None:
    words = len(text_of(await demo(f"question number {seed}")).split())
    assert 60 <= words <= 200


async def test_demo_words_marker_gives_exactly_n_pieces() -> None:
    for n in (0, 1, 7, 450):
        events = await demo(f"[demo:words={n}] Tell me a story")
        assert sum(isinstance(e, TextDelta) for e in events) == n
    assert "[demo" not in text_of(await demo("[demo:words=30] Tell me a story"))


async def test_demo_long_marker() -> None:
    assert len(text_of(await demo("[demo:long] Explain everything")).split()) >= 1800


async def test_demo_fail_marker_raises_after_a_few_deltas() -> None:
    events, error = await collect_until_error(
        DemoProvider(token_delay=0).stream(request("Hi [demo:fail]"))
    )
    assert len(events) == 3 and all(isinstance(e, TextDelta) for e in events)
    assert error.code == PROVIDER_OVERLOADED and error.retryable
    # Even an answer shorter than that fails, after all of its deltas.
    events, error = await collect_until_error(
        DemoProvider(token_delay=0).stream(request("[demo:words=1] [demo:fail]"))
    )
    assert len(events) == 1 and error.code == PROVIDER_OVERLOADED


async def test_demo_uses_the_calculator_and_answers_from_the_result() -> None:
    registry = ToolRegistry()
    tools = registry.specs(None)
    first = await demo("Please calculate 2+3*4 for me.", tools=tools)
    calls = [e for e in first if isinstance(e, ToolCall)]
    assert [(c.name, c.input) for c in calls] == [("calculator", {"expression": "2+3*4"})]
    assert first[-1] == Finished("tool_use")

    outcome = await registry.run(calls[0].name, calls[0].input)
    history = [
        ModelMessage("user", [TextBlock("Please calculate 2+3*4 for me.")]),
        ModelMessage(
            "assistant",
            [TextBlock(text_of(first)), ToolUseBlock(calls[0].id, calls[0].name, calls[0].input)],
        ),
        ModelMessage("user", [ToolResultBlock(calls[0].id, outcome.content, outcome.is_error)]),
    ]
    second = await collect(DemoProvider(0).stream(request(messages=history, tools=tools)))
    assert "**14**" in text_of(second)
    assert not any(isinstance(e, ToolCall) for e in second)
    assert second[-1] == Finished("end_turn")


async def test_demo_asks_for_the_time_only_when_the_tool_is_offered() -> None:
    with_tools = await demo("What time is it in UTC?", tools=ToolRegistry().specs())
    assert [e.name for e in with_tools if isinstance(e, ToolCall)] == ["current_time"]
    without = await demo("What time is it in UTC?")
    assert not any(isinstance(e, ToolCall) for e in without)
    assert without[-1] == Finished("end_turn")


async def test_demo_reports_a_tool_error() -> None:
    history = [
        ModelMessage("user", [TextBlock("calculate 1/0")]),
        ModelMessage("assistant", [ToolUseBlock("toolu_x", "calculator", {"expression": "1/0"})]),
        ModelMessage("user", [ToolResultBlock("toolu_x", "Division by zero.", is_error=True)]),
    ]
    events = await collect(DemoProvider(0).stream(request(messages=history)))
    assert "Division by zero." in text_of(events)


async def test_demo_stream_is_cancellable() -> None:
    stream = DemoProvider(token_delay=10).stream(request("Hello"))
    task = asyncio.create_task(collect(stream))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- Built-in tools -----------------------------------------------------------------------------


def test_registry_specs() -> None:
    registry = ToolRegistry()
    assert [s.name for s in registry.specs(None)] == ["current_time", "calculator"]
    assert [s.name for s in registry.specs(["calculator", "nope"])] == ["calculator"]
    assert registry.specs([]) == []
    assert all(
        isinstance(s, ToolSpec) and s.input_schema["type"] == "object" for s in registry.specs()
    )


@pytest.mark.parametrize(
    ("expression", "result"),
    [("2+3*4", "14"), ("(2 + 3) * 4", "20"), ("7/2", "3.5"), ("6/3", "2"), ("2**10", "1024"),
     ("-7 % 3", "2"), ("1.5 * -2", "-3")],
)  # fmt: skip
async def test_calculator(expression: str, result: str) -> None:
    outcome = await ToolRegistry().run("calculator", {"expression": expression})
    assert (outcome.content, outcome.is_error) == (result, False)


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "x + 1", "abs(-1)", "(1).real", "'a' * 3", "[1, 2]",
     "1 if 1 else 2", "True + 1", "1j * 2", "2 ** 99999", "9 ** 9 ** 9", "1e308 * 10", "lambda: 1",
     "1 +", "", "1" * 300],
)  # fmt: skip
async def test_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    outcome = await ToolRegistry().run("calculator", {"expression": expression})
    assert outcome.is_error


async def test_calculator_division_by_zero_is_an_error_outcome() -> None:
    outcome = await ToolRegistry().run("calculator", {"expression": "1 / (2 - 2)"})
    assert outcome.is_error and "zero" in outcome.content


async def test_calculator_needs_a_string_expression() -> None:
    assert (await ToolRegistry().run("calculator", {"expression": 5})).is_error
    assert (await ToolRegistry().run("calculator", {})).is_error


async def test_current_time_is_utc_now() -> None:
    outcome = await ToolRegistry().run("current_time", {})
    stamp = datetime.fromisoformat(outcome.content)
    assert not outcome.is_error and stamp.utcoffset() is not None
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 5


async def test_unknown_tool_is_an_error_outcome() -> None:
    outcome = await ToolRegistry().run("rm_rf", {})
    assert outcome.is_error and "rm_rf" in outcome.content
