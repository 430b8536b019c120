"""Streams (one generation of an assistant answer) and their persisted chunks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base, UTCDateTime, created_column, id_column
from models.users import User

ACTIVE = ("pending", "streaming")
CONTINUABLE = ("interrupted", "cancelled")  # continueMessage picks these up again
TERMINAL = ("completed", "cancelled", "failed", "interrupted")
_ACTIVE_SQL = text("status IN ('pending', 'streaming')")


class Stream(Base):
    __tablename__ = "streams"
    __table_args__ = (
        # One active stream per conversation, enforced by the database across processes.
        Index(
            "uq_streams_one_active",
            "conversation_id",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index("ix_streams_owner_status", "owner_id", "status"),
        Index("ix_streams_status_node", "status", "node_id"),
        Index("ix_streams_message", "message_id"),
        Index("ix_streams_finished", "finished_at"),
    )

    id: Mapped[str] = id_column()
    message_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
    conversation_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    owner_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    model: Mapped[str | None] = mapped_column(String(100))
    last_seq: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    length: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # code points persisted
    node_id: Mapped[str | None] = mapped_column(String(64))  # the process generating it
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Automatic continuations since the answer last started (a crash, a drain, a dropped
    # provider connection); bounded by settings.max_continuations.
    continuations: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), nullable=False
    )
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StreamChunk(Base):
    """Text of one flush: `seq` is the last delta it holds, `offset` its start in code points."""

    __tablename__ = "stream_chunks"
    __table_args__ = (PrimaryKeyConstraint("stream_id", "seq"),)

    stream_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("streams.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    offset: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)


async def running_answers(session: AsyncSession, owner_id: str) -> int:
    """Answers of this user being generated now, the owner's row locked until the transaction
    ends: two sends of one user count one after the other (SQLite's writers queue anyway)."""
    await session.execute(select(User.id).where(User.id == owner_id).with_for_update())
    count = await session.scalar(
        select(func.count())
        .select_from(Stream)
        .where(Stream.owner_id == owner_id, Stream.status.in_(ACTIVE))
    )
    return int(count or 0)
