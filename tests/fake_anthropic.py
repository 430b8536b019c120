"""A real local HTTP server that speaks the Anthropic Messages streaming API, scripted per request.

    fake.enqueue(text(["Hel", "lo"]), http_status(529))
    client = AsyncAnthropic(base_url=fake.base_url, api_key="test", max_retries=0)

Each `POST /v1/messages` takes the next script from a FIFO and plays it as server-sent events in
the API's wire format. Every request is recorded (parsed JSON body, headers), with events telling
whether the client went away before the response was complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

Event = tuple[str, dict[str, Any]]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Script:
    """One response: SSE `events` on a 200, or a JSON error body for any other status."""

    events: list[Event] = field(default_factory=list)
    status: int = 200
    error_body: dict[str, Any] | None = None
    delay: float = 0.0  # seconds before each event
    drop_after: int | None = None  # reset the connection after this many events


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    disconnected: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


def message_events(
    blocks: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 12,
    output_tokens: int | None = None,
) -> list[Event]:
    """A whole message; blocks are {"text": [parts]} or {"tool_use": (id, name, json_parts)}."""
    events: list[Event] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": "",  # filled with the requested model when served
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1},
                },
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    pieces = 0
    for index, block in enumerate(blocks):
        if "text" in block:
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": part} for part in block["text"]]
        else:
            tool_id, name, json_parts = block["tool_use"]
            start = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": part} for part in json_parts]
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        for delta in deltas:
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        pieces += len(deltas)
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": pieces if output_tokens is None else output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def text(
    parts: list[str],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 12,
    output_tokens: int | None = None,
    delay: float = 0.0,
) -> Script:
    blocks = [{"text": parts}]
    return Script(
        message_events(
            blocks, stop_reason=stop_reason, input_tokens=input_tokens, output_tokens=output_tokens
        ),
        delay=delay,
    )


def tool_use(
    id: str,
    name: str,
    input_json_parts: list[str],
    *,
    text_parts: list[str] | None = None,
    input_tokens: int = 12,
    output_tokens: int | None = None,
    delay: float = 0.0,
) -> Script:
    """Optional text first (as models often say what they are about to do), then one tool call."""
    blocks: list[dict[str, Any]] = [{"text": text_parts}] if text_parts else []
    blocks.append({"tool_use": (id, name, input_json_parts)})
    return Script(
        message_events(
            blocks, stop_reason="tool_use", input_tokens=input_tokens, output_tokens=output_tokens
        ),
        delay=delay,
    )


def error_midstream(
    type: str = "overloaded_error",
    message: str = "Overloaded",
    *,
    parts: list[str] | None = None,
    delay: float = 0.0,
) -> Script:
    """Some text deltas, then an SSE `error` event on the 200 stream, as the API does."""
    events = message_events([{"text": parts if parts is not None else ["Partial ", "answer"]}])
    # Keep message_start, ping, the block start and its deltas; cut before content_block_stop.
    cut = next(i for i, (name, _) in enumerate(events) if name == "content_block_stop")
    error = {"type": "error", "error": {"type": type, "message": message}}
    return Script([*events[:cut], ("error", error)], delay=delay)


def http_status(status: int, error_type: str | None = None, message: str | None = None) -> Script:
    error_type = error_type or _ERROR_TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": error_type, "message": message or error_type}}
    return Script(status=status, error_body=body)


def drop_connection_after(
    n_events: int, parts: list[str] | None = None, *, delay: float = 0.0
) -> Script:
    """A text answer whose connection is reset after `n_events` events."""
    script = text(parts if parts is not None else ["one ", "two ", "three ", "four"], delay=delay)
    script.drop_after = n_events
    return script


class FakeAnthropic:
    PATH = "/v1/messages"

    def __init__(self) -> None:
        self._scripts: deque[Script] = deque()
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> int:
        return len(self.requests)

    def enqueue(self, *scripts: Script) -> None:
        with self._lock:
            self._scripts.extend(scripts)

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        # Its own thread and loop, so it outlives each test's function-scoped event loop.
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Anthropic server did not start")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", errors="replace")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        record = RecordedRequest(scope["method"], scope["path"], headers, body)
        with self._lock:
            self.requests.append(record)
            script = self._scripts.popleft() if self._scripts else None
        gone = asyncio.Event()
        completed = True
        watcher = asyncio.create_task(_watch_disconnect(receive, gone))
        try:
            if scope["method"] != "POST" or scope["path"] != self.PATH:
                await _send_json(send, 404, self.error_body(404, "not found"))
            elif script is None:
                await _send_json(send, 500, self.error_body(500, "no script queued"))
            elif script.status != 200:
                await _send_json(send, script.status, script.error_body)
            else:
                model = body.get("model", "") if isinstance(body, dict) else ""
                completed = await _play(send, script, gone, lambda n, d: self.chunk(n, d, model))
        finally:
            # After a complete response `receive` reports a disconnect too; that one is normal.
            if gone.is_set() and not completed:
                record.disconnected.set()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            record.finished.set()

    def error_body(self, status: int, message: str) -> Any:
        return http_status(status, message=message).error_body

    def chunk(self, name: str, data: Any, model: str) -> bytes:
        """One event in the wire format."""
        if name == "message_start":
            data = copy.deepcopy(data)
            data["message"]["model"] = model
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def _watch_disconnect(receive: Any, gone: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


async def _send_json(send: Any, status: int, body: Any) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"request-id", b"req_fake"),
        # Lets a client built with retries retry at once instead of backing off for seconds.
        (b"retry-after-ms", b"10"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _play(
    send: Any, script: Script, gone: asyncio.Event, render: Callable[[str, Any], bytes]
) -> bool:
    """Plays the events; False when the response was cut short (dropped, or the client left)."""
    headers = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"request-id", b"req_fake"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for count, (name, data) in enumerate(script.events):
        if script.drop_after is not None and count >= script.drop_after:
            # Returning before the body is complete makes uvicorn close the socket mid-chunk.
            return False
        if script.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), script.delay)
        if gone.is_set():
            return False
        chunk = render(name, data)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return True


# Registered as `fake_anthropic` under another function name, so a test module can import the
# function (`from tests.fake_anthropic import fake_anthropic_fixture`, marked noqa F401) and take
# a `fake_anthropic` argument without ruff reporting a redefinition (F811).
@pytest.fixture(name="fake_anthropic")
def fake_anthropic_fixture() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    server.start()
    try:
        yield server
    finally:
        server.close()
