"""Query limits: depth, aliases, tokens (HTTP and websocket), and subscriptions per connection."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from graphql import get_introspection_query
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from models.conversations import Conversation
from tests.conftest import make_settings
from tests.support import ApiServer, start_api
from tests.test_ownership import outcome, wait_for_stream, ws_subscriber

DEEPEST = "{ conversations { edges { node { lastMessage { attachments { id } } } } } }"
NESTED_INTROSPECTION = (
    "{ __schema { types { fields { type { ofType { fields { type { ofType {"
    " fields { name } } } } } } } } } }"
)


def aliased(count: int) -> str:
    return "query { " + " ".join(f"a{i}: me {{ id }}" for i in range(count)) + " }"


def tokens_query(count: int) -> str:
    """A valid document of exactly `count` lexical tokens (17 + one per list item).

    Padding with a list literal, not repeated fields: thousands of identical fields would
    hit graphql-core's own validation budget (overlapping fields) before the token limit."""
    items = " ".join(['"calculator"'] * (count - 17))
    return f"mutation {{ updatePreferences(input: {{toolsEnabled: [{items}]}}) {{ id }} }}"


async def conversation_count(api: ApiServer) -> int:
    """Counted in the database, so that it works whatever the query limits are."""
    async with api.services.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(Conversation))
    return int(count or 0)


async def test_query_depth_limit(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, max_query_depth=2)
    async with start_api(settings) as api:
        allowed = await api.raw("{ me { preferences { theme } } }")
        too_deep = await api.raw("{ conversations { edges { node { id } } } }")
        much_too_deep = await api.raw(DEEPEST)

        assert allowed.get("errors") is None, allowed
        for body in (too_deep, much_too_deep):
            code, message, data = outcome(body)
            assert code == "BAD_USER_INPUT", body
            assert "depth" in (message or "").lower()
            assert data is None

        # A mutation that is too deep is refused before it runs.
        deep = (
            'mutation { createConversation(input: {title: "deep"}) {'
            " lastMessage { attachments { id } } } }"
        )
        assert outcome(await api.raw(deep))[0] == "BAD_USER_INPUT"
        assert await conversation_count(api) == 0
        shallow = 'mutation { createConversation(input: {title: "ok"}) { project { id } } }'
        assert (await api.gql(shallow))["createConversation"] == {"project": None}
        assert await conversation_count(api) == 1


async def test_default_limits_allow_real_queries(api: ApiServer) -> None:
    """The deepest query the schema allows, and GraphiQL's introspection query, both pass."""
    await api.gql('mutation { createConversation(input: {title: "one"}) { id } }')
    deepest = await api.raw(DEEPEST)
    assert deepest.get("errors") is None, deepest
    assert len(deepest["data"]["conversations"]["edges"]) == 1
    introspection = await api.raw(get_introspection_query(descriptions=True))
    assert introspection.get("errors") is None
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_nesting_is_limited(api: ApiServer) -> None:
    # Introspection fields escape Strawberry's depth limiter; graphql-core's own rule must hold.
    code, message, data = outcome(await api.raw(NESTED_INTROSPECTION))
    assert code == "BAD_USER_INPUT"
    assert "depth" in (message or "").lower()
    assert data is None
    assert (await api.gql("{ me { name } }"))["me"]["name"] == "Alice"


async def test_alias_limit(api: ApiServer) -> None:
    limit = api.settings.max_aliases
    allowed = await api.raw(aliased(limit))
    refused = await api.raw(aliased(limit + 1))

    assert allowed.get("errors") is None, allowed
    assert len(allowed["data"]) == limit
    code, message, data = outcome(refused)
    assert code == "BAD_USER_INPUT", refused
    assert "alias" in (message or "").lower()
    assert data is None
    # Aliased mutations are refused as a whole: none of them runs.
    many = " ".join(
        f'c{i}: createConversation(input: {{title: "c{i}"}}) {{ id }}' for i in range(limit + 1)
    )
    assert outcome(await api.raw(f"mutation {{ {many} }}"))[0] == "BAD_USER_INPUT"
    assert await conversation_count(api) == 0


async def test_token_limit(api: ApiServer) -> None:
    limit = api.settings.max_query_tokens
    allowed = await api.raw(tokens_query(limit))
    refused = await api.raw(tokens_query(limit + 1))
    huge = await api.raw(tokens_query(limit * 50))

    assert allowed.get("errors") is None, allowed
    assert allowed["data"]["updatePreferences"]["id"]
    code, message, data = outcome(refused)
    assert code == "GRAPHQL_PARSE_FAILED", refused
    assert "token" in (message or "").lower()
    assert data is None
    # Far over the limit is also over the byte limits: refused before it is lexed at all.
    assert outcome(huge)[0] == "PAYLOAD_TOO_LARGE", huge
    # A normal query still works.
    assert (await api.gql("{ me { name } }"))["me"]["name"] == "Alice"


async def test_limits_apply_over_websockets(api: ApiServer) -> None:
    ws, alice = await ws_subscriber(api, "alice")
    try:
        introspection = await alice.run(NESTED_INTROSPECTION, {})
        aliases = await alice.run(aliased(api.settings.max_aliases + 1), {})
        fine = await alice.run("{ me { name } }", {})
        # A document that does not parse (here: too many tokens) ends the whole connection:
        # Strawberry closes graphql-transport-ws with 4400 on syntax errors.
        await ws.send(
            json.dumps(
                {
                    "id": "tokens",
                    "type": "subscribe",
                    "payload": {"query": tokens_query(api.settings.max_query_tokens + 1)},
                }
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    finally:
        await ws.close()
    assert outcome(introspection)[0] == "BAD_USER_INPUT", introspection
    assert outcome(aliases)[0] == "BAD_USER_INPUT", aliases
    assert fine.get("errors") is None and fine["data"]["me"]["name"] == "Alice", fine
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "tokens" in closed.value.rcvd.reason


async def _next_for(ws: Any, op_id: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if message.get("id") == op_id:
            return message


async def test_max_subscriptions_per_connection(tmp_path: Path, database_url: str) -> None:
    # A slow demo model, so the answer is still being written while the test subscribes; the
    # test stops it when done (it never waits for it to finish).
    settings = make_settings(
        tmp_path, database_url, max_subscriptions_per_connection=2, demo_token_delay_seconds=0.2
    )
    async with start_api(settings) as api:
        conversation = (await api.gql("mutation { createConversation { id } }"))[
            "createConversation"
        ]["id"]
        sent = await api.gql(
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c,"
            ' content: "[demo:long] tell me everything"}) { stream { id } } }',
            {"c": conversation},
        )
        stream_id = sent["sendMessage"]["stream"]["id"]
        query = "subscription($s: ID) { streamEvents(streamId: $s) { __typename } }"
        ws, _ = await ws_subscriber(api, "alice")
        try:

            async def subscribe(op_id: str) -> dict[str, Any]:
                payload = {"query": query, "variables": {"s": stream_id}}
                await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
                return await _next_for(ws, op_id)

            first, second = await subscribe("1"), await subscribe("2")
            assert first["type"] == second["type"] == "next"
            third = await subscribe("3")
            assert third["type"] == "error", third
            assert "limit" in third["payload"][0]["message"].lower()
            # Completing one frees its place.
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            fourth = await subscribe("4")
            assert fourth["type"] == "next", fourth
        finally:
            await ws.close()
            await api.gql("mutation($s: ID!) { stopStream(id: $s) { id } }", {"s": stream_id})
        assert await wait_for_stream(api, stream_id, "alice") == "CANCELLED"


async def test_documents_are_parsed_once_and_errors_every_time(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import strawberry.schema.schema as strawberry_schema

    parsed: list[str] = []
    real = strawberry_schema.parse

    def counting(source: Any, **options: Any) -> Any:
        parsed.append(str(source))
        return real(source, **options)

    monkeypatch.setattr(strawberry_schema, "parse", counting)
    for _ in range(3):
        assert (await api.gql("{ me { name } }"))["me"]["name"] == "Alice"
    assert parsed == ["{ me { name } }"]
    for _ in range(2):  # a document that does not parse is never remembered
        body = await api.raw("{ me { name }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert parsed.count("{ me { name }") == 2
    too_many = tokens_query(api.settings.max_query_tokens + 1)
    for _ in range(2):  # nor one over the token limit
        assert "errors" in await api.raw(too_many)


async def test_valid_documents_are_validated_once_refused_ones_every_time(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resolvers.schema

    validated: list[int] = []
    real = resolvers.schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        validated.append(len(rules))
        return real(schema, document, rules)

    monkeypatch.setattr(resolvers.schema, "validate_document", counting)
    for _ in range(3):
        assert (await api.gql("{ me { id } }"))["me"]["id"]
    assert len(validated) == 1  # a valid document is validated once
    too_many = aliased(api.settings.max_aliases + 1)
    for _ in range(2):  # a refused document is never remembered: refused every time
        code, message, _ = outcome(await api.raw(too_many))
        assert code == "BAD_USER_INPUT" and "alias" in (message or "").lower()
    assert len(validated) == 3
    assert validated[0] == validated[1] == validated[2]
