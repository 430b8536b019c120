"""Live sync: two tabs of one user stay identical; other users' events never arrive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gql import GraphQLRequest

from gql_api import feeds
from gql_api.auth import Identity
from gql_api.domain import live
from tests.conftest import make_settings
from tests.streaming import new_conversation, send, wait_finished
from tests.support import ApiServer, GraphQLErrors, start_api

ACTIVITY = """subscription { activity {
  __typename
  ... on ConversationChanged { change conversation { id title pinned archived projectId } }
  ... on ConversationDeleted { conversationId }
  ... on MessageChanged { change message { id role content status conversationId } }
  ... on MessageDeleted { messageId conversationId }
  ... on StreamChanged { change stream { id status } }
  ... on ProjectChanged { change project { id name } }
  ... on ProjectDeleted { projectId }
} }"""

CONVERSATION_EVENTS = """subscription($c: ID!) { conversationEvents(conversationId: $c) {
  __typename
  ... on MessageChanged { change message { id content status } }
  ... on MessageDeleted { messageId }
  ... on ConversationDeleted { conversationId }
} }"""


class Feed:
    """A background subscription collecting events, with arrival times."""

    def __init__(self) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def next(self, index: int, timeout: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while len(self.events) <= index:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events[index][1]


@asynccontextmanager
async def subscribed(
    api: ApiServer, query: str, variables: dict[str, Any] | None = None, *, user: str = "alice"
) -> AsyncIterator[Feed]:
    feed = Feed()
    ready = asyncio.Event()

    async def run() -> None:
        async with api.ws(user) as session:
            request = GraphQLRequest(query, variable_values=variables or {})
            agen = session.subscribe(request)
            ready.set()
            async for event in agen:
                feed.events.append((time.perf_counter(), next(iter(event.values()))))
                feed.arrived.set()

    task = asyncio.create_task(run())
    await ready.wait()
    # The subscribe frame is sent; wait until the server holds the channel subscription.
    channels = api.services.broker.stats().channels
    async with asyncio.timeout(5):
        while api.services.broker.stats().channels <= channels and not task.done():
            await asyncio.sleep(0.005)
    try:
        yield feed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_two_tabs_see_each_others_changes(api: ApiServer) -> None:
    async with subscribed(api, ACTIVITY) as tab1, api.ws() as tab2:

        async def act(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            started = time.perf_counter()
            result: dict[str, Any] = await tab2.execute(
                GraphQLRequest(query, variable_values=variables or {})
            )
            latencies.append(started)
            return result

        latencies: list[float] = []
        created = await act('mutation { createConversation(input: {title: "Trip"}) { id } }')
        cid = created["createConversation"]["id"]
        await act(
            'mutation($c: ID!) { renameConversation(id: $c, title: "Trip to Rome") { id } }',
            {"c": cid},
        )
        await act(
            "mutation($c: ID!) { setConversationPinned(id: $c, pinned: true) { id } }", {"c": cid}
        )
        project = await act('mutation { createProject(name: "Travel") { id } }')
        pid = project["createProject"]["id"]
        await act(
            "mutation($c: ID!, $p: ID) { moveConversation(id: $c, projectId: $p) { id } }",
            {"c": cid, "p": pid},
        )
        added = await act(
            'mutation($c: ID!) { addMessage(input: {conversationId: $c, content: "Hi"}) { id } }',
            {"c": cid},
        )
        mid = added["addMessage"]["id"]
        await act('mutation($m: ID!) { editMessage(id: $m, content: "Hello") { id } }', {"m": mid})
        await act("mutation($m: ID!) { deleteMessage(id: $m) { id } }", {"m": mid})
        await act(
            "mutation($c: ID!) { setConversationArchived(id: $c, archived: true) { id } }",
            {"c": cid},
        )
        await act("mutation($c: ID!) { deleteConversation(id: $c) { id } }", {"c": cid})

        expected = [
            ("ConversationChanged", "CREATED"),
            ("ConversationChanged", "RENAMED"),
            ("ConversationChanged", "PINNED"),
            ("ProjectChanged", "CREATED"),
            ("ConversationChanged", "MOVED"),
            ("MessageChanged", "ADDED"),
            ("MessageChanged", "UPDATED"),
            ("MessageDeleted", None),
            ("ConversationChanged", "ARCHIVED"),
            ("ConversationDeleted", None),
        ]
        try:
            got = [await tab1.next(i) for i in range(len(expected))]
        except TimeoutError:
            raise AssertionError([e for _, e in tab1.events]) from None
        assert [(e["__typename"], e.get("change")) for e in got] == expected
        # What a client needs to update its view comes with the event.
        assert got[1]["conversation"]["title"] == "Trip to Rome"
        assert got[2]["conversation"]["pinned"] is True
        assert got[4]["conversation"]["projectId"] == pid
        assert got[6]["message"]["content"] == "Hello"
        assert got[7] == {"__typename": "MessageDeleted", "messageId": mid, "conversationId": cid}
        assert got[9] == {"__typename": "ConversationDeleted", "conversationId": cid}
        # Events arrive as the mutations are made: each one before the next mutation began.
        arrivals = [t for t, _ in tab1.events[: len(expected)]]
        for arrived, next_started in zip(arrivals, latencies[1:], strict=False):
            assert arrived <= next_started + 1.0


async def test_stream_start_and_finish_reach_the_other_tab(api: ApiServer) -> None:
    conversation = await new_conversation(api)
    async with subscribed(api, ACTIVITY) as tab1:
        sent = await send(api, conversation, "hello [demo:words=20]")
        await wait_finished(api, sent["stream"]["id"])
        kinds = [(await tab1.next(i))["__typename"] for i in range(4)]
        assert kinds == ["MessageChanged", "MessageChanged", "StreamChanged", "StreamChanged"]
        finished = await tab1.next(3)
        assert finished["change"] == "FINISHED" and finished["stream"]["status"] == "COMPLETED"
        final = await tab1.next(4)
        assert final["change"] == "UPDATED" and final["message"]["status"] == "COMPLETE"


async def test_other_users_events_never_arrive(api: ApiServer) -> None:
    alice_conversation = await new_conversation(api, "alice")
    async with subscribed(api, ACTIVITY, user="bob") as bob:
        await api.gql('mutation { createConversation(input: {title: "alice only"}) { id } }')
        await api.gql(
            'mutation($c: ID!) { renameConversation(id: $c, title: "x") { id } }',
            {"c": alice_conversation},
        )
        await send(api, alice_conversation, "secret [demo:words=5]")
        # Bob's own change is the first thing Bob sees.
        await api.gql('mutation { createConversation(input: {title: "bob"}) { id } }', user="bob")
        first = await bob.next(0)
        assert first["conversation"]["title"] == "bob"
        assert len(bob.events) == 1


async def test_conversation_feed(api: ApiServer) -> None:
    cid = await new_conversation(api)
    async with subscribed(api, CONVERSATION_EVENTS, {"c": cid}) as tab1:
        added = await api.gql(
            'mutation($c: ID!) { addMessage(input: {conversationId: $c, content: "one"}) { id } }',
            {"c": cid},
        )
        mid = added["addMessage"]["id"]
        await api.gql("mutation($m: ID!) { deleteMessage(id: $m) { id } }", {"m": mid})
        await api.gql("mutation($c: ID!) { deleteConversation(id: $c) { id } }", {"c": cid})
        events = [await tab1.next(i) for i in range(3)]
    assert events == [
        {
            "__typename": "MessageChanged",
            "change": "ADDED",
            "message": {"id": mid, "content": "one", "status": "COMPLETE"},
        },
        {"__typename": "MessageDeleted", "messageId": mid},
        {"__typename": "ConversationDeleted", "conversationId": cid},
    ]


async def test_conversation_feed_of_another_user_is_not_found(api: ApiServer) -> None:
    cid = await new_conversation(api)
    async with api.ws("bob") as session:
        request = GraphQLRequest(CONVERSATION_EVENTS, variable_values={"c": cid})
        try:
            async for _ in session.subscribe(request):
                raise AssertionError("Bob must not get Alice's events")
        except Exception as exc:  # gql raises TransportQueryError with the error payload
            assert "NOT_FOUND" in str(getattr(exc, "errors", exc))
        else:
            raise AssertionError("expected NOT_FOUND")
    try:
        await api.gql("query($c: ID!) { conversation(id: $c) { id } }", {"c": cid}, user="bob")
    except GraphQLErrors as exc:
        assert exc.code == "NOT_FOUND"


async def test_a_lagging_activity_feed_catches_up_from_the_log(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, subscription_queue_size=2)
    async with start_api(settings) as api:
        broker, db = api.services.broker, api.services.db
        user = await api.services.users.resolve(Identity(subject="lagging"))
        feed = live.user_feed(db=db, broker=broker, user=user)
        baseline = broker.stats().subscriptions  # the engine's own control channel
        reader = asyncio.create_task(anext(feed))
        async with asyncio.timeout(5):
            while broker.stats().subscriptions == baseline:
                await asyncio.sleep(0.005)
        for i in range(10):
            await feeds.user_event(db, broker, user.id, "project.deleted", projectId=str(i))
        # 10 events into a queue of 2 that nobody drained: the broker dropped some, and the
        # feed read them back from the log, in order.
        got = [await asyncio.wait_for(reader, 5)]
        got += [await asyncio.wait_for(anext(feed), 5) for _ in range(9)]
        assert [(e["cursor"], e["projectId"]) for e in got] == [(i + 1, str(i)) for i in range(10)]
        await feed.aclose()


async def test_a_lagging_conversation_feed_gets_a_resync_not_silent_loss(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, subscription_queue_size=2)
    async with start_api(settings) as api:
        broker, db = api.services.broker, api.services.db
        cid = await new_conversation(api)
        user = await api.services.users.resolve(Identity(subject="alice"))
        feed = live.conversation_feed(db=db, broker=broker, user=user, conversation_id=cid)
        baseline = broker.stats().subscriptions
        reader = asyncio.create_task(anext(feed))
        async with asyncio.timeout(5):
            while broker.stats().subscriptions == baseline:
                await asyncio.sleep(0.005)
        for i in range(10):
            await feeds.conversation_event(
                db, broker, user.id, cid, "message.deleted", messageId=str(i), conversationId=cid
            )
        # Some were dropped, and the reader is told so (at once, or after the one event it was
        # already waiting for).
        got = [await asyncio.wait_for(reader, 5)]
        if got[0]["type"] != "resync":
            got.append(await asyncio.wait_for(anext(feed), 5))
        # With the cursor of the user's newest event, for `activity(after:)` after the refetch.
        assert {**live.RESYNC_EVENT, "cursor": 11} in got
        await feed.aclose()
