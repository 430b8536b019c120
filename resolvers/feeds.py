"""Live sync: the user's activity feed and a conversation's message feed, as typed events."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from enum import Enum
from typing import Annotated, Any

import strawberry

from gql_api.context import Info
from gql_api.domain import live
from gql_api.domain.pagination import encode_cursor
from gql_api.feeds import row_from_json
from models.conversations import Conversation as ConversationRow
from models.messages import Message as MessageRow
from models.projects import Project as ProjectRow
from models.streams import Stream as StreamRow
from resolvers.types import Conversation, Message, Project, Stream

log = logging.getLogger(__name__)


@strawberry.enum(description="What happened; one enum for every kind of event.")
class Change(Enum):
    CREATED = "created"
    RENAMED = "renamed"
    PINNED = "pinned"
    ARCHIVED = "archived"
    MOVED = "moved"
    DRAFT_SAVED = "draft"
    TOOLS_CHOSEN = "tools"
    ADDED = "added"
    UPDATED = "updated"
    STARTED = "started"
    FINISHED = "finished"


CONVERSATION_CHANGES = {
    "conversation.created": Change.CREATED,
    "conversation.renamed": Change.RENAMED,
    "conversation.pinned": Change.PINNED,
    "conversation.archived": Change.ARCHIVED,
    "conversation.moved": Change.MOVED,
    "conversation.draft": Change.DRAFT_SAVED,
    "conversation.tools": Change.TOOLS_CHOSEN,
}
MESSAGE_CHANGES = {"message.added": Change.ADDED, "message.updated": Change.UPDATED}
STREAM_CHANGES = {"stream.started": Change.STARTED, "stream.finished": Change.FINISHED}
PROJECT_CHANGES = {"project.created": Change.CREATED, "project.updated": Change.UPDATED}


CURSOR_DOC = (
    "Position of this event in your activity feed: pass it as `activity(after:)` to get what "
    "follows it, after a reconnect."
)


@strawberry.type
class ConversationChanged:
    change: Change
    conversation: Conversation
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type
class ConversationDeleted:
    conversation_id: strawberry.ID
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type
class MessageChanged:
    change: Change
    message: Message
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type
class MessageDeleted:
    message_id: strawberry.ID
    conversation_id: strawberry.ID
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type(description="Another branch became the conversation's current path.")
class BranchSelected:
    conversation_id: strawberry.ID
    leaf_id: strawberry.ID


@strawberry.type
class StreamChanged:
    """An answer started or finished (`stream.status` says how)."""

    change: Change
    stream: Stream
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type
class ProjectChanged:
    change: Change
    project: Project
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type
class ProjectDeleted:
    project_id: strawberry.ID
    cursor: str = strawberry.field(description=CURSOR_DOC)


@strawberry.type(
    description="Events may have been missed (no longer kept, or a broker restart): refetch."
)
class FeedResync:
    reason: str
    cursor: str = strawberry.field(
        description="Where your activity feed goes on from: refetch, then `activity(after:)`."
    )


ActivityEvent = Annotated[
    ConversationChanged
    | ConversationDeleted
    | MessageChanged
    | MessageDeleted
    | BranchSelected
    | StreamChanged
    | ProjectChanged
    | ProjectDeleted
    | FeedResync,
    strawberry.union("ActivityEvent"),
]
ConversationEvent = Annotated[
    MessageChanged | MessageDeleted | BranchSelected | ConversationDeleted | FeedResync,
    strawberry.union("ConversationEvent"),
]


def to_event(event: dict[str, Any]) -> Any:
    """Map a feed's JSON event to its GraphQL type; None for kinds this schema doesn't know."""
    kind = event.get("type", "")
    if "cursor" not in event:
        log.warning("feed event %s without a cursor", kind)
        return None
    position = encode_cursor(event["cursor"])
    if kind == "resync":
        return FeedResync(reason="events may have been missed; refetch", cursor=position)
    if kind == "conversation.deleted":
        return ConversationDeleted(
            conversation_id=strawberry.ID(event["conversationId"]), cursor=position
        )
    if kind in CONVERSATION_CHANGES:
        row = row_from_json(ConversationRow, event["conversation"])
        return ConversationChanged(
            change=CONVERSATION_CHANGES[kind],
            conversation=Conversation.from_model(row),
            cursor=position,
        )
    if kind in MESSAGE_CHANGES:
        row = row_from_json(MessageRow, event["message"])
        return MessageChanged(
            change=MESSAGE_CHANGES[kind], message=Message.from_model(row), cursor=position
        )
    if kind == "message.deleted":
        return MessageDeleted(
            message_id=strawberry.ID(event["messageId"]),
            conversation_id=strawberry.ID(event["conversationId"]),
            cursor=position,
        )
    if kind == "branch.selected":
        return BranchSelected(
            conversation_id=strawberry.ID(event["conversationId"]),
            leaf_id=strawberry.ID(event["leafId"]),
        )
    if kind in STREAM_CHANGES:
        row = row_from_json(StreamRow, event["stream"])
        return StreamChanged(
            change=STREAM_CHANGES[kind], stream=Stream.from_model(row), cursor=position
        )
    if kind in PROJECT_CHANGES:
        row = row_from_json(ProjectRow, event["project"])
        return ProjectChanged(
            change=PROJECT_CHANGES[kind], project=Project.from_model(row), cursor=position
        )
    if kind == "project.deleted":
        return ProjectDeleted(project_id=strawberry.ID(event["projectId"]), cursor=position)
    return None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every change to your conversations, messages, answers and projects, from "
        "any tab or device, as it happens."
    )
    async def activity(
        self,
        info: Info,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The `cursor` of the last event you have: what followed it is sent "
                "first (or FeedResync if it is no longer kept), then live events."
            ),
        ] = None,
    ) -> AsyncGenerator[ActivityEvent, None]:
        user = await info.context.require_user()
        services = info.context.services
        feed = live.user_feed(db=services.db, broker=services.broker, user=user, after=after)
        async for event in feed:
            mapped = to_event(event)
            if mapped is not None:
                yield mapped

    @strawberry.subscription(description="Message changes of one conversation, as they happen.")
    async def conversation_events(
        self, info: Info, conversation_id: strawberry.ID
    ) -> AsyncGenerator[ConversationEvent, None]:
        user = await info.context.require_user()
        services = info.context.services
        feed = live.conversation_feed(
            db=services.db, broker=services.broker, user=user, conversation_id=conversation_id
        )
        async for event in feed:
            mapped = to_event(event)
            if mapped is not None:
                yield mapped
