"""The message tree of a conversation: paths, siblings, choosing a branch, forking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from gql_api import feeds
from gql_api.db import Database
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import require_id
from gql_api.errors import Conflict, NotFound
from gql_api.feeds import Publisher
from models.base import utcnow
from models.conversations import Conversation
from models.messages import Message, owned_message
from models.projects import adjust_count


def path_ids(leaf_id: str) -> Select[tuple[str]]:
    """Ids of a message and all its ancestors (a recursive query; UNION stops on any cycle)."""
    path = (
        select(Message.id, Message.parent_id)
        .where(Message.id == leaf_id)
        .cte("path", recursive=True)
    )
    up = aliased(Message)
    path = path.union(select(up.id, up.parent_id).join(path, up.id == path.c.parent_id))
    return select(path.c.id)


async def path_to(session: AsyncSession, leaf_id: str) -> list[Message]:
    """The messages from the first turn down to `leaf_id`, in order."""
    rows = list(await session.scalars(select(Message).where(Message.id.in_(path_ids(leaf_id)))))
    by_id = {m.id: m for m in rows}
    ordered: list[Message] = []
    current = by_id.get(leaf_id)
    while current is not None and len(ordered) < len(rows):
        ordered.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    ordered.reverse()
    return ordered


def child_created_at(parent: Message | None) -> dt.datetime:
    """A child's time is after its parent's, so a path sorts by time the way it reads."""
    now = utcnow()
    if parent is not None and parent.created_at >= now:
        return parent.created_at + dt.timedelta(microseconds=1)
    return now


async def deepest_leaf(session: AsyncSession, message_id: str) -> str:
    """Below a message, follow the most recent child down to a leaf: choosing an alternative
    shows the turns that followed it on its own branch."""
    current = message_id
    seen = {current}
    while True:
        child = await session.scalar(
            select(Message.id)
            .where(Message.parent_id == current)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
        if child is None or child in seen:
            return current
        seen.add(child)
        current = child


@dataclass
class Selection:
    conversation: Conversation
    leaf_id: str


async def select_branch(
    *, db: Database, broker: Publisher, user: CurrentUser, message_id: str
) -> Selection:
    """Make the path through `message_id` (down to its deepest most recent leaf) current."""
    require_id(message_id, "messageId")
    async with db.write() as session:
        found = await owned_message(session, user.id, message_id, for_update=True)
        if found is None:
            raise NotFound("Message not found")
        _, conversation = found
        leaf_id = await deepest_leaf(session, message_id)
        conversation.last_message_id = leaf_id
    await branch_event(db, broker, user, conversation.id, leaf_id)
    return Selection(conversation=conversation, leaf_id=leaf_id)


async def branch_event(
    db: Database, broker: Publisher, user: CurrentUser, conversation_id: str, leaf_id: str
) -> None:
    await feeds.conversation_event(
        db,
        broker,
        user.id,
        conversation_id,
        "branch.selected",
        conversationId=conversation_id,
        leafId=leaf_id,
    )


async def fork_conversation(
    *, db: Database, broker: Publisher, user: CurrentUser, message_id: str
) -> Conversation:
    """A new conversation holding copies of the path up to `message_id` (new ids)."""
    require_id(message_id, "messageId")
    async with db.write() as session:
        found = await owned_message(session, user.id, message_id)
        if found is None:
            raise NotFound("Message not found")
        message, source = found
        if message.status == "streaming":
            raise Conflict("Message is still being generated; stop it first")
        path = await path_to(session, message_id)
        now = utcnow()
        fork = Conversation(
            owner_id=user.id,
            project_id=source.project_id,
            title=source.title,
            model=source.model,
            system_prompt=source.system_prompt,
            tools_enabled=source.tools_enabled,
            created_at=now,
            updated_at=now,
        )
        session.add(fork)
        await session.flush()
        await adjust_count(session, source.project_id, +1)
        copies: dict[str, Message] = {}
        parent: Message | None = None
        for original in path:
            copy = Message(
                conversation_id=fork.id,
                parent_id=parent.id if parent else None,
                reply_to_id=copies[original.reply_to_id].id
                if original.reply_to_id in copies
                else None,
                role=original.role,
                content=original.content,
                parts=list(original.parts or []),
                status=original.status,
                model=original.model,
                input_tokens=original.input_tokens,
                output_tokens=original.output_tokens,
                error_code=original.error_code,
                error_message=original.error_message,
                created_at=child_created_at(parent),
                edited_at=original.edited_at,
            )
            session.add(copy)
            await session.flush()
            copies[original.id] = copy
            parent = copy
        fork.last_message_id = parent.id if parent else None
    await feeds.user_event(
        db, broker, user.id, "conversation.created", conversation=feeds.row_to_json(fork)
    )
    return fork


async def siblings_of(db: Database, keys: list[tuple[str, str | None]]) -> list[list[str]]:
    """Ids of the children of each (conversation, parent), oldest first: a message's siblings
    including itself. One query for all the keys."""
    conversations = list({c for c, _ in keys})
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Message.conversation_id, Message.parent_id, Message.id)
                .where(
                    Message.conversation_id.in_(conversations),
                    and_(
                        Message.parent_id.in_([p for _, p in keys if p is not None])
                        | Message.parent_id.is_(None)
                    ),
                )
                .order_by(Message.created_at, Message.id)
            )
        ).all()
    grouped: dict[tuple[str, str | None], list[str]] = {}
    for conversation_id, parent_id, message_id in rows:
        grouped.setdefault((conversation_id, parent_id), []).append(message_id)
    return [grouped.get(key, []) for key in keys]
