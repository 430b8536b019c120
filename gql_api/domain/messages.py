"""Messages: list, add idempotently by client id, edit, delete."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds
from gql_api.db import Database
from gql_api.domain.branches import child_created_at, deepest_leaf, path_ids
from gql_api.domain.pagination import Page, decode_cursor, encode_cursor
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import clean_client_id, clean_text, page_size, require_id
from gql_api.errors import Conflict, InvalidInput, NotFound
from gql_api.feeds import Publisher
from gql_api.storage.base import ObjectStore
from models.attachments import Attachment
from models.base import utcnow
from models.conversations import Conversation, owned_conversation
from models.messages import Message, by_client_id, owned_message

USER_ROLES = ("user", "system")


async def list_messages(
    *,
    db: Database,
    user: CurrentUser,
    conversation_id: str,
    max_page: int,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    leaf_id: str | None = None,
) -> Page[Message]:
    """The path from the first turn to `leaf_id` (default: the conversation's current leaf),
    oldest first; `first`/`after` pages forward, `last`/`before` gives the newest N."""
    require_id(conversation_id, "conversationId")
    if leaf_id is not None:
        require_id(leaf_id, "leafId")
    if first is not None and last is not None:
        raise InvalidInput("pass either first or last, not both", field="last")
    backwards = last is not None
    limit = page_size(
        last if last is not None else 50 if first is None else first, maximum=max_page
    )
    query = select(Message).where(Message.conversation_id == conversation_id)
    # Along a path each message is newer than its parent, so time order is reading order.
    cursor = before if backwards else after
    if cursor is not None:
        created_at, last_id = decode_cursor(cursor, (dt.datetime, str))
        if backwards:
            query = query.where(
                or_(
                    Message.created_at < created_at,
                    and_(Message.created_at == created_at, Message.id < last_id),
                )
            )
        else:
            query = query.where(
                or_(
                    Message.created_at > created_at,
                    and_(Message.created_at == created_at, Message.id > last_id),
                )
            )
    order = (
        (Message.created_at.desc(), Message.id.desc())
        if backwards
        else (Message.created_at, Message.id)
    )
    async with db.read() as session:
        conversation = await owned_conversation(session, user.id, conversation_id)
        if conversation is None:
            raise NotFound("Conversation not found")
        if leaf_id is not None:
            leaf = await session.get(Message, leaf_id)
            if leaf is None or leaf.conversation_id != conversation_id:
                raise NotFound("Message not found")
        leaf_id = leaf_id or conversation.last_message_id
        if leaf_id is None:
            return Page(items=[], has_more=False, cursors=[])
        query = query.where(Message.id.in_(path_ids(leaf_id)))
        rows = list(await session.scalars(query.order_by(*order).limit(limit + 1)))
    items = rows[:limit]
    if backwards:
        items.reverse()
    return Page(
        items=items,
        has_more=len(rows) > limit,
        cursors=[encode_cursor(m.created_at, m.id) for m in items],
    )


async def get_message(*, db: Database, user: CurrentUser, message_id: str) -> Message:
    require_id(message_id, "messageId")
    async with db.read() as session:
        found = await owned_message(session, user.id, message_id)
    if found is None:
        raise NotFound("Message not found")
    return found[0]


async def insert_user_message(
    session: AsyncSession,
    conversation: Conversation,
    *,
    role: str,
    content: str,
    client_message_id: str | None,
) -> tuple[Message, bool]:
    """Add a message at the end of the current path, or return the one already stored under
    the client id; True when new."""
    if client_message_id is not None:
        existing = await by_client_id(session, conversation.id, client_message_id)
        if existing is not None:
            if existing.role != role or existing.content != content:
                raise Conflict("clientMessageId was already used for a different message")
            return existing, False
    parent = (
        await session.get(Message, conversation.last_message_id)
        if conversation.last_message_id
        else None
    )
    message = Message(
        conversation_id=conversation.id,
        parent_id=parent.id if parent else None,
        role=role,
        content=content,
        parts=[],
        client_message_id=client_message_id,
        created_at=child_created_at(parent),
    )
    session.add(message)
    await session.flush()
    conversation.last_message_id = message.id
    conversation.updated_at = message.created_at
    return message, True


async def add_message(
    *,
    db: Database,
    broker: Publisher,
    user: CurrentUser,
    conversation_id: str,
    role: str,
    content: str,
    client_message_id: str | None,
    max_chars: int,
) -> Message:
    require_id(conversation_id, "conversationId")
    if role not in USER_ROLES:
        raise InvalidInput("role must be USER or SYSTEM", field="role")
    text = clean_text(content, max_chars=max_chars)
    client_id = clean_client_id(client_message_id)
    try:
        async with db.write() as session:
            # Locked: a concurrent delete of the conversation waits, or we see it gone.
            conversation = await owned_conversation(
                session, user.id, conversation_id, for_update=True
            )
            if conversation is None:
                raise NotFound("Conversation not found")
            message, created = await insert_user_message(
                session, conversation, role=role, content=text, client_message_id=client_id
            )
    except IntegrityError:
        # A concurrent request stored the same client id first (PostgreSQL); return that row.
        async with db.read() as session:
            existing = await by_client_id(session, conversation_id, client_id or "")
        if existing is None:
            raise
        return existing
    if created:
        await message_event(db, broker, user, "message.added", message)
    return message


async def message_event(
    db: Database, broker: Publisher, user: CurrentUser, kind: str, message: Message
) -> None:
    await feeds.conversation_event(
        db, broker, user.id, message.conversation_id, kind, message=feeds.row_to_json(message)
    )


async def edit_message(
    *,
    db: Database,
    broker: Publisher,
    user: CurrentUser,
    message_id: str,
    content: str,
    max_chars: int,
) -> Message:
    require_id(message_id, "messageId")
    text = clean_text(content, max_chars=max_chars)
    async with db.write() as session:
        found = await owned_message(session, user.id, message_id, for_update=True)
        if found is None:
            raise NotFound("Message not found")
        message, _ = found
        if message.status == "streaming":
            raise Conflict("Message is still being generated; stop it first")
        message.content = text
        message.edited_at = utcnow()
    await message_event(db, broker, user, "message.updated", message)
    return message


async def delete_message(
    *, db: Database, broker: Publisher, store: ObjectStore, user: CurrentUser, message_id: str
) -> Message:
    """Delete it with its attachments; their bytes go after the commit (or to the cleanup job).
    Its replies move up to its parent, so the turns after it stay on their path."""
    require_id(message_id, "messageId")
    async with db.write() as session:
        found = await owned_message(session, user.id, message_id, for_update=True)
        if found is None:
            raise NotFound("Message not found")
        message, conversation = found
        if message.status == "streaming":
            raise Conflict("Message is still being generated; stop it first")
        keys = list(
            await session.scalars(
                select(Attachment.storage_key).where(Attachment.message_id == message_id)
            )
        )
        await session.execute(
            update(Message)
            .where(Message.parent_id == message_id)
            .values(parent_id=message.parent_id)
        )
        await session.execute(delete(Message).where(Message.id == message_id))
        if conversation.last_message_id == message_id:
            conversation.last_message_id = message.parent_id or await _newest_root_leaf(
                session, conversation.id
            )
    for key in keys:
        await store.delete(key)
    await feeds.conversation_event(
        db,
        broker,
        user.id,
        message.conversation_id,
        "message.deleted",
        messageId=message_id,
        conversationId=message.conversation_id,
    )
    return message


async def _newest_root_leaf(session: AsyncSession, conversation_id: str) -> str | None:
    root = await session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation_id, Message.parent_id.is_(None))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return None if root is None else await deepest_leaf(session, root)


async def messages_by_ids(db: Database, ids: list[str]) -> dict[str, Message]:
    async with db.read() as session:
        rows = await session.scalars(select(Message).where(Message.id.in_(ids)))
        return {row.id: row for row in rows}
