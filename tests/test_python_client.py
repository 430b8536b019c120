"""The generated Python client (clients/python/chatgql_client, ariadne-codegen) against a real
server: queries and mutations over HTTP, an upload as a multipart request, and every subscription
over its own graphql-transport-ws websocket."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from typing import TypeVar
from urllib.parse import urlsplit

import pytest
from chatgql_client import (
    AddMessageInput,
    Change,
    ChatClient,
    CreateConversationInput,
    GraphQLClientGraphQLMultiError,
    MessageStatus,
    PreferencesInput,
    SendMessageInput,
    StreamStatus,
    Theme,
    Upload,
)
from chatgql_client.activity import (
    ActivityActivityConversationChanged,
    ActivityActivityMessageChanged,
)
from chatgql_client.conversation_events import ConversationEventsConversationEventsMessageChanged
from chatgql_client.stream_events import (
    StreamEvents,
    StreamEventsStreamEventsStreamDelta,
    StreamEventsStreamEventsStreamEnd,
    StreamEventsStreamEventsStreamSnapshot,
)
from websockets.exceptions import ConnectionClosed

from tests.attachment_support import png
from tests.support import ApiServer, today

T = TypeVar("T")


@asynccontextmanager
async def client_for(api: ApiServer, user: str = "alice") -> AsyncIterator[ChatClient]:
    token = api.token(user)
    async with ChatClient(
        url=f"{api.url}/graphql",
        headers={"Authorization": f"Bearer {token}"},
        ws_url=api.ws_url,
        ws_connection_init_payload={"authorization": f"Bearer {token}"},
    ) as client:
        yield client


async def answer_events(
    client: ChatClient,
    stream_id: str,
    offset: int = 0,
    *,
    on_event: Callable[[int], Awaitable[None]] | None = None,
) -> list[StreamEvents]:
    """Every event of one answer, until the server completes the subscription."""
    events: list[StreamEvents] = []
    async with aclosing(client.stream_events(stream_id=stream_id, offset=offset)) as stream:
        async for event in stream:
            events.append(event)
            if on_event is not None:
                await on_event(len(events))
    return events


def rebuild(events: list[StreamEvents]) -> tuple[str, StreamEventsStreamEventsStreamEnd]:
    """The text the events carry (after the offset subscribed with), checked to be contiguous,
    and the one end event."""
    first = events[0].stream_events
    assert isinstance(first, StreamEventsStreamEventsStreamSnapshot)
    start, text = first.offset, first.text
    ends = []
    for item in events[1:]:
        event = item.stream_events
        if isinstance(event, StreamEventsStreamEventsStreamDelta):
            assert event.offset == start + len(text), "a gap or an overlap in the deltas"
            text += event.text
        elif isinstance(event, StreamEventsStreamEventsStreamEnd):
            ends.append(event)
    assert len(ends) == 1 and isinstance(
        events[-1].stream_events, StreamEventsStreamEventsStreamEnd
    )
    return text[: ends[0].length - start], ends[0]


@asynccontextmanager
async def collecting(subscription: AsyncIterator[T]) -> AsyncIterator[list[T]]:
    """Consume a subscription in the background into a list; close its socket on exit."""
    items: list[T] = []

    async def run() -> None:
        async for item in subscription:
            items.append(item)

    task = asyncio.create_task(run())
    try:
        yield items
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def wait_until(condition: Callable[[], object]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def test_send_watch_and_read_back(api: ApiServer) -> None:
    async with client_for(api) as client:
        created = await client.create_conversation(CreateConversationInput(title="Typed"))
        conversation = created.create_conversation
        assert conversation.title == "Typed" and conversation.active_stream is None
        sent = (
            await client.send_message(
                SendMessageInput(
                    conversation_id=conversation.id,
                    content="Tell me about rivers [demo:words=60]",
                    client_message_id="py-1",
                )
            )
        ).send_message
        assert sent.assistant_message.status == MessageStatus.STREAMING

        events = await answer_events(client, sent.stream.id)
        text, end = rebuild(events)
        assert end.status == StreamStatus.COMPLETED and end.usage.output_tokens > 0

        message = (await client.message(sent.assistant_message.id)).message
        assert message.content == text and message.status == MessageStatus.COMPLETE
        page = (await client.messages(conversation.id, first=10)).messages
        assert [edge.node.role.value for edge in page.edges] == ["USER", "ASSISTANT"]
        listed = (await client.conversations(first=5)).conversations
        assert listed.edges[0].node.id == conversation.id
        assert listed.edges[0].node.last_message is not None
        assert (await client.stream(sent.stream.id)).stream.status == StreamStatus.COMPLETED
        assert (await client.active_streams()).active_streams == []

        # Resuming from an offset gives only the rest, then the same end.
        half = len(text) // 2
        resumed, resumed_end = rebuild(await answer_events(client, sent.stream.id, half))
        assert text[:half] + resumed == text and resumed_end.status == StreamStatus.COMPLETED


async def test_leave_a_live_answer_and_resume_it_from_the_offset_held(api: ApiServer) -> None:
    async with client_for(api) as client:
        conversation = (await client.create_conversation()).create_conversation
        sent = (
            await client.send_message(
                SendMessageInput(conversation_id=conversation.id, content="go [demo:words=1500]")
            )
        ).send_message
        held = ""
        async with aclosing(client.stream_events(stream_id=sent.stream.id, offset=0)) as stream:
            async for item in stream:
                event = item.stream_events
                if isinstance(
                    event,
                    StreamEventsStreamEventsStreamSnapshot | StreamEventsStreamEventsStreamDelta,
                ):
                    held += event.text
                if len(held) > 100:
                    break  # the websocket closes here, mid-answer
        first = (await client.stream(sent.stream.id)).stream
        assert first.status == StreamStatus.STREAMING  # left while it was still being written

        events = await answer_events(client, sent.stream.id, len(held))
        rest, end = rebuild(events)
        assert end.status == StreamStatus.COMPLETED
        stored = (await client.message(sent.assistant_message.id)).message.content
        assert held + rest == stored


async def test_stop_then_retry(api: ApiServer) -> None:
    async with client_for(api) as client:
        conversation = (await client.create_conversation()).create_conversation
        sent = (
            await client.send_message(
                SendMessageInput(conversation_id=conversation.id, content="long [demo:long]")
            )
        ).send_message
        active = (await client.conversation(conversation.id)).conversation.active_stream
        assert active is not None and active.id == sent.stream.id

        async def stop_after_some(count: int) -> None:
            if count == 5:
                stopped = (await client.stop_stream(sent.stream.id)).stop_stream
                assert stopped.status == StreamStatus.CANCELLED

        text, end = rebuild(await answer_events(client, sent.stream.id, on_event=stop_after_some))
        assert end.status == StreamStatus.CANCELLED and text
        again = (await client.stop_stream(sent.stream.id)).stop_stream  # idempotent
        assert again.status == StreamStatus.CANCELLED

        retried = (await client.retry_message(sent.assistant_message.id)).retry_message
        new_id = retried.assistant_message.id
        assert new_id != sent.assistant_message.id  # a sibling answer
        new_text, new_end = rebuild(await answer_events(client, retried.stream.id))
        assert new_end.status == StreamStatus.COMPLETED
        message = (await client.message(new_id)).message
        assert message.content == new_text
        assert message.siblings.ids == [sent.assistant_message.id, new_id]
        earlier = (await client.message(sent.assistant_message.id)).message
        assert (earlier.content, earlier.status) == (text, MessageStatus.CANCELLED)


async def test_upload_an_attachment_and_send_it(api: ApiServer) -> None:
    data = png(2, 2)
    async with client_for(api) as client:
        conversation = (await client.create_conversation()).create_conversation
        uploaded = (
            await client.upload_attachment(
                Upload("dot.png", io.BytesIO(data), "image/png"), conversation_id=conversation.id
            )
        ).upload_attachment
        assert (uploaded.name, uploaded.media_type, uploaded.size) == (
            "dot.png",
            "image/png",
            len(data),
        )
        link = urlsplit(uploaded.download_url)  # on the configured public address: take the path
        download = await api.http.get(f"{link.path}?{link.query}")
        assert download.status_code == 200 and download.content == data

        assert (await client.attachment(uploaded.id)).attachment.sha_256 == uploaded.sha_256
        listed = (await client.attachments(conversation_id=conversation.id)).attachments
        assert [a.id for a in listed] == [uploaded.id]
        storage = (await client.attachment_storage()).attachment_storage
        assert storage.used_bytes == len(data) and "image/png" in storage.allowed_media_types

        sent = (
            await client.send_message(
                SendMessageInput(
                    conversation_id=conversation.id,
                    content="what is in the picture? [demo:words=5]",
                    attachment_ids=[uploaded.id],
                )
            )
        ).send_message
        assert [a.id for a in sent.user_message.attachments] == [uploaded.id]
        await answer_events(client, sent.stream.id)

        other = await client.upload_attachment(Upload("b.txt", io.BytesIO(b"hi"), "text/plain"))
        await client.delete_attachment(other.upload_attachment.id)
        with pytest.raises(GraphQLClientGraphQLMultiError) as missing:
            await client.attachment(other.upload_attachment.id)
        assert missing.value.errors[0].extensions == {"code": "NOT_FOUND"}


async def test_feeds_deliver_changes_made_through_the_client(api: ApiServer) -> None:
    async with client_for(api) as client, client_for(api) as other_tab:
        conversation = (await client.create_conversation()).create_conversation
        broker = api.services.broker
        before = broker.stats().subscriptions
        async with (
            collecting(other_tab.activity()) as activity,
            collecting(other_tab.conversation_events(conversation.id)) as events,
        ):
            # Live once the server holds both channel subscriptions: change things after that.
            await wait_until(lambda: broker.stats().subscriptions == before + 2)
            renamed = await client.rename_conversation(conversation.id, "Renamed")
            assert renamed.rename_conversation.title == "Renamed"
            added = await client.add_message(
                AddMessageInput(conversation_id=conversation.id, content="a note")
            )
            await wait_until(lambda: len(activity) >= 2 and events)

        changed = activity[0].activity
        assert isinstance(changed, ActivityActivityConversationChanged)
        assert (changed.change, changed.conversation.title) == (Change.RENAMED, "Renamed")
        message_added = activity[1].activity
        assert isinstance(message_added, ActivityActivityMessageChanged)
        assert message_added.message.id == added.add_message.id
        message_event = events[0].conversation_events
        assert isinstance(message_event, ConversationEventsConversationEventsMessageChanged)
        assert (message_event.change, message_event.message.content) == (Change.ADDED, "a note")


async def test_everything_else(api: ApiServer) -> None:
    """The remaining operations, each once: the generated methods send what the server takes."""
    async with client_for(api) as client:
        me = (await client.me()).me
        assert me.id
        prefs = await client.update_preferences(PreferencesInput(theme=Theme.DARK))
        assert prefs.update_preferences.preferences.theme == Theme.DARK
        assert (await client.usage(from_=today(), to=today())).usage == []

        project = (await client.create_project("Folder")).create_project
        assert (await client.rename_project(project.id, "Box")).rename_project.name == "Box"
        conversation = (await client.create_conversation()).create_conversation
        moved = await client.move_conversation(conversation.id, project_id=project.id)
        assert moved.move_conversation.project_id == project.id
        assert (await client.project(project.id)).project.conversation_count == 1
        assert [p.name for p in (await client.projects()).projects] == ["Box"]
        assert (
            await client.set_conversation_pinned(conversation.id, True)
        ).set_conversation_pinned.pinned
        draft = await client.save_draft(conversation.id, draft="half a thought")
        assert draft.save_draft.draft == "half a thought"
        archived = await client.set_conversation_archived(conversation.id, True)
        assert archived.set_conversation_archived.archived
        note = (
            await client.add_message(AddMessageInput(conversation_id=conversation.id, content="x"))
        ).add_message
        assert (await client.edit_message(note.id, "y")).edit_message.content == "y"
        assert (await client.delete_message(note.id)).delete_message.id == note.id
        assert (await client.delete_project(project.id)).delete_project.id == project.id
        deleted = await client.delete_conversation(conversation.id)
        assert deleted.delete_conversation.id == conversation.id


async def test_a_refused_token_ends_the_subscription_with_4403(api: ApiServer) -> None:
    async with ChatClient(
        url=f"{api.url}/graphql",
        ws_url=api.ws_url,
        ws_connection_init_payload={"authorization": "Bearer not-a-token"},
    ) as client:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10), aclosing(client.activity()) as events:
                await anext(events)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
