"""Structured logs: one line per request (per operation on websockets) with its request id,
operation, user, duration and error codes; never a token or the text of a message."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gql_api.logs import OWN_LOGGERS, JsonFormatter, TextFormatter, configure
from tests.conftest import make_settings
from tests.processes import Node, node_env, token_for
from tests.servers import free_port, spawn
from tests.streaming import EVENTS, new_conversation, send, wait_finished
from tests.support import start_api, subscribe_all

SECRET_TEXT = "the-owl-flies-at-midnight-" + uuid.uuid4().hex
FORGED = 'bad id" level=error'
# The test's own clients log what they send (gql logs its connection_init at DEBUG).
CLIENT_LOGGERS = ("gql", "httpx", "httpcore", "websockets.client")
CONVERSATION = "query Look($c: ID!) { conversation(id: $c) { id } }"


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]


@pytest.fixture
def debug_logs() -> Iterator[None]:
    """Logging as `chatgql serve` sets it up with CHATGQL_LOG_LEVEL=debug, then as it was."""
    root = logging.getLogger()
    saved = [(name, logging.getLogger(name).level) for name in ("", *OWN_LOGGERS)]
    handlers = list(root.handlers)
    configure("json", "debug")
    try:
        yield
    finally:
        root.handlers[:] = handlers
        for name, level in saved:
            logging.getLogger(name).setLevel(level)


async def test_one_line_per_operation_and_nothing_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, debug_logs: None
) -> None:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}")
    async with start_api(settings) as api:
        token = api.token()
        user_id = (await api.gql("query { me { id } }"))["me"]["id"]
        conversation = await new_conversation(api)
        sent = await send(api, conversation, SECRET_TEXT)
        stream_id = sent["stream"]["id"]
        async with api.ws() as session:
            await subscribe_all(session, EVENTS, {"s": stream_id, "o": 0})
            await subscribe_all(session, EVENTS, {"s": stream_id, "o": 0})
        await wait_finished(api, stream_id)
        missing = await api.http.post(
            "/graphql",
            json={"query": CONVERSATION, "variables": {"c": uuid.uuid4().hex}},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "trace-me-42"},
        )
        assert missing.status_code == 200
        assert missing.headers["x-request-id"] == "trace-me-42"
        given = await api.http.get("/health", headers={"X-Request-ID": FORGED})
        generated = given.headers["x-request-id"]
        assert len(generated) == 32 and generated != FORGED

    access = lines(caplog, "chatgql.access")
    failed = [line for line in access if line["request_id"] == "trace-me-42"]
    assert len(failed) == 1, access
    line = failed[0]
    assert line["operation"] == "Look"
    assert (line["type"], line["field"]) == ("query", "conversation")
    assert line["user"] == user_id
    assert line["errors"] == ["NOT_FOUND"]
    assert line["status"] == 200
    assert line["route"] == "/graphql"
    assert line["duration_ms"] >= 0
    sent_line = [line for line in access if line.get("field") == "sendMessage"]
    assert len(sent_line) == 1 and sent_line[0]["errors"] == []
    # the websocket's subscription has its own line (no HTTP request around it)
    ws_ops = [line for line in lines(caplog, "chatgql.operation") if line["type"] == "subscription"]
    assert [line["field"] for line in ws_ops] == ["streamEvents", "streamEvents"]
    assert ws_ops[0]["user"] == user_id and ws_ops[0]["errors"] == []
    # both operations of the connection carry its id
    assert ws_ops[0]["request_id"] == ws_ops[1]["request_id"]
    assert [line["request_id"] for line in access].count(generated) == 1

    text, json_formatter = TextFormatter(), JsonFormatter()
    for record in caplog.records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue
        for formatted in (text.format(record), json_formatter.format(record)):
            assert token not in formatted, record.name
            assert SECRET_TEXT not in formatted, record.name
            assert FORGED not in formatted


def test_text_and_json_formats() -> None:
    record = logging.LogRecord(
        "chatgql.access", logging.INFO, __file__, 1, "POST %s", ("/x",), None
    )
    record.fields = {"request_id": "r1", "errors": ["NOT_FOUND", "CONFLICT"], "user": None}
    assert json.loads(JsonFormatter().format(record)) == {
        "time": json.loads(JsonFormatter().format(record))["time"],
        "level": "info",
        "logger": "chatgql.access",
        "message": "POST /x",
        "request_id": "r1",
        "errors": ["NOT_FOUND", "CONFLICT"],
        "user": None,
    }
    assert TextFormatter().format(record) == (
        "INFO chatgql.access: POST /x request_id=r1 errors=NOT_FOUND,CONFLICT user=-"
    )


def test_configure_sets_the_root_format_and_level(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = [(name, logging.getLogger(name).level) for name in ("", *OWN_LOGGERS)]
    handlers = list(root.handlers)
    try:
        configure("json", "warning")
        logging.getLogger("chatgql.test").info("not shown")
        logging.getLogger("uvicorn.error").warning("shown %s", 1)
        configure("json", "debug")  # replaces its handler: each line once
        logging.getLogger("gql_api.streams").debug("ours at debug")
        logging.getLogger("aiosqlite").debug("a library's debug stays out")
        err = capsys.readouterr().err.strip().splitlines()
        assert [json.loads(line)["message"] for line in err] == ["shown 1", "ours at debug"]
    finally:
        root.handlers[:] = handlers
        for name, level in saved:
            logging.getLogger(name).setLevel(level)


def test_chatgql_serve_writes_json_lines_and_no_plain_access_log(tmp_path: Path) -> None:
    """The CLI's wiring: every line of uvicorn's and chatgql's logs in JSON, chatgql's access
    line (with the error code) instead of uvicorn's bare "POST /graphql 200"."""
    env = node_env(
        f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}",
        "memory://",
        tmp_path / "var",
        CHATGQL_LOG_FORMAT="json",
        CHATGQL_LOG_LEVEL="info",
    )
    node = Node("json", env, tmp_path)
    port = free_port()
    log_path = tmp_path / "serve.log"
    args = [sys.executable, "-m", "gql_api.cli", "serve", "--host", "127.0.0.1"]
    node.proc = spawn([*args, "--port", str(port)], log_path, env=env, cwd=tmp_path)
    node.port = port
    try:
        deadline = time.monotonic() + 60
        while True:
            assert node.running, log_path.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{node.url}/health", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        missing = httpx.post(
            f"{node.url}/graphql",
            json={"query": CONVERSATION, "variables": {"c": uuid.uuid4().hex}},
            headers={"Authorization": f"Bearer {token_for('json-user')}", "X-Request-ID": "cli-1"},
        )
        assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    finally:
        node.stop()
    output = log_path.read_text().splitlines()
    # stdout's banner and development token are no log lines; everything else is JSON
    banner = ("chatgql: ", "development ", "send ", "eyJ")
    records = [json.loads(line) for line in output if line.strip() and not line.startswith(banner)]
    access = [r for r in records if r["logger"] == "chatgql.access" and r["request_id"] == "cli-1"]
    assert len(access) == 1 and access[0]["errors"] == ["NOT_FOUND"]
    assert not [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r["logger"] == "uvicorn.error" for r in records)  # uvicorn's own, as JSON
