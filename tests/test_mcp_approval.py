"""Tool calls that wait for the user's approval: PENDING_APPROVAL in events and snapshots,
decided from another connection, denied on timeout, remembered; bad decisions refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_support import stdio_server
from tests.streaming import new_conversation, send, wait_finished
from tests.support import ApiServer, GraphQLErrors, start_api, subscribe_all
from tests.test_mcp_answers import PARTS, PREFS, TOOL_EVENTS, marker, mcp_settings, tool_parts

pytestmark = pytest.mark.asyncio
DECIDE = """mutation($s: ID!, $c: String!, $a: Boolean!, $r: Boolean!) {
  decideToolCall(streamId: $s, toolCallId: $c, approve: $a, remember: $r) {
    streamId toolCallId approved remembered } }"""
ECHO = marker("local__echo", {"text": "asked"})


def asking(tmp_path: Path, database_url: str, **overrides: object) -> Any:
    server = stdio_server("local", approval="ask", tool_approval={"slow": "always"})
    return mcp_settings(tmp_path, database_url, mcp_servers=[server], **overrides)


async def start(api: ApiServer, text: str = ECHO, user: str = "alice") -> tuple[str, str]:
    await api.gql(PREFS, {"t": ["local"]}, user=user)
    sent = await send(api, await new_conversation(api, user), text, user=user)
    return sent["stream"]["id"], sent["assistantMessage"]["id"]


async def pending_call(api: ApiServer, message_id: str, user: str = "alice") -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            message = (await api.gql(PARTS, {"m": message_id}, user=user))["message"]
            parts = tool_parts(message)
            if parts and parts[-1]["state"] == "PENDING_APPROVAL":
                return parts[-1]
            await asyncio.sleep(0.02)


async def decide(
    api: ApiServer, stream_id: str, call_id: str, approve: bool, *, remember: bool = False
) -> dict[str, Any]:
    variables = {"s": stream_id, "c": call_id, "a": approve, "r": remember}
    return dict((await api.gql(DECIDE, variables))["decideToolCall"])


async def test_approved_from_another_connection_runs_the_tool(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(asking(tmp_path, database_url)) as api:
        stream_id, message_id = await start(api)
        async with api.ws() as ws:
            watching = asyncio.create_task(subscribe_all(ws, TOOL_EVENTS, {"s": stream_id, "o": 0}))
            call = await pending_call(api, message_id)
            # Someone joining now sees the call waiting, in the snapshot.
            async with api.ws() as late:
                joined = asyncio.create_task(
                    subscribe_all(late, TOOL_EVENTS, {"s": stream_id, "o": 0})
                )
                await asyncio.sleep(0.3)
                decision = await decide(api, stream_id, call["id"], True)
                assert decision == {
                    "streamId": stream_id,
                    "toolCallId": call["id"],
                    "approved": True,
                    "remembered": False,
                }
                late_items = [e["streamEvents"] for e in await joined]
            items = [e["streamEvents"] for e in await watching]
        assert [c["state"] for c in late_items[0]["toolCalls"]] == ["PENDING_APPROVAL"]
        states = [i["toolCall"]["state"] for i in items if i["__typename"] == "StreamToolCall"]
        states = [c["state"] for c in items[0]["toolCalls"]] + states
        assert "PENDING_APPROVAL" in states and states[-1] == "DONE"
        assert items[-1]["status"] == "COMPLETED"
        [part] = tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])
        assert (part["state"], part["result"]) == ("DONE", "echo: asked")


async def test_denied_and_timed_out_calls_tell_the_model(tmp_path: Path, database_url: str) -> None:
    settings = asking(tmp_path, database_url, tool_approval_timeout_seconds=1.0)
    async with start_api(settings) as api:
        stream_id, message_id = await start(api)
        call = await pending_call(api, message_id)
        await decide(api, stream_id, call["id"], False)
        await wait_finished(api, stream_id)
        message = (await api.gql(PARTS, {"m": message_id}))["message"]
        [part] = tool_parts(message)
        assert part["state"] == "DENIED" and part["isError"]
        assert "did not allow" in message["content"] and "echo: asked" not in message["content"]
        # Nobody decides: denied when the wait is over.
        stream_id, message_id = await start(api)
        await wait_finished(api, stream_id)
        [part] = tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])
        assert part["state"] == "DENIED"


async def test_remembered_decisions_stand_for_the_next_answers(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(asking(tmp_path, database_url)) as api:
        stream_id, message_id = await start(api)
        call = await pending_call(api, message_id)
        assert (await decide(api, stream_id, call["id"], True, remember=True))["remembered"]
        await wait_finished(api, stream_id)
        # Asked no more: it runs straight away.
        stream_id, message_id = await start(api)
        await wait_finished(api, stream_id)
        [part] = tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])
        assert (part["state"], part["result"]) == ("DONE", "echo: asked")
        # Another user is still asked.
        stream_id, message_id = await start(api, user="bob")
        await pending_call(api, message_id, user="bob")


async def test_bad_decisions_are_refused_and_store_nothing(
    tmp_path: Path, database_url: str
) -> None:
    async with start_api(asking(tmp_path, database_url)) as api:
        stream_id, message_id = await start(api)
        call = await pending_call(api, message_id)
        cases = [
            ({"s": stream_id, "c": "toolu_nope"}, "alice", "CONFLICT"),
            ({"s": stream_id, "c": call["id"]}, "bob", "NOT_FOUND"),  # someone else's
            ({"s": "not an id", "c": call["id"]}, "alice", "BAD_USER_INPUT"),
            ({"s": stream_id, "c": ""}, "alice", "BAD_USER_INPUT"),
        ]
        for variables, user, code in cases:
            with pytest.raises(GraphQLErrors) as err:
                await api.gql(DECIDE, {**variables, "a": False, "r": True}, user=user)
            assert err.value.code == code, (variables, user)
        # None of those decided it or remembered anything: still waiting.
        assert (await pending_call(api, message_id))["id"] == call["id"]
        await decide(api, stream_id, call["id"], True)
        await wait_finished(api, stream_id)
        with pytest.raises(GraphQLErrors) as err:  # decided already, answer over
            await decide(api, stream_id, call["id"], True)
        assert err.value.code == "CONFLICT"
        # Nothing was remembered by the refused decisions: the next call is asked again.
        stream_id, message_id = await start(api)
        await pending_call(api, message_id)
        # A call that runs without asking is not waiting for a decision either.
        stream_id, message_id = await start(api, marker("local__slow", {"seconds": 30}))
        async with asyncio.timeout(60):
            while not (parts := tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])):
                await asyncio.sleep(0.02)
        assert parts[0]["state"] == "RUNNING"
        with pytest.raises(GraphQLErrors) as err:
            await decide(api, stream_id, parts[0]["id"], False, remember=True)
        assert err.value.code == "CONFLICT"
        await api.gql("mutation($s: ID!) { stopStream(id: $s) { status } }", {"s": stream_id})


async def test_stop_while_a_call_waits_for_approval(tmp_path: Path, database_url: str) -> None:
    async with start_api(asking(tmp_path, database_url)) as api:
        stream_id, message_id = await start(api)
        call = await pending_call(api, message_id)
        stop = "mutation($s: ID!) { stopStream(id: $s) { status } }"
        assert (await api.gql(stop, {"s": stream_id}))["stopStream"]["status"] == "CANCELLED"
        [part] = tool_parts((await api.gql(PARTS, {"m": message_id}))["message"])
        assert part["state"] == "CANCELLED"
        with pytest.raises(GraphQLErrors) as err:
            await decide(api, stream_id, call["id"], True)
        assert err.value.code == "CONFLICT"
