"""Every event of every live feed, with every field selected, arrives whole.

The selection is built from the schema, so a field or an event type added later is selected (and
must be triggered below) without touching the query; each event kind is caused for real, through
the API, and read over a websocket.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)

from gql_api.auth import Identity
from gql_api.domain.pagination import decode_cursor
from models.feed_events import events_after
from resolvers import feeds as feed_types
from resolvers.schema import build_schema
from tests.conftest import make_settings
from tests.feed_support import Feed, subscribed
from tests.servers import RedisServer, start_redis
from tests.streaming import send, wait_finished
from tests.support import ApiServer, start_api

# Subscriptions that are not feeds of changes (the answer stream has its own tests).
NOT_FEEDS = {"streamEvents"}
RESYNC = ("FeedResync", None)
# Which `change` values each event type carries, per the event kinds the server maps.
CHANGES = {
    "ConversationChanged": feed_types.CONVERSATION_CHANGES,
    "MessageChanged": feed_types.MESSAGE_CHANGES,
    "StreamChanged": feed_types.STREAM_CHANGES,
    "ProjectChanged": feed_types.PROJECT_CHANGES,
}


def kinds(events: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(e["__typename"], e.get("change")) for e in events}


async def until(feed: Feed, want: set[tuple[str, str | None]], start: int = 0) -> None:
    """Wait until the feed got each kind in `want` (from event `start` on); errors fail at once."""
    while not want <= kinds(feed.events[start:]):
        assert not feed.errors(), feed.errors()
        await asyncio.sleep(0.02)


def selection(type_: Any, path: tuple[str, ...] = ()) -> str:
    """Every field of `type_`, recursively; unions and their members in full."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if named.name in path:
        raise AssertionError(f"cycle through {named.name}: choose where the walker stops")
    inner = (*path, named.name)
    if isinstance(named, GraphQLUnionType):
        members = " ".join(f"... on {t.name}{selection(t, inner)}" for t in named.types)
        return f" {{ __typename {members} }}"
    assert isinstance(named, GraphQLObjectType), named
    fields = []
    for name, object_field in named.fields.items():
        required = [a for a, arg in object_field.args.items() if is_non_null_type(arg.type)]
        assert not required, f"{named.name}.{name} needs arguments {required}"
        fields.append(f"{name}{selection(object_field.type, inner)}")
    return f" {{ __typename {' '.join(fields)} }}"


def check_shape(value: Any, type_: Any, where: str) -> None:
    """The answer has every selected field, and each DateTime parses as an aware datetime."""
    named = get_named_type(type_)
    if value is None:
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_shape(item, type_, f"{where}[{i}]")
        return
    if named.name == "DateTime":
        assert dt.datetime.fromisoformat(value).tzinfo is not None, where
        return
    if is_leaf_type(named):
        return
    concrete = named
    if isinstance(named, GraphQLUnionType):
        concrete = next(t for t in named.types if t.name == value["__typename"])
    fields: dict[str, GraphQLField] = concrete.fields
    assert set(value) == {"__typename", *fields}, where
    for name, object_field in fields.items():
        check_shape(value[name], object_field.type, f"{where}.{name}")


def feed_fields(schema: GraphQLSchema) -> dict[str, GraphQLField]:
    assert schema.subscription_type is not None
    found = dict(schema.subscription_type.fields)
    for name in NOT_FEEDS:
        assert found.pop(name, None) is not None, f"stale NOT_FEEDS entry {name}"
    return found


def union_of(field: GraphQLField) -> GraphQLUnionType:
    union = get_named_type(field.type)
    assert isinstance(union, GraphQLUnionType), field
    return union


def expected_events(union: GraphQLUnionType) -> set[tuple[str, str | None]]:
    expected: set[tuple[str, str | None]] = set()
    for member in union.types:
        changes = CHANGES.get(member.name)
        if "change" in member.fields:
            assert changes is not None, f"no kinds known for {member.name}.change"
            expected |= {(member.name, change.name) for change in changes.values()}
        else:
            expected.add((member.name, None))
    return expected


async def mutate(api: ApiServer, query: str, **variables: Any) -> dict[str, Any]:
    data = await api.gql(query, variables)
    result: dict[str, Any] = next(iter(data.values()))
    return result


async def cause_every_event(
    api: ApiServer, redis: RedisServer, conversation_id: str, conversation: Feed
) -> None:
    """One of each event kind of the activity and conversation feeds, caused for real."""
    cid = conversation_id
    project = await mutate(api, 'mutation { createProject(name: "P") { id } }')
    pid = project["id"]
    await mutate(api, 'mutation($p: ID!) { renameProject(id: $p, name: "Q") { id } }', p=pid)
    await mutate(api, 'mutation { createConversation(input: {title: "other"}) { id } }')
    await mutate(api, 'mutation($c: ID!) { renameConversation(id: $c, title: "T") { id } }', c=cid)
    await mutate(
        api, "mutation($c: ID!) { setConversationPinned(id: $c, pinned: true) { id } }", c=cid
    )
    await mutate(api, 'mutation($c: ID!) { saveDraft(id: $c, draft: "d") { id } }', c=cid)
    await mutate(api, "mutation($c: ID!) { setConversationTools(id: $c, tools: []) { id } }", c=cid)
    await mutate(
        api,
        "mutation($c: ID!, $p: ID) { moveConversation(id: $c, projectId: $p) { id } }",
        c=cid,
        p=pid,
    )
    await mutate(
        api, "mutation($c: ID!) { setConversationArchived(id: $c, archived: true) { id } }", c=cid
    )
    added = await mutate(
        api,
        'mutation($c: ID!) { addMessage(input: {conversationId: $c, content: "a"}) { id } }',
        c=cid,
    )
    await mutate(
        api, 'mutation($m: ID!) { editMessage(id: $m, content: "b") { id } }', m=added["id"]
    )
    sent = await send(api, cid, "hello [demo:words=3]")
    await wait_finished(api, sent["stream"]["id"])
    await mutate(api, "mutation($m: ID!) { selectBranch(messageId: $m) { leafId } }", m=added["id"])
    await mutate(api, "mutation($m: ID!) { deleteMessage(id: $m) { id } }", m=added["id"])
    # A broker outage: the conversation feed is told it may have missed events (the activity
    # feed reads them back from its log instead).
    before = len(conversation.events)
    redis.stop()
    redis.start()
    async with asyncio.timeout(20):
        await until(conversation, {RESYNC}, before)
        while not api.services.broker.healthy:
            await asyncio.sleep(0.02)
    await mutate(api, "mutation($p: ID!) { deleteProject(id: $p) { id } }", p=pid)
    await mutate(api, "mutation($c: ID!) { deleteConversation(id: $c) { id } }", c=cid)


async def forgotten_after(api: ApiServer, cursor: str) -> None:
    """Wait until the retention job deleted the event that follows `cursor`."""
    (position,) = decode_cursor(cursor, (int,))
    user = await api.services.users.resolve(Identity(subject="alice"))
    async with asyncio.timeout(20):
        while True:
            async with api.services.db.read() as session:
                rows = await events_after(session, user.id, position, 1)
            if not rows or rows[0].cursor != position + 1:
                return
            await asyncio.sleep(0.05)


def subscription(name: str, field: GraphQLField) -> str:
    """The feed with every argument as a variable and every field selected."""
    definitions = ", ".join(f"${arg}: {value.type}" for arg, value in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    header = f"({definitions})" if definitions else ""
    call = f"({arguments})" if arguments else ""
    return f"subscription Walk{header} {{ {name}{call}{selection(field.type)} }}"


@pytest.mark.redis
async def test_every_field_of_every_feed_event_arrives(
    tmp_path: Path, database_url: str, redis_server: RedisServer
) -> None:
    redis = start_redis(tmp_path)  # a private one: this test restarts it
    try:
        settings = make_settings(
            tmp_path,
            database_url,
            broker_url=redis.url,
            feed_retention_seconds=1.0,  # so that a cursor expires (FeedResync) in the test
            cleanup_interval_seconds=0.2,
        )
        async with start_api(settings) as api:
            schema = build_schema(settings)._schema
            fields = feed_fields(schema)
            assert set(fields) == {"activity", "conversationEvents"}, "cause the new feed's events"
            cid = (
                await mutate(api, 'mutation { createConversation(input: {title: "c"}) { id } }')
            )["id"]
            query = {name: subscription(name, f) for name, f in fields.items()}
            want = {name: expected_events(union_of(f)) for name, f in fields.items()}
            async with (
                subscribed(api, query["activity"], {"after": None}) as activity,
                subscribed(api, query["conversationEvents"], {"conversationId": cid}) as talk,
            ):
                await cause_every_event(api, redis, cid, talk)
                async with asyncio.timeout(20):
                    await until(talk, want["conversationEvents"])
                    await until(activity, want["activity"] - {RESYNC})
                # A reconnect with a cursor that is no longer kept.
                cursor = activity.events[0]["cursor"]
                await forgotten_after(api, cursor)
                async with subscribed(api, query["activity"], {"after": cursor}) as resumed:
                    async with asyncio.timeout(20):
                        await until(resumed, {RESYNC})
            received = {
                "activity": activity.events + resumed.events,
                "conversationEvents": talk.events,
            }
            for name, events in received.items():
                assert want[name] <= kinds(events), name
                for i, event in enumerate(events):
                    check_shape(event, fields[name].type, f"{name}[{i}]")
    finally:
        redis.stop()
