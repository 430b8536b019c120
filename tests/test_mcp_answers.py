"""Answers that call MCP tools, end to end: a real API server, the demo model, a real FastMCP
server over stdio. The call and its result are stored in the message's parts and streamed as
tool events; a stop mid-call cancels it; the round cap holds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gql_api.settings import Settings
from tests.conftest import make_settings
from tests.mcp_support import stdio_server
from tests.streaming import new_conversation, send, wait_finished
from tests.support import ApiServer, GraphQLErrors, start_api, subscribe_all

pytestmark = pytest.mark.asyncio

PARTS = """query($m: ID!) { message(id: $m) { content status
  parts { __typename ... on TextPart { text }
    ... on ToolCallPart { id name server tool state input result isError structuredContent
      truncated images { mediaType data } } } } }"""
TOOL_EVENTS = """subscription($s: ID!, $o: Int!) { streamEvents(streamId: $s, offset: $o) {
  __typename
  ... on StreamSnapshot { text toolCalls { id state result } }
  ... on StreamDelta { text }
  ... on StreamToolCall { toolCall { id name server tool state result } }
  ... on StreamEnd { status } } }"""
PREFS = "mutation($t: [String!]) { updatePreferences(input: {toolsEnabled: $t}) { id } }"


def mcp_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mcp_servers": [stdio_server("local")],
        "mcp_connect_timeout_seconds": 60.0,
        "mcp_ping_seconds": 0.5,
    }
    return make_settings(tmp_path, database_url, **{**values, **overrides})


def marker(tool: str, arguments: dict[str, Any] | None = None) -> str:
    return f"[demo:tool={tool} {json.dumps(arguments or {})}]"


async def answer(api: ApiServer, text: str, user: str = "alice") -> tuple[str, dict[str, Any]]:
    conversation = await new_conversation(api, user)
    sent = await send(api, conversation, text, user=user)
    stream_id = sent["stream"]["id"]
    await wait_finished(api, stream_id, user=user)
    message = (await api.gql(PARTS, {"m": sent["assistantMessage"]["id"]}, user=user))["message"]
    return stream_id, message


def tool_parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in message["parts"] if p["__typename"] == "ToolCallPart"]


async def test_an_mcp_tool_call_is_stored_streamed_and_answered_from(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(mcp_settings(tmp_path, database_url)) as api:
        await api.gql(PREFS, {"t": ["local", "calculator"]})
        conversation = await new_conversation(api)
        sent = await send(api, conversation, "Say it back " + marker("local__echo", {"text": "hi"}))
        stream_id = sent["stream"]["id"]
        async with api.ws() as ws:
            events = await subscribe_all(ws, TOOL_EVENTS, {"s": stream_id, "o": 0})
        items = [e["streamEvents"] for e in events]
        assert items[-1] == {"__typename": "StreamEnd", "status": "COMPLETED"}
        seen = [
            (t["toolCall"]["state"], t["toolCall"]["result"])
            for t in items
            if t["__typename"] == "StreamToolCall"
        ]
        snapshot_states = [(c["state"], c["result"]) for c in items[0]["toolCalls"]]
        # Each state of the call reaches the watcher exactly once (snapshot or event).
        states = snapshot_states + seen
        assert sorted(s for s, _ in states) in (["DONE", "RUNNING"], ["DONE"])
        assert ("DONE", "echo: hi") in states
        message = (await api.gql(PARTS, {"m": sent["assistantMessage"]["id"]}))["message"]
        [part] = tool_parts(message)
        assert part["server"] == "local" and part["tool"] == "echo"
        assert part["name"] == "local__echo" and part["input"] == {"text": "hi"}
        assert (part["state"], part["result"], part["isError"]) == ("DONE", "echo: hi", False)
        # The model's answer quotes the result once; the result is stored in one part.
        assert message["content"].count("echo: hi") == 1


async def test_errors_images_structured_content_and_schema_checks_reach_the_parts(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(mcp_settings(tmp_path, database_url)) as api:
        await api.gql(PREFS, {"t": ["local"]})
        text = " ".join(
            [
                marker("local__fail"),
                marker("local__picture"),
                marker("local__add", {"a": 2, "b": 40}),
                marker("local__echo", {"text": 7}),  # not a string: refused before the call
            ]
        )
        _, message = await answer(api, text)
        assert message["status"] == "COMPLETE"
        fail, picture, add, echo = tool_parts(message)
        assert fail["isError"] and "always fails" in fail["result"]
        assert picture["images"][0]["mediaType"] == "image/png" and not picture["isError"]
        assert add["structuredContent"] in ({"result": {"sum": 42}}, {"sum": 42})
        assert echo["isError"] and "schema" in echo["result"]


async def test_stop_during_a_tool_call_cancels_it_and_keeps_the_connection(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(mcp_settings(tmp_path, database_url)) as api:
        await api.gql(PREFS, {"t": ["local"]})
        for _ in range(3):
            conversation = await new_conversation(api)
            sent = await send(api, conversation, marker("local__slow", {"seconds": 60}))
            stream_id, message_id = sent["stream"]["id"], sent["assistantMessage"]["id"]
            async with asyncio.timeout(60):
                while True:
                    parts = tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])
                    if parts and parts[0]["state"] == "RUNNING":
                        break
                    await asyncio.sleep(0.05)
            stop = "mutation($s: ID!) { stopStream(id: $s) { status } }"
            stopped = await api.gql(stop, {"s": stream_id})
            assert stopped["stopStream"]["status"] == "CANCELLED"
            message = (await api.gql(PARTS, {"m": message_id}))["message"]
            [part] = tool_parts(message)
            assert part["state"] == "CANCELLED" and part["result"] is None
            assert message["status"] == "CANCELLED"
        # The server was not restarted for the next answer: only the pending call was cancelled.
        _, message = await answer(api, marker("local__echo", {"text": "still here"}))
        assert tool_parts(message)[0]["result"] == "echo: still here"
        connection = api.services.tools.connection(
            await user_id(api), api.services.settings.mcp_servers[0]
        )
        assert connection.connects == 1


async def test_tool_rounds_are_capped_and_the_last_round_answers(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(mcp_settings(tmp_path, database_url, tool_max_rounds=3)) as api:
        await api.gql(PREFS, {"t": ["local"]})
        _, message = await answer(api, "[demo:again] " + marker("local__echo", {"text": "loop"}))
        assert message["status"] == "COMPLETE"
        assert len(tool_parts(message)) == 2  # rounds 1 and 2 call; round 3 has no tools


async def test_an_unavailable_server_leaves_its_tools_out_and_the_answer_goes_on(
    tmp_path: Path, database_url: str
) -> None:
    broken = stdio_server("broken", command="/nonexistent/mcp-server", args=[])
    settings = make_settings(tmp_path, database_url, mcp_servers=[broken])
    async with start_api(settings) as api:
        await api.gql(PREFS, {"t": ["broken"]})
        _, message = await answer(api, "Hello " + marker("broken__echo", {"text": "x"}))
        assert message["status"] == "COMPLETE" and tool_parts(message) == []


async def user_id(api: ApiServer, user: str = "alice") -> str:
    return str((await api.gql("{ me { id } }", user=user))["me"]["id"])


SERVERS = """{ mcpServers { name transport status lastError
  tools { name description inputSchema approval } } }"""
REFRESH = "mutation($n: String!) { refreshMcpServer(name: $n) { name status lastError } }"


async def test_mcp_servers_show_state_and_tools_and_refresh_reconnects(
    tmp_path: Path, database_url: str
) -> None:
    broken = stdio_server("broken", command="/nonexistent/mcp-server", args=[])
    servers = [stdio_server("local", tools=["echo", "slow"], tool_approval={"slow": "ask"}), broken]
    async with start_api(mcp_settings(tmp_path, database_url, mcp_servers=servers)) as api:
        listed = (await api.gql(SERVERS))["mcpServers"]
        local, failing = listed
        assert (local["name"], local["transport"], local["status"]) == ("local", "stdio", "idle")
        assert {t["name"]: t["approval"] for t in local["tools"]} == {
            "echo": "always",
            "slow": "ask",
        }
        echo = next(t for t in local["tools"] if t["name"] == "echo")
        assert echo["inputSchema"]["required"] == ["text"]
        assert failing["tools"] == []
        now = {s["name"]: s for s in (await api.gql(SERVERS))["mcpServers"]}
        assert now["local"]["status"] == "ready"
        assert now["broken"]["status"] == "failed" and now["broken"]["lastError"]
        first = api.services.tools.peek(await user_id(api), "local")
        refreshed = (await api.gql(REFRESH, {"n": "local"}))["refreshMcpServer"]
        assert refreshed == {"name": "local", "status": "ready", "lastError": None}
        second = api.services.tools.peek(await user_id(api), "local")
        assert first is not None and second is not None and second is not first
        assert first.status == "idle" and second.connects == 1
        # Bob's connections are his own: he has none yet.
        assert api.services.tools.peek(await user_id(api, "bob"), "local") is None
        with pytest.raises(GraphQLErrors) as err:
            await api.gql(REFRESH, {"n": "nope"})
        assert err.value.code == "NOT_FOUND"


SET_TOOLS = """mutation($c: ID!, $t: [String!]) {
  setConversationTools(id: $c, tools: $t) { id toolsEnabled } }"""


async def test_a_conversation_chooses_its_tools_over_the_preference(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(mcp_settings(tmp_path, database_url)) as api:
        await api.gql(PREFS, {"t": []})  # the preference: no tools
        ask = marker("local__echo", {"text": "chosen"})

        async def calls_in(conversation: str) -> int:
            sent = await send(api, conversation, ask)
            await wait_finished(api, sent["stream"]["id"])
            message = (await api.gql(PARTS, {"m": sent["assistantMessage"]["id"]}))["message"]
            return len(tool_parts(message))

        chosen = await new_conversation(api)
        changed = await api.gql(SET_TOOLS, {"c": chosen, "t": ["local", "local"]})
        assert changed["setConversationTools"]["toolsEnabled"] == ["local"]
        assert await calls_in(chosen) == 1
        following = await new_conversation(api)
        assert await calls_in(following) == 0
        await api.gql(PREFS, {"t": ["local"]})
        none = await new_conversation(api)
        await api.gql(SET_TOOLS, {"c": none, "t": []})
        assert await calls_in(none) == 0
        back = (await api.gql(SET_TOOLS, {"c": none, "t": None}))["setConversationTools"]
        assert back["toolsEnabled"] is None
        assert await calls_in(none) == 1  # follows the preference again
        with pytest.raises(GraphQLErrors) as err:
            await api.gql(SET_TOOLS, {"c": chosen, "t": ["local", "rm_rf"]})
        assert err.value.code == "BAD_USER_INPUT"
        query = "query($c: ID!) { conversation(id: $c) { toolsEnabled } }"
        assert (await api.gql(query, {"c": chosen}))["conversation"]["toolsEnabled"] == ["local"]


async def test_a_tool_result_counts_once_across_resume_stop_and_retry(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(mcp_settings(tmp_path, database_url)) as api:
        await api.gql(PREFS, {"t": ["local"]})
        echo, slow = marker("local__echo", {"text": "once"}), marker("local__slow", {"seconds": 60})
        text = f"{echo} {slow}"
        conversation = await new_conversation(api)
        sent = await send(api, conversation, text)
        stream_id, message_id = sent["stream"]["id"], sent["assistantMessage"]["id"]
        async with asyncio.timeout(60):
            while True:
                parts = tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])
                if len(parts) == 2 and parts[1]["state"] == "RUNNING":
                    break
                await asyncio.sleep(0.02)
        # Joining mid-call at any offset: each call's state once, snapshot or event.
        length = len((await api.gql(PARTS, {"m": message_id}))["message"]["content"])
        async with api.ws() as ws:
            for offset in sorted({0, length // 2, length}):
                watcher = asyncio.create_task(
                    subscribe_all(ws, TOOL_EVENTS, {"s": stream_id, "o": offset})
                )
                await asyncio.sleep(0.2)
                if offset == length:
                    stop = "mutation($s: ID!) { stopStream(id: $s) { status } }"
                    await api.gql(stop, {"s": stream_id})
                    items = [e["streamEvents"] for e in await watcher]
                    seen = [(c["id"], c["state"]) for c in items[0]["toolCalls"]] + [
                        (i["toolCall"]["id"], i["toolCall"]["state"])
                        for i in items
                        if i["__typename"] == "StreamToolCall"
                    ]
                    assert len(seen) == len(set(seen))
                    assert [s for _, s in seen].count("CANCELLED") == 1
                else:
                    watcher.cancel()
        message = (await api.gql(PARTS, {"m": message_id}))["message"]
        assert [p["state"] for p in tool_parts(message)] == ["DONE", "CANCELLED"]
        retry = """mutation($m: ID!) {
          retryMessage(id: $m) { assistantMessage { id } stream { id } }
        }"""
        retried = (await api.gql(retry, {"m": message_id}))["retryMessage"]
        again, retried_id = retried["stream"]["id"], retried["assistantMessage"]["id"]
        assert retried_id != message_id  # a sibling answer: the first one stays as it was
        async with asyncio.timeout(60):
            while True:
                parts = tool_parts((await api.gql(PARTS, {"m": retried_id}))["message"])
                if len(parts) == 2 and parts[1]["state"] == "RUNNING":
                    break
                await asyncio.sleep(0.02)
        await api.gql("mutation($s: ID!) { stopStream(id: $s) { status } }", {"s": again})
        # The retried answer has its own calls, not the earlier ones as well.
        for answer_id in (retried_id, message_id):
            message = (await api.gql(PARTS, {"m": answer_id}))["message"]
            assert [p["state"] for p in tool_parts(message)] == ["DONE", "CANCELLED"]
            assert [p["result"] for p in tool_parts(message)] == ["echo: once", None]
