"""The activity feed across reconnects: `activity(after:)` replays exactly what was missed, then
goes live, with no gap and no duplicate, even while events keep coming."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from gql_api import feeds
from gql_api.auth import Identity
from gql_api.domain import live
from gql_api.domain.pagination import encode_cursor
from models.feed_events import FeedEvent
from tests.conftest import make_settings
from tests.factories import count_rows
from tests.feed_support import subscribed
from tests.support import ApiServer, start_api

ACTIVITY = """subscription($after: String) { activity(after: $after) {
  __typename
  ... on ProjectChanged { cursor change project { name } }
  ... on ProjectDeleted { cursor projectId }
  ... on ConversationChanged { cursor change conversation { title } }
  ... on FeedResync { cursor }
} }"""
CREATE_PROJECT = "mutation($n: String!) { createProject(name: $n) { id } }"
ROUNDS = 6


async def create_projects(api: ApiServer, names: list[str], *, user: str = "alice") -> None:
    for name in names:
        await api.gql(CREATE_PROJECT, {"n": name}, user=user)


def names_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["project"]["name"] for e in events]


async def test_a_reconnect_gets_exactly_the_missed_events_then_live_ones(api: ApiServer) -> None:
    async with subscribed(api, ACTIVITY) as first:
        await create_projects(api, ["a", "b", "c"])
        seen = await first.wait_for(3)
    assert names_of(seen) == ["a", "b", "c"]
    assert [e["cursor"] for e in seen] == [encode_cursor(n) for n in (1, 2, 3)]
    # Offline meanwhile:
    await create_projects(api, ["d", "e"])
    async with subscribed(api, ACTIVITY, {"after": seen[-1]["cursor"]}) as second:
        missed = await second.wait_for(2)
        await create_projects(api, ["f"])
        got = await second.wait_for(3)
        await asyncio.sleep(0.2)  # a duplicate would come by now
    assert names_of(missed) == ["d", "e"]
    assert names_of(got) == ["d", "e", "f"] and len(second.events) == 3
    assert [e["cursor"] for e in got] == [encode_cursor(n) for n in (4, 5, 6)]


async def test_replay_racing_new_events_has_no_gap_and_no_duplicate(api: ApiServer) -> None:
    """Events keep coming while a client reconnects: before, during and after its replay."""
    for round_ in range(ROUNDS):
        rng = random.Random(round_)
        user = f"racer{round_}"
        backlog = rng.randint(0, 40)
        await create_projects(api, [f"p{i}" for i in range(backlog)], user=user)
        after = rng.randint(0, backlog)
        total = backlog + rng.randint(5, 20)

        async def produce(
            rng: random.Random = rng, user: str = user, first: int = backlog, total: int = total
        ) -> None:
            for i in range(first, total):
                await asyncio.sleep(rng.uniform(0, 0.004))
                await create_projects(api, [f"p{i}"], user=user)

        producer = asyncio.create_task(produce())
        await asyncio.sleep(rng.uniform(0, 0.05))
        variables = {"after": encode_cursor(after)}
        async with subscribed(api, ACTIVITY, variables, user=user) as feed:
            await producer
            got = await feed.wait_for(total - after)
            await asyncio.sleep(0.1)  # a duplicate would come by now
        assert names_of(got) == [f"p{i}" for i in range(after, total)], round_
        assert [e["cursor"] for e in got] == [encode_cursor(n) for n in range(after + 1, total + 1)]
        assert len(feed.events) == total - after


async def test_an_expired_cursor_gets_one_feed_resync_then_live_events(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, feed_retention_seconds=0.3, cleanup_interval_seconds=0.1
    )
    async with start_api(settings) as api:
        await create_projects(api, ["a", "b", "c"])
        async with asyncio.timeout(20):
            while await count_rows(api, FeedEvent):
                await asyncio.sleep(0.05)
        async with subscribed(api, ACTIVITY, {"after": encode_cursor(1)}) as expired:
            resync = (await expired.wait_for(1))[0]
            await create_projects(api, ["d"])
            live = (await expired.wait_for(2))[1]
        assert resync == {"__typename": "FeedResync", "cursor": encode_cursor(3)}
        assert live["project"]["name"] == "d" and live["cursor"] == encode_cursor(4)
        # The newest cursor is not expired, even with every event deleted: nothing was missed.
        await create_projects(api, ["e"])
        async with subscribed(api, ACTIVITY, {"after": encode_cursor(5)}) as current:
            await create_projects(api, ["f"])
            assert names_of(await current.wait_for(1)) == ["f"]


async def test_bad_cursors_are_bad_user_input(api: ApiServer) -> None:
    await create_projects(api, ["a", "b"])
    for cursor in (
        "",
        "not a cursor",
        encode_cursor(-1),
        encode_cursor("1"),
        encode_cursor(1, 2),
        encode_cursor(3),  # not given out yet
        "x" * 10_000,
    ):
        async with subscribed(api, ACTIVITY, {"after": cursor}) as feed:
            errors = (await feed.wait_for(1))[0]
        assert errors["__typename"] == "errors", cursor
        assert errors["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    # The feed still works for a good one.
    async with subscribed(api, ACTIVITY, {"after": encode_cursor(1)}) as feed:
        assert names_of(await feed.wait_for(1)) == ["b"]


async def test_another_users_events_never_replay(api: ApiServer) -> None:
    await create_projects(api, ["alice1", "alice2", "alice3"])
    await create_projects(api, ["bob1"], user="bob")
    async with subscribed(api, ACTIVITY, {"after": encode_cursor(0)}, user="bob") as bob:
        await create_projects(api, ["alice4"])
        await create_projects(api, ["bob2"], user="bob")
        got = await bob.wait_for(2)
        await asyncio.sleep(0.1)
    assert names_of(got) == ["bob1", "bob2"] and len(bob.events) == 2
    assert [e["cursor"] for e in got] == [encode_cursor(1), encode_cursor(2)]
    # Alice's cursor 4 means nothing in Bob's feed (he has only 2 events).
    async with subscribed(api, ACTIVITY, {"after": encode_cursor(4)}, user="bob") as bob:
        errors = (await bob.wait_for(1))[0]
    assert errors["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_event_published_late_or_never_is_read_from_the_log(api: ApiServer) -> None:
    """Two writers (processes) may publish in another order than their cursors, or a publish may
    fail: the feed takes the missing ones from the log, in order, once each."""
    db, broker = api.services.db, api.services.broker
    user = await api.services.users.resolve(Identity(subject="alice"))
    channel = feeds.user_channel(user.id)
    feed = live.user_feed(db=db, broker=broker, user=user)
    baseline = broker.stats().subscriptions
    reader = asyncio.create_task(anext(feed))
    async with asyncio.timeout(5):
        while broker.stats().subscriptions == baseline:
            await asyncio.sleep(0.005)
    first, second, third = [
        await feeds.logged(db, user.id, "project.deleted", {"projectId": str(n)}) for n in (1, 2, 3)
    ]
    await broker.publish(channel, second)  # the writer of `first` is slower, or lost it
    got = [await asyncio.wait_for(reader, 5), await asyncio.wait_for(anext(feed), 5)]
    await broker.publish(channel, first)  # late: already given
    await broker.publish(channel, third)
    got.append(await asyncio.wait_for(anext(feed), 5))
    assert [(e["cursor"], e["projectId"]) for e in got] == [(1, "1"), (2, "2"), (3, "3")]
    await feed.aclose()
