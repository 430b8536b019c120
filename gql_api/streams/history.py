"""Builds the model request for a stream from the stored conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from gql_api.db import Database
from gql_api.domain.branches import path_to
from gql_api.providers.base import Block, MediaBlock, ModelMessage, TextBlock
from gql_api.settings import Settings
from gql_api.storage.base import ObjectStore
from models.attachments import Attachment
from models.conversations import Conversation
from models.messages import Message
from models.streams import Stream
from models.users import User


@dataclass
class StreamContext:
    stream: Stream
    message: Message
    conversation: Conversation
    user: User
    history: list[ModelMessage]
    system: str
    model: str


async def load_context(
    db: Database, store: ObjectStore, settings: Settings, stream_id: str
) -> StreamContext | None:
    """Everything a generation needs; None when the stream or its message is gone."""
    async with db.read() as session:
        stream = await session.get(Stream, stream_id)
        if stream is None:
            return None
        message = await session.get(Message, stream.message_id)
        conversation = await session.get(Conversation, stream.conversation_id)
        user = await session.get(User, stream.owner_id)
        if message is None or conversation is None or user is None:
            return None
        # The answer's own branch: the path from the first turn to the message it follows.
        rows = (
            [m for m in await path_to(session, message.parent_id) if m.id != message.id]
            if message.parent_id
            else []
        )
        user_ids = [m.id for m in rows if m.role == "user"]
        attachments = list(
            await session.scalars(
                select(Attachment)
                .where(Attachment.message_id.in_(user_ids))
                .order_by(Attachment.created_at, Attachment.id)
            )
        )
    media: dict[str, list[Block]] = {}
    for att in attachments:
        data = await store.read(att.storage_key)
        media.setdefault(att.message_id or "", []).append(
            MediaBlock(media_type=att.media_type, data=data, name=att.name)
        )
    system_parts = [conversation.system_prompt or settings.system_prompt]
    turns: list[ModelMessage] = []
    for row in rows:
        if row.role == "system":
            system_parts.append(row.content)
            continue
        if not row.content.strip() and row.id not in media:
            continue  # e.g. an answer that failed before writing anything
        blocks: list[Block] = [*media.get(row.id, []), TextBlock(row.content)]
        role: Literal["user", "assistant"] = "user" if row.role == "user" else "assistant"
        if turns and turns[-1].role == role:
            # The API wants alternating turns: fold consecutive ones together.
            turns[-1] = ModelMessage(role=role, content=[*turns[-1].content, *blocks])
        else:
            turns.append(ModelMessage(role=role, content=blocks))
    # Streams name their model when they start; the rest is for rows older than that.
    model = (
        stream.model
        or conversation.model
        or user.default_model
        or settings.default_model
        or message.model
        or ""
    )
    return StreamContext(
        stream=stream,
        message=message,
        conversation=conversation,
        user=user,
        history=turns,
        system="\n\n".join(p for p in system_parts if p),
        model=model,
    )
