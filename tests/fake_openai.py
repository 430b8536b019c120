"""A real local HTTP server that speaks OpenAI's streaming chat completions, scripted per request.

    fake.enqueue(text(["Hel", "lo"]), http_status(429))
    client = AsyncOpenAI(base_url=fake.base_url, api_key="test", max_retries=0)

Each `POST /v1/chat/completions` takes the next script and plays it as `chat.completion.chunk`
server-sent events (`data: {...}` lines, then `data: [DONE]`). The server, the recording of
requests and the disconnect detection are those of tests.fake_anthropic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_anthropic import Event, FakeAnthropic, Script

DONE = "[DONE]"
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}


def _chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> Event:
    data: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "",  # filled with the requested model when served
        "choices": choices,
    }
    if usage is not None:
        data["usage"] = usage
    return ("chunk", data)


def _delta(delta: dict[str, Any], finish: str | None = None) -> Event:
    return _chunk([{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}])


def completion_events(
    parts: list[str],
    *,
    tool_calls: list[tuple[str, str, list[str]]] | None = None,
    finish: str | None = None,
    prompt_tokens: int = 12,
    completion_tokens: int | None = None,
    usage: bool = True,
    cached_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> list[Event]:
    """Text deltas, then tool calls (id, name, argument pieces), the finish, a usage chunk."""
    events = [_delta({"role": "assistant", "content": ""})]
    events += [_delta({"content": part}) for part in parts]
    for index, (call_id, name, pieces) in enumerate(tool_calls or []):
        head = {"index": index, "id": call_id, "type": "function"}
        events.append(
            _delta({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]})
        )
        events += [
            _delta({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in pieces
        ]
    events.append(_delta({}, finish or ("tool_calls" if tool_calls else "stop")))
    if usage:
        output = len(parts) if completion_tokens is None else completion_tokens
        totals: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": output,
            "total_tokens": prompt_tokens + output,
        }
        if cached_tokens is not None:
            totals["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
        if reasoning_tokens is not None:
            totals["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        events.append(_chunk([], totals))
    events.append(("done", {}))
    return events


def text(
    parts: list[str],
    *,
    prompt_tokens: int = 12,
    completion_tokens: int | None = None,
    usage: bool = True,
    delay: float = 0.0,
    cached_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> Script:
    events = completion_events(
        parts,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        usage=usage,
        cached_tokens=cached_tokens,
        reasoning_tokens=reasoning_tokens,
    )
    return Script(events, delay=delay)


def tool_calls(
    calls: list[tuple[str, str, list[str]]],
    *,
    text_parts: list[str] | None = None,
    prompt_tokens: int = 12,
    completion_tokens: int | None = None,
) -> Script:
    return Script(
        completion_events(
            text_parts or [],
            tool_calls=calls,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
    )


def error_midstream(
    message: str = "The server had an error", parts: list[str] | None = None
) -> Script:
    """Some text, then an `error` object on the 200 stream (as OpenAI and OpenRouter send)."""
    events = [_delta({"content": part}) for part in (parts or ["Partial ", "answer"])]
    error = {"error": {"message": message, "type": "server_error", "code": None}}
    return Script([*events, ("error", error)])


def http_status(status: int, message: str | None = None) -> Script:
    return Script(status=status, error_body=error_body(status, message or f"HTTP {status}"))


def error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def drop_connection_after(n_events: int, parts: list[str] | None = None) -> Script:
    script = text(parts if parts is not None else ["one ", "two ", "three ", "four"])
    script.drop_after = n_events
    return script


def cut_short(parts: list[str] | None = None) -> Script:
    """A body that ends cleanly, but before any finish reason: a proxy closing it early."""
    return Script([_delta({"content": p}) for p in (parts or ["one ", "two"])])


class FakeOpenAI(FakeAnthropic):
    PATH = "/v1/chat/completions"

    @property
    def base_url_v1(self) -> str:
        return self.base_url + "/v1"

    def error_body(self, status: int, message: str) -> Any:
        return error_body(status, message)

    def chunk(self, name: str, data: Any, model: str) -> bytes:
        if name == "done":
            return f"data: {DONE}\n\n".encode()
        if name == "chunk":
            data = {**data, "model": model}
        return f"data: {json.dumps(data)}\n\n".encode()


@pytest.fixture(name="fake_openai")
def fake_openai_fixture() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    try:
        yield server
    finally:
        server.close()
