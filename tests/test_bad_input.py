"""Malformed requests get a GraphQL error body with a code, never a 500 or a traceback in the
log, and change nothing: bodies that are not a JSON object, invalid UTF-8, deep nesting, deep
cursors, lone surrogates in every text field, a subscription over HTTP, and the requests
Strawberry itself refuses (batching, unknown operationName, a mutation over GET)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gql_api.app import encode_json
from gql_api.context import Context
from resolvers.schema import build_schema
from tests.support import ApiServer
from tests.test_ownership import make_rows, snapshot

SURROGATE = "\ud800"

# (what, operation, variables): `$t` is the text under test; ids are filled from the rows.
TEXT_FIELDS: list[tuple[str, str, dict[str, str]]] = [
    ("project name", "mutation($t: String!) { createProject(name: $t) { id } }", {}),
    (
        "project rename",
        "mutation($p: ID!, $t: String!) { renameProject(id: $p, name: $t) { id } }",
        {"p": "project"},
    ),
    (
        "conversation title",
        "mutation($t: String!) { createConversation(input: {title: $t}) { id } }",
        {},
    ),
    (
        "system prompt",
        "mutation($t: String!) { createConversation(input: {systemPrompt: $t}) { id } }",
        {},
    ),
    (
        "conversation rename",
        "mutation($c: ID!, $t: String!) { renameConversation(id: $c, title: $t) { id } }",
        {"c": "conversation"},
    ),
    (
        "draft",
        "mutation($c: ID!, $t: String!) { saveDraft(id: $c, draft: $t) { id } }",
        {"c": "conversation"},
    ),
    (
        "note",
        "mutation($c: ID!, $t: String!) {"
        " addMessage(input: {conversationId: $c, content: $t}) { id } }",
        {"c": "conversation"},
    ),
    (
        "edit",
        "mutation($m: ID!, $t: String!) { editMessage(id: $m, content: $t) { id } }",
        {"m": "message"},
    ),
    (
        "message content",
        "mutation($c: ID!, $t: String!) {"
        " sendMessage(input: {conversationId: $c, content: $t}) { stream { id } } }",
        {"c": "conversation"},
    ),
    (
        "clientMessageId",
        "mutation($c: ID!, $t: String!) { sendMessage(input:"
        ' {conversationId: $c, content: "hi", clientMessageId: $t}) { stream { id } } }',
        {"c": "conversation"},
    ),
    (
        "search",
        "query($t: String!) { conversations(search: $t) { edges { node { id } } } }",
        {},
    ),
    (
        "retry model",
        "mutation($m: ID!, $t: String!) { retryMessage(id: $m, model: $t) { stream { id } } }",
        {"m": "answer"},
    ),
    (
        "default model",
        "mutation($t: String!) { updatePreferences(input: {defaultModel: $t}) { id } }",
        {},
    ),
    (
        "tools",
        "mutation($t: String!) { updatePreferences(input: {toolsEnabled: [$t]}) { id } }",
        {},
    ),
    (
        "cursor",
        "query($t: String!) { conversations(after: $t) { edges { node { id } } } }",
        {},
    ),
]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Fails the test if anything logs an error or a traceback (uvicorn's loggers included,
    which do not propagate to the root logger)."""
    uvicorn = logging.getLogger("uvicorn")
    uvicorn.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING):
            yield caplog
    finally:
        uvicorn.removeHandler(caplog.handler)
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
async def rows(api: ApiServer) -> AsyncIterator[dict[str, str]]:
    yield await make_rows(api, "alice")


def filled(variables: dict[str, str], rows: dict[str, str], text: str) -> dict[str, str]:
    return {"t": text, **{name: rows[kind] for name, kind in variables.items()}}


async def post(api: ApiServer, body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    response = await api.http.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {api.token('alice')}",
            "Content-Type": "application/json",
            **headers,
        },
    )
    return response.status_code, response.json()


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or [{}]
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code


async def test_malformed_bodies_get_a_code(
    api: ApiServer, rows: dict[str, str], no_tracebacks: pytest.LogCaptureFixture
) -> None:
    before = await snapshot(api, "alice", rows)
    create = 'mutation { createProject(name: "x") { id } }'
    bodies = {
        "a string": b'"mutation { createProject(name: \\"x\\") { id } }"',
        "null": b"null",
        "a number": b"42",
        "a batch": json.dumps([{"query": create}, {"query": create}]).encode(),
        "invalid UTF-8": b'{"query": "mutation { createProject(name: \\"\xff\xfe\\") { id } }"}',
        "100,000-deep JSON": b'{"query": "{ me { id } }", "variables": {"x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        "truncated JSON": b'{"query": "{ me { id } }"',
        "query not a string": b'{"query": ["{ me { id } }"]}',
        "variables not an object": b'{"query": "{ me { id } }", "variables": "x"}',
        "no query": b'{"variables": {}}',
        "unknown operationName": json.dumps(
            {"query": "query A { me { id } }", "operationName": "B"}
        ).encode(),
        "subscription": json.dumps({"query": "subscription { activity { __typename } }"}).encode(),
    }
    for name, body in bodies.items():
        status, answer = await post(api, body)
        assert status == 400, (name, status, answer)
        assert code_of(answer) == "BAD_USER_INPUT", (name, answer)
        assert answer["errors"][0]["message"], name
    status, answer = await post(api, b"{}", **{"Content-Type": "application/xml"})
    assert (status, code_of(answer)) == (400, "BAD_USER_INPUT"), answer
    # A mutation over GET: Strawberry's 400, with a GraphQL body.
    response = await api.http.get(
        "/graphql",
        params={"query": create},
        headers={"Authorization": f"Bearer {api.token('alice')}"},
    )
    assert response.status_code == 400, response.text
    assert code_of(response.json()) == "BAD_USER_INPUT"
    # GET variables go through the same strict JSON.
    for variables in ("%FF", "%5B" * 5000, "%22%5Cud800%22"):
        response = await api.http.get(
            "/graphql?query=%7B%20me%20%7B%20id%20%7D%20%7D&variables=" + variables,
            headers={"Authorization": f"Bearer {api.token('alice')}"},
        )
        assert response.status_code == 400, response.text
        assert code_of(response.json()) == "BAD_USER_INPUT"
    assert await snapshot(api, "alice", rows) == before


async def test_deep_cursors_are_bad_input(
    api: ApiServer, rows: dict[str, str], no_tracebacks: pytest.LogCaptureFixture
) -> None:
    cursors = [
        b64(b"[" * 100_000 + b"]" * 100_000),  # far too long for a cursor
        b64(b"[" * 300 + b"]" * 300),  # short enough, nested past any parser's stack
        b64(b'["\\ud800", 1]'),  # a lone surrogate inside
        "a" * 100_000,
    ]
    query = "query($a: String!) { conversations(after: $a) { edges { node { id } } } }"
    messages = "query($c: ID!, $a: String!) { messages(conversationId: $c, before: $a, last: 5) {"
    messages += " edges { node { id } } } }"
    for cursor in cursors:
        status, answer = await post(
            api, json.dumps({"query": query, "variables": {"a": cursor}}).encode()
        )
        assert (status, code_of(answer)) == (200, "BAD_USER_INPUT"), answer
        variables = {"a": cursor, "c": rows["conversation"]}
        status, answer = await post(
            api, json.dumps({"query": messages, "variables": variables}).encode()
        )
        assert (status, code_of(answer)) == (200, "BAD_USER_INPUT"), answer


async def test_lone_surrogates_in_every_text_field(
    api: ApiServer, rows: dict[str, str], no_tracebacks: pytest.LogCaptureFixture
) -> None:
    """Over HTTP as a JSON escape in the variables and in a GraphQL string literal; and past
    any transport (a lone surrogate str handed to the schema), where the domain refuses it."""
    before = await snapshot(api, "alice", rows)
    schema = build_schema(api.settings)
    identity = await api.services.verifier.verify(api.token("alice"))
    for what, operation, ids in TEXT_FIELDS:
        variables = filled(ids, rows, SURROGATE)
        # json.dumps writes the surrogate as the escape "\ud800": valid JSON syntax.
        status, answer = await post(
            api, json.dumps({"query": operation, "variables": variables}).encode()
        )
        assert (status, code_of(answer)) == (400, "BAD_USER_INPUT"), (what, answer)

        literal = operation.replace("$t", '"\\ud800"').replace(", $t: String!", "")
        literal = literal.replace("($t: String!)", "")
        del variables["t"]
        status, answer = await post(
            api, json.dumps({"query": literal, "variables": variables}).encode()
        )
        assert code_of(answer) in {"BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED"}, (what, answer)

        context = Context(api.services)
        context.user = await api.services.users.resolve(identity)
        result = await schema.execute(
            operation, variable_values=filled(ids, rows, SURROGATE), context_value=context
        )
        assert result.errors, what
        error = result.errors[0]
        assert (error.extensions or {}).get("code") == "BAD_USER_INPUT", (what, error)
        encode_json({"errors": [error.formatted]})  # the answer can be sent (UTF-8)
    assert await snapshot(api, "alice", rows) == before
