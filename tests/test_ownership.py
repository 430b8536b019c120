"""Ownership: every field that takes an ID refuses another user's row exactly like a missing one.

The walker reads the schema, so a field added later is covered without touching this file; a
field it cannot build arguments for fails the test instead of being skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from gql_api.providers.config import ProviderConfig
from gql_api.settings import Settings
from models.base import new_id
from resolvers.schema import build_schema
from tests.conftest import make_settings
from tests.support import ApiServer

KINDS = ("conversation", "project", "message", "stream", "attachment", "sharelink")
# Argument names for a kind of row that don't spell the kind: `messages(leafId)` names a message.
ALIASES = {"leaf": "message"}
TERMINAL = {"COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"}
# Optional ID filters on lists: a foreign or missing id filters everything out (no error),
# and the two must still be indistinguishable. Each entry must exist in the schema.
LIST_FILTERS = {
    ("Query", "conversations", ("projectId",)),
    ("Query", "shareLinks", ("conversationId",)),
}
UPLOAD_BYTES = b"hello from a test attachment\n"


class CannotBuild(Exception):
    """The walker does not know how to make a valid value for an argument."""


@dataclass(frozen=True)
class IdPath:
    """One place an ID goes in a root field: an argument, or a field inside an input object."""

    root: str
    field_name: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.root}.{self.field_name}({'.'.join(self.path)})"


@dataclass
class Call:
    query: str
    variables: dict[str, Any]
    uploads: list[str] = field(default_factory=list)  # variable paths holding an Upload


# ---------------------------------------------------------------- the schema walker


def unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def is_required(type_: Any, has_default: bool) -> bool:
    return isinstance(type_, GraphQLNonNull) and not has_default


def _id_paths_in(
    type_: GraphQLInputType, prefix: tuple[str, ...], seen: set[str]
) -> Iterator[tuple[str, ...]]:
    named = unwrap(type_)
    if isinstance(named, GraphQLScalarType) and named.name == "ID":
        yield prefix
    elif isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        for name, input_field in named.fields.items():
            yield from _id_paths_in(input_field.type, (*prefix, name), seen | {named.name})


def id_paths(schema: GraphQLSchema) -> list[IdPath]:
    found = []
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is None:
            continue
        for name, root_field in root.fields.items():
            for arg_name, arg in root_field.args.items():
                for path in _id_paths_in(arg.type, (arg_name,), set()):
                    found.append(IdPath(root.name, name, path))
    return found


def kind_of(name: str, field_name: str, returns: str = "") -> str:
    """The kind of row an ID argument names: from `conversationId`, or for a bare `id`, from
    the field (`renameProject` -> project)."""
    for suffix in ("Ids", "Id"):
        if name.endswith(suffix):
            stem = ALIASES.get(name[: -len(suffix)], name[: -len(suffix)])
            if stem in KINDS:
                return stem
            last_word = re.findall("[A-Z][a-z]+", stem)  # upToMessageId -> message
            if last_word and last_word[-1].lower() in KINDS:
                return last_word[-1].lower()
    if name == "id":
        matches = [k for k in KINDS if k in field_name.lower()]
        if len(matches) == 1:
            return matches[0]
        if not matches and returns.lower() in KINDS:  # saveDraft -> Conversation
            return returns.lower()
    raise CannotBuild(f"no idea which kind of row `{name}` of {field_name} names")


class ArgumentBuilder:
    """Valid values for a root field's arguments, with one ID path set to a chosen id.

    Required ID arguments elsewhere get the caller's own rows (`own`), so the only thing wrong
    with the request is the id under test; other required arguments get plausible values.
    """

    def __init__(self, own: dict[str, str]) -> None:
        self.own = own
        self.returns = ""

    def call(
        self, schema: GraphQLSchema, target: IdPath, id_value: str, *, omit: str | None = None
    ) -> Call:
        root = {
            "Query": schema.query_type,
            "Mutation": schema.mutation_type,
            "Subscription": schema.subscription_type,
        }[target.root]
        assert root is not None
        root_field: GraphQLField = root.fields[target.field_name]
        self.returns = get_named_type(root_field.type).name
        definitions: list[str] = []
        arguments: list[str] = []
        variables: dict[str, Any] = {}
        uploads: list[str] = []
        for arg_name, arg in root_field.args.items():
            if arg_name == omit:
                continue
            on_path = target.path[0] == arg_name
            has_default = arg.default_value is not Undefined
            if not on_path and not is_required(arg.type, has_default):
                if not has_default and not isinstance(arg.type, GraphQLNonNull):
                    # An explicit null: omitting some of these crashes (see test_errors.py).
                    definitions.append(f"${arg_name}: {arg.type}")
                    arguments.append(f"{arg_name}: ${arg_name}")
                    variables[arg_name] = None
                continue
            rest = target.path[1:] if on_path else None
            variables[arg_name] = self.value(
                arg.type,
                arg_name,
                target.field_name,
                rest,
                id_value,
                f"variables.{arg_name}",
                uploads,
            )
            definitions.append(f"${arg_name}: {arg.type}")
            arguments.append(f"{arg_name}: ${arg_name}")
        selection = selection_of(root_field.type)
        operation = target.root.lower()
        header = f"({', '.join(definitions)})" if definitions else ""
        args = f"({', '.join(arguments)})" if arguments else ""
        query = f"{operation} Walk{header} {{ {target.field_name}{args}{selection} }}"
        return Call(query, variables, uploads)

    def value(
        self,
        type_: Any,
        name: str,
        field_name: str,
        rest: tuple[str, ...] | None,
        id_value: str,
        location: str,
        uploads: list[str],
    ) -> Any:
        """A value for `type_`; `rest` is the remaining ID path (() at the target itself)."""
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            item = self.value(inner.of_type, name, field_name, rest, id_value, location, uploads)
            return [item]
        if rest == ():
            return id_value
        if isinstance(inner, GraphQLInputObjectType):
            result = {}
            for key, input_field in inner.fields.items():
                on_path = rest is not None and rest[0] == key
                has_default = input_field.default_value is not Undefined
                if not on_path and not is_required(input_field.type, has_default):
                    continue
                result[key] = self.value(
                    input_field.type,
                    key,
                    field_name,
                    rest[1:] if on_path and rest is not None else None,
                    id_value,
                    f"{location}.{key}",
                    uploads,
                )
            return result
        if isinstance(inner, GraphQLEnumType):
            return next(iter(inner.values))
        if isinstance(inner, GraphQLScalarType):
            return self.scalar(inner.name, name, field_name, location, uploads)
        raise CannotBuild(f"cannot make a value of type {inner}")

    def scalar(
        self, type_name: str, name: str, field_name: str, location: str, uploads: list[str]
    ) -> Any:
        if type_name == "ID":
            kind = kind_of(name, field_name, self.returns)
            if kind not in self.own:
                raise CannotBuild(f"no row of kind {kind} to fill `{name}` of {field_name}")
            return self.own[kind]
        if type_name == "Upload":
            uploads.append(location)
            return None
        plain: dict[str, Any] = {
            "String": "Bob was here",
            "Int": 1,
            "Float": 1.0,
            "Boolean": True,
            "Date": dt.date.today().isoformat(),
            "DateTime": dt.datetime.now(dt.UTC).isoformat(),
            "JSON": {},
        }
        if type_name not in plain:
            raise CannotBuild(f"no dummy value for scalar {type_name} (`{name}` of {field_name})")
        return plain[type_name]


def selection_of(type_: Any) -> str:
    """Enough of the result to tell an empty list from a full one: ids and edges."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if not isinstance(named, GraphQLObjectType):
        return " { __typename }"
    parts = ["__typename"]
    if "id" in named.fields:
        parts.append("id")
    if "edges" in named.fields:
        parts.append(f"edges{selection_of(named.fields['edges'].type)}")
    if "node" in named.fields:
        parts.append(f"node{selection_of(named.fields['node'].type)}")
    return " { " + " ".join(parts) + " }"


# ---------------------------------------------------------------- transport


async def http_call(api: ApiServer, call: Call, user: str) -> dict[str, Any]:
    if not call.uploads:
        return await api.raw(call.query, call.variables, user=user)
    # GraphQL multipart request: operations, a map from parts to variable paths, the files.
    operations = json.dumps({"query": call.query, "variables": call.variables})
    mapping = {str(i): [path] for i, path in enumerate(call.uploads)}
    files = {str(i): ("note.txt", UPLOAD_BYTES, "text/plain") for i in range(len(call.uploads))}
    response = await api.http.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps(mapping)},
        files=files,
        headers={"Authorization": f"Bearer {api.token(user)}"},
    )
    body: dict[str, Any] = response.json()
    return body


class RawSubscriber:
    """One graphql-transport-ws connection; runs operations one at a time to their end."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.count = 0

    async def run(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The first result (or the errors) of an operation, after it completed or failed."""
        self.count += 1
        op_id = str(self.count)
        await self.ws.send(
            json.dumps(
                {
                    "id": op_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        results: list[dict[str, Any]] = []
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 15))
            if message.get("id") != op_id:
                continue
            if message["type"] == "next":
                results.append(message["payload"])
            elif message["type"] == "error":
                return {"data": None, "errors": message["payload"]}
            elif message["type"] == "complete":
                return results[0] if results else {"data": None}


async def ws_subscriber(api: ApiServer, user: str) -> tuple[Any, RawSubscriber]:
    ws = await connect(
        api.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10
    )
    await ws.send(
        json.dumps(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {api.token(user)}"}}
        )
    )
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    return ws, RawSubscriber(ws)


# ---------------------------------------------------------------- fixtures: two users' rows


async def upload(api: ApiServer, user: str, conversation_id: str) -> str:
    call = Call(
        "mutation($f: Upload!, $c: ID) { uploadAttachment(file: $f, conversationId: $c) { id } }",
        {"f": None, "c": conversation_id},
        ["variables.f"],
    )
    body = await http_call(api, call, user)
    assert not body.get("errors"), body
    attachment_id: str = body["data"]["uploadAttachment"]["id"]
    return attachment_id


async def wait_for_stream(api: ApiServer, stream_id: str, user: str) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        data = await api.gql(
            "query($s: ID!) { stream(id: $s) { status } }", {"s": stream_id}, user=user
        )
        status: str = data["stream"]["status"]
        if status in TERMINAL:
            return status
        assert loop.time() < deadline, f"stream {stream_id} still {status} after 30 s"
        await asyncio.sleep(0.02)


async def make_rows(api: ApiServer, user: str) -> dict[str, str]:
    """One row of each kind for `user`: {"project": id, "conversation": id, ...}."""
    project = (
        await api.gql(
            "mutation($n: String!) { createProject(name: $n) { id } }",
            {"n": f"{user}'s folder"},
            user=user,
        )
    )["createProject"]["id"]
    conversation = (
        await api.gql(
            "mutation($i: CreateConversationInput) { createConversation(input: $i) { id } }",
            {"i": {"title": f"{user}'s secret plans", "projectId": project}},
            user=user,
        )
    )["createConversation"]["id"]
    unsent_attachment = await upload(api, user, conversation)
    sent_attachment = await upload(api, user, conversation)
    note = (
        await api.gql(
            "mutation($i: AddMessageInput!) { addMessage(input: $i) { id } }",
            {"i": {"conversationId": conversation, "content": f"{user}'s private note"}},
            user=user,
        )
    )["addMessage"]["id"]
    sent = (
        await api.gql(
            "mutation($i: SendMessageInput!) { sendMessage(input: $i) {"
            " userMessage { id } assistantMessage { id } stream { id } } }",
            {
                "i": {
                    "conversationId": conversation,
                    "content": f"{user} asks a question",
                    "clientMessageId": f"{user}-1",
                    "attachmentIds": [sent_attachment],
                }
            },
            user=user,
        )
    )["sendMessage"]
    stream = sent["stream"]["id"]
    assert await wait_for_stream(api, stream, user) == "COMPLETED"
    me = (await api.gql("{ me { id } }", user=user))["me"]["id"]
    keyed = [p.name for p in api.services.models.providers.values() if p.accepts_user_keys]
    own_key: dict[str, str] = {}
    if keyed:  # the settings of this module have one; other modules' may not
        own_key["provider key"] = (
            await api.gql(
                'mutation($p: String!) { setProviderKey(provider: $p, apiKey: "sk-walker")'
                " { id } }",
                {"p": keyed[0]},
                user=user,
            )
        )["setProviderKey"]["id"]
    share_link = (
        await api.gql(
            "mutation($c: ID!, $m: ID!) { createShareLink(conversationId: $c, upToMessageId: $m)"
            " { link { id } } }",
            {"c": conversation, "m": note},
            user=user,
        )
    )["createShareLink"]["link"]["id"]
    return {
        **own_key,
        "project": project,
        "conversation": conversation,
        "message": note,
        "prompt": sent["userMessage"]["id"],
        "answer": sent["assistantMessage"]["id"],
        "stream": stream,
        "attachment": unsent_attachment,
        "sent attachment": sent_attachment,
        "user": me,
        "sharelink": share_link,
    }


SNAPSHOT = """
query($c: ID!, $p: ID!, $s: ID!, $a: ID!, $m: ID!) {
  me { id name preferences { theme defaultModel toolsEnabled } }
  projects { id name conversationCount updatedAt }
  project(id: $p) { id name updatedAt }
  conversations(first: 100, archived: null) {
    edges { node { id title pinned archived draft projectId updatedAt lastMessage { id } } }
  }
  conversation(id: $c) {
    id title titleSource pinned archived draft projectId model updatedAt currentLeafId
  }
  messages(conversationId: $c, first: 100) {
    edges { node { id role content status parentId editedAt feedback { rating comment }
      attachments { id } siblings { index count ids } } }
  }
  message(id: $m) { id content editedAt }
  stream(id: $s) { id status length lastSeq finishedAt }
  activeStreams { id }
  attachment(id: $a) { id name size sha256 conversationId messageId }
  attachments(conversationId: $c) { id messageId }
  providerKeys { id provider lastFour lastUsedAt lastError }
  models { id provider }
  shareLinks { id revokedAt expiresAt }
}
"""


async def snapshot(api: ApiServer, user: str, rows: dict[str, str]) -> dict[str, Any]:
    variables = {
        "c": rows["conversation"],
        "p": rows["project"],
        "s": rows["stream"],
        "a": rows["attachment"],
        "m": rows["message"],
    }
    return await api.gql(SNAPSHOT, variables, user=user)


def outcome(body: dict[str, Any]) -> tuple[str | None, str | None, Any]:
    """(code, message, data) of a response."""
    errors = body.get("errors") or []
    if not errors:
        return None, None, body.get("data")
    first = errors[0]
    return first.get("extensions", {}).get("code"), first.get("message"), body.get("data")


def is_empty(data: Any) -> bool:
    if data is None or data == [] or data == {}:
        return True
    if isinstance(data, dict):
        if "edges" in data:
            return data["edges"] == []
        return all(is_empty(v) for v in data.values())
    return False


# ---------------------------------------------------------------- the tests


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The demo model, and a provider that takes users' own keys (never called here)."""
    keyed = ProviderConfig(
        name="keyed",
        kind="openai-compatible",
        base_url="http://127.0.0.1:9/v1",
        api_key_env="CHATGQL_TEST_UNSET_KEY",
        models=["keyed-model"],
    )
    demo = ProviderConfig(name="demo", kind="demo")
    return make_settings(tmp_path, database_url, providers=[demo, keyed])


async def test_every_id_argument_refuses_another_users_rows(api: ApiServer) -> None:
    schema = build_schema(api.settings)._schema
    targets = id_paths(schema)
    names = {str(t) for t in targets}
    # The walker itself must see the obvious ones, or it walks nothing.
    for expected in (
        "Query.conversation(id)",
        "Mutation.sendMessage(input.conversationId)",
        "Mutation.sendMessage(input.attachmentIds)",
        "Subscription.streamEvents(streamId)",
        "Mutation.rateMessage(id)",
        "Mutation.regenerateTitle(id)",
        "Mutation.createShareLink(upToMessageId)",
        "Mutation.revokeShareLink(id)",
    ):
        assert expected in names, f"walker missed {expected}: {sorted(names)}"
    for root, field_name, path in LIST_FILTERS:
        assert str(IdPath(root, field_name, path)) in names, "stale LIST_FILTERS entry"

    alice = await make_rows(api, "alice")
    bob = await make_rows(api, "bob")
    assert "provider key" in alice, "the walker must try a provider key too"
    alice_before = await snapshot(api, "alice", alice)
    bob_before = await snapshot(api, "bob", bob)
    builder = ArgumentBuilder(own=bob)

    problems: list[str] = []
    skipped: list[str] = []
    checked = 0
    ws, subscriber = await ws_subscriber(api, "bob")
    try:
        for target in targets:
            try:
                calls = {
                    label: builder.call(schema, target, value) for label, value in alice.items()
                }
                missing_call = builder.call(schema, target, new_id())
            except CannotBuild as exc:
                skipped.append(f"{target}: {exc}")
                continue

            async def run(call: Call, root: str = target.root) -> dict[str, Any]:
                if root == "Subscription":
                    return await subscriber.run(call.query, call.variables)
                return await http_call(api, call, "bob")

            missing = outcome(await run(missing_call))
            filter_arg = (target.root, target.field_name, target.path) in LIST_FILTERS
            if filter_arg:
                if missing[0] is not None or not is_empty(missing[2]):
                    problems.append(f"{target} with a missing id: {missing}")
            elif missing[0] != "NOT_FOUND" or missing[2] is not None:
                problems.append(f"{target} with a missing id: {missing}")
            for label, call in calls.items():
                got = outcome(await run(call))
                checked += 1
                if got != missing:
                    problems.append(
                        f"{target} with alice's {label}: {got}, but a missing id gives {missing}"
                    )
    finally:
        await ws.close()

    assert skipped == [], "fields with an ID argument the walker could not call:\n" + "\n".join(
        skipped
    )
    assert problems == [], "\n".join(problems)
    assert checked == len(targets) * len(alice)
    assert await snapshot(api, "alice", alice) == alice_before
    assert await snapshot(api, "bob", bob) == bob_before
    # Fields without an ID argument that read owned rows: each user sees only their own.
    for words, who in (("alice private note", "alice"), ("bob private note", "bob")):
        for user in ("alice", "bob"):
            found = await api.gql(
                "query($q: String!) { search(query: $q) { edges { node { message { id } } } } }",
                {"q": words},
                user=user,
            )
            ids = {e["node"]["message"]["id"] for e in found["search"]["edges"]}
            if user == who:
                assert (alice if who == "alice" else bob)["message"] in ids
            else:
                assert ids == set()


async def test_stream_events_subscription_refuses_another_users_stream(api: ApiServer) -> None:
    alice = await make_rows(api, "alice")
    query = (
        "subscription($s: ID, $m: ID) { streamEvents(streamId: $s, messageId: $m) {"
        " __typename ... on StreamSnapshot { text } } }"
    )
    ws, bob = await ws_subscriber(api, "bob")
    try:
        by_stream = await bob.run(query, {"s": alice["stream"]})
        by_message = await bob.run(query, {"m": alice["answer"]})
        missing = await bob.run(query, {"s": new_id()})
    finally:
        await ws.close()
    for result in (by_stream, by_message, missing):
        assert outcome(result)[0] == "NOT_FOUND", result
        assert "text" not in json.dumps(result.get("data"))
    assert outcome(by_stream) == outcome(missing)
    # Alice herself still gets her snapshot over the same kind of connection.
    ws, own = await ws_subscriber(api, "alice")
    try:
        mine = await own.run(query, {"s": alice["stream"]})
    finally:
        await ws.close()
    assert mine.get("errors") is None, mine
    assert mine["data"]["streamEvents"]["__typename"] == "StreamSnapshot"
    assert mine["data"]["streamEvents"]["text"]
