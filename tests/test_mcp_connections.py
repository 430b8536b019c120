"""MCP connections through the real SDK, against real FastMCP servers over stdio and HTTP."""

from __future__ import annotations

import asyncio
import socket

import pytest

from gql_api.tools import ToolRegistry
from gql_api.tools.mcp_client import ConnectionLimits, McpPool, McpUnavailable
from gql_api.tools.mcp_config import McpServerConfig
from gql_api.tools.registry import exposed_name
from tests.mcp_support import http_server, running_http_server, stdio_server

pytestmark = pytest.mark.asyncio
USER = "user-1"


def registry(*servers: McpServerConfig, **options: object) -> ToolRegistry:
    limits = ConnectionLimits(
        connect_timeout=float(options.pop("connect_timeout", 60.0)),  # type: ignore[arg-type]
        idle_seconds=float(options.pop("idle_seconds", 300.0)),  # type: ignore[arg-type]
        backoff_initial=float(options.pop("backoff", 0.2)),  # type: ignore[arg-type]
        ping_interval=0.5,
    )
    return ToolRegistry(servers=list(servers), pool=McpPool(limits), **options)  # type: ignore[arg-type]


async def test_stdio_server_tools_answers_errors_images_structured_and_caps() -> None:
    server = stdio_server(tools=None)
    tools = registry(server, max_result_chars=500)
    try:
        toolset = await tools.toolset(USER, ["local"])
        names = {spec.name for spec in toolset.specs}
        assert {"local__echo", "local__slow", "local__picture", "local__add"} <= names
        echo = await toolset.run("local__echo", {"text": "hi"})
        assert (echo.content, echo.is_error) == ("echo: hi", False)
        failed = await toolset.run("local__fail", {})
        assert failed.is_error and "always fails" in failed.content
        picture = await toolset.run("local__picture", {})
        assert picture.images and picture.images[0]["media_type"] == "image/png"
        added = await toolset.run("local__add", {"a": 2, "b": 3})
        assert added.structured == {"result": {"sum": 5}} or added.structured == {"sum": 5}
        big = await toolset.run("local__big", {"chars": 5000})
        assert big.truncated and len(big.content) <= 500 and "cut at 500" in big.content
        # One connection served all of it.
        assert tools.connection(USER, server).connects == 1
    finally:
        await tools.close()


async def test_schema_invalid_arguments_never_reach_the_server() -> None:
    tools = registry(stdio_server())
    try:
        toolset = await tools.toolset(USER, ["local"])
        outcome = await toolset.run("local__echo", {"text": 42})
        assert outcome.is_error and "schema" in outcome.content and "text" in outcome.content
        missing = await toolset.run("local__echo", {})
        assert missing.is_error and "'text' is a required property" in missing.content
        unknown = await toolset.run("local__nope", {})
        assert unknown.is_error and "no tool named" in unknown.content
    finally:
        await tools.close()


async def test_http_server_lists_two_hundred_tools() -> None:
    async with running_http_server(many=True) as server:
        tools = registry(http_server(server.url))
        try:
            toolset = await tools.toolset(USER, ["remote"])
            numbered = [s.name for s in toolset.specs if s.name.startswith("remote__t")]
            assert len(numbered) == 200
            assert (await toolset.run("remote__t199", {})).content == "tool 199"
        finally:
            await tools.close()


async def test_offered_tools_and_never_policy_filter_what_the_model_sees() -> None:
    server = stdio_server(tools=["echo", "slow"], tool_approval={"slow": "never"})
    tools = registry(server)
    try:
        toolset = await tools.toolset(USER, ["local"])
        assert [s.name for s in toolset.specs] == ["local__echo"]
        assert (await toolset.run("local__slow", {"seconds": 0})).is_error
    finally:
        await tools.close()


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_cancelling_a_call_cancels_only_that_call(transport: str) -> None:
    async with running_http_server() as http:
        server = stdio_server() if transport == "stdio" else http_server(http.url)
        tools = registry(server)
        try:
            toolset = await tools.toolset(USER, [server.name])
            for _ in range(3):
                slow = asyncio.create_task(toolset.run(f"{server.name}__slow", {"seconds": 30}))
                other = asyncio.create_task(toolset.run(f"{server.name}__slow", {"seconds": 0.3}))
                await asyncio.sleep(0.2)
                slow.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await slow
                assert (await other).content == "slept 0.3"  # the other call went on
                echo = await toolset.run(f"{server.name}__echo", {"text": "after"})
                assert echo.content == "echo: after"
            connection = tools.connection(USER, server)
            assert connection.connects == 1 and connection.status == "ready"
        finally:
            await tools.close()


async def test_a_call_times_out_and_the_connection_stays() -> None:
    server = stdio_server()
    tools = registry(server, call_timeout=0.5)
    try:
        toolset = await tools.toolset(USER, ["local"])
        outcome = await toolset.run("local__slow", {"seconds": 30})
        assert outcome.is_error and "did not answer within 0.5 s" in outcome.content
        assert (await toolset.run("local__echo", {"text": "x"})).content == "echo: x"
        assert tools.connection(USER, server).connects == 1
    finally:
        await tools.close()


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_server_that_dies_mid_call_is_reported_and_reconnected(transport: str) -> None:
    async with running_http_server() as http:
        server = stdio_server() if transport == "stdio" else http_server(http.url)
        tools = registry(server, call_timeout=20)
        try:
            toolset = await tools.toolset(USER, [server.name])
            died = await toolset.run(f"{server.name}__die", {})
            assert died.is_error and "unavailable" in died.content
            connection = tools.connection(USER, server)
            if transport == "http":
                return  # the process is gone for good; reconnection is the stdio case's
            assert connection.status in ("failed", "idle")
            assert connection.last_error
            # The next call starts the server again (after the backoff).
            again = await toolset.run("local__echo", {"text": "back"})
            assert again.content == "echo: back"
            assert connection.connects == 2 and connection.status == "ready"
        finally:
            await tools.close()


async def test_an_unreachable_server_is_left_out_and_retried_with_backoff() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    server = http_server(f"http://127.0.0.1:{port}/mcp")
    tools = registry(server, backoff=30.0, connect_timeout=5.0)
    try:
        toolset = await tools.toolset(USER, ["remote", "calculator"])
        assert [s.name for s in toolset.specs] == ["calculator"]
        assert "remote" in toolset.unavailable
        connection = tools.connection(USER, server)
        assert connection.status == "failed" and connection.last_error
        # Within the backoff it is not tried again: the answer does not wait for it.
        with pytest.raises(McpUnavailable):
            async with asyncio.timeout(0.5):
                await connection.list_tools()
        await asyncio.sleep(0.2)
        assert connection.attempts == 1
    finally:
        await tools.close()


async def test_an_idle_connection_is_closed_and_reopened_on_demand() -> None:
    server = stdio_server()
    tools = registry(server, idle_seconds=0.3)
    try:
        toolset = await tools.toolset(USER, ["local"])
        connection = tools.connection(USER, server)
        assert connection.status == "ready"
        async with asyncio.timeout(10):
            while connection.status != "idle":
                await asyncio.sleep(0.05)
        assert (await toolset.run("local__echo", {"text": "again"})).content == "echo: again"
        assert connection.connects == 2
    finally:
        await tools.close()


async def test_exposed_names_fit_model_apis() -> None:
    assert exposed_name("files", "read.file") == "files__read_file"
    assert len(exposed_name("files", "x" * 100)) == 64


async def test_the_readme_examples_and_bad_configurations() -> None:
    import json
    import re
    from pathlib import Path

    from pydantic import ValidationError

    from gql_api.settings import Settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"CHATGQL_MCP_SERVERS='(\[.*?\])'", readme, re.S)
    assert len(blocks) == 2
    for block in blocks:
        settings = Settings(env="test", mcp_servers=json.loads(block))
        assert len(settings.mcp_servers) == 1
    bad = [
        {"name": "x", "transport": "streamable-http"},  # no url
        {"name": "x", "transport": "streamable-http", "url": "ftp://host/mcp"},
        {"name": "x", "transport": "stdio"},  # no command
        {"name": "Bad Name", "transport": "stdio", "command": "x"},
        {"name": "a__b", "transport": "stdio", "command": "x"},
        {"name": "x", "transport": "stdio", "command": "x", "approval": "maybe"},
    ]
    for entry in bad:
        with pytest.raises(ValidationError):
            Settings(env="test", mcp_servers=[entry])
    twice = [{"name": "x", "transport": "stdio", "command": "x"}] * 2
    with pytest.raises(ValidationError, match="unique"):
        Settings(env="test", mcp_servers=twice)


async def test_headers_come_from_the_environment_and_never_from_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATGQL_TEST_MCP_AUTH", "Bearer s3cret")
    async with running_http_server() as http:
        server = http_server(http.url, headers_from_env={"Authorization": "CHATGQL_TEST_MCP_AUTH"})
        assert "s3cret" not in server.model_dump_json()
        unset = http_server(http.url, name="unset", headers_from_env={"Authorization": "NOPE_X"})
        tools = registry(server, unset)
        try:
            toolset = await tools.toolset(USER, ["remote", "unset"])
            said = await toolset.run("remote__auth_header", {})
            assert said.content == "Bearer s3cret"
            assert "NOPE_X" in toolset.unavailable["unset"]
        finally:
            await tools.close()
