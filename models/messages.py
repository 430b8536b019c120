"""Messages, a tree per conversation (alternatives are siblings), and the queries on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base, UTCDateTime, created_column, id_column
from models.conversations import Conversation


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "client_message_id"),
        Index("ix_messages_conversation_order", "conversation_id", "created_at", "id"),
        Index("ix_messages_parent", "parent_id", "created_at", "id"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)  # user | assistant | system
    content: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Tool calls, each with the `offset` in `content` where it happened (text lives in content).
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # complete | streaming | cancelled | failed | interrupted
    status: Mapped[str] = mapped_column(String(16), default="complete", nullable=False)
    model: Mapped[str | None] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    client_message_id: Mapped[str | None] = mapped_column(String(100))
    reply_to_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("messages.id", ondelete="SET NULL")
    )
    # The message this one follows; None for the first turns. Siblings (same parent) are
    # alternatives: an edited prompt, a regenerated answer. Deleting a message re-parents its
    # children (domain.messages.delete_message); the cascade only runs with the conversation.
    parent_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("messages.id", ondelete="CASCADE")
    )
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_column()
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The owner's feedback on an answer: up | down, with an optional comment.
    rating: Mapped[str | None] = mapped_column(String(8))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


async def owned_message(
    session: AsyncSession, owner_id: str, message_id: str, *, for_update: bool = False
) -> tuple[Message, Conversation] | None:
    query = (
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, Conversation.owner_id == owner_id)
    )
    if for_update:
        # Lock the conversation row first (the order a delete of it takes), then read the
        # message in a new statement, which sees whatever was committed while we waited.
        await session.execute(
            select(Conversation.id)
            .join(Message, Conversation.id == Message.conversation_id)
            .where(Message.id == message_id, Conversation.owner_id == owner_id)
            .with_for_update(of=Conversation)
        )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def by_client_id(
    session: AsyncSession, conversation_id: str, client_message_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.client_message_id == client_message_id,
        )
    )
