"""Conversations and the queries on them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base, UTCDateTime, created_column, id_column, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # The list query: owner, archived filter, pinned first, most recently updated first.
        Index("ix_conversations_owner_list", "owner_id", "archived", "pinned", "updated_at", "id"),
        Index("ix_conversations_project", "project_id", "updated_at"),
    )

    id: Mapped[str] = id_column()
    owner_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    project_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("projects.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # default: nobody chose it yet | user: set by the user, never replaced | generated: by a model
    title_source: Mapped[str] = mapped_column(String(16), default="user", nullable=False)
    model: Mapped[str | None] = mapped_column(String(100))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    draft: Mapped[str | None] = mapped_column(Text)
    # The tools its answers may use; None follows the owner's preference.
    tools_enabled: Mapped[list[str] | None] = mapped_column(JSON)
    # The leaf of the current path (the branch every tab shows and the model continues); also
    # the list's preview, loaded for many conversations with one batched query.
    last_message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


async def owned_conversation(
    session: AsyncSession, owner_id: str, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    query = select(Conversation).where(
        Conversation.id == conversation_id, Conversation.owner_id == owner_id
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)
