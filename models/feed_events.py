"""A user's activity feed, kept for a while: each event under a per-user cursor 1, 2, 3, ...

Cursors have no holes: the next one comes from a per-user counter row, bumped in the transaction
that stores the event. That row's lock makes events of one user commit in cursor order (on
PostgreSQL a second writer waits for the first to commit; SQLite has one writer at a time), so
a reader that sees cursor n also sees every cursor below it, and a missing cursor below the
newest one was deleted by the retention job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, PrimaryKeyConstraint, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from models.base import ID_LENGTH, Base, created_column


class FeedCursor(Base):
    """The newest cursor given out in a user's feed (never deleted: cursors never go back)."""

    __tablename__ = "feed_cursors"

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_cursor: Mapped[int] = mapped_column(BigInteger, nullable=False)


class FeedEvent(Base):
    __tablename__ = "feed_events"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "cursor"),
        Index("ix_feed_events_created_at", "created_at"),
    )

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    cursor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = created_column()


async def append_event(session: AsyncSession, user_id: str, payload: dict[str, Any]) -> int:
    """Store one event under the user's next cursor (in the caller's write transaction)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    bump = (
        dialect.insert(FeedCursor)
        .values(user_id=user_id, last_cursor=1)
        .on_conflict_do_update(
            index_elements=[FeedCursor.user_id],
            set_={"last_cursor": FeedCursor.last_cursor + 1},
        )
        .returning(FeedCursor.last_cursor)
    )
    cursor = int((await session.execute(bump)).scalar_one())
    session.add(FeedEvent(user_id=user_id, cursor=cursor, payload=payload))
    await session.flush()
    return cursor


async def newest_cursor(session: AsyncSession, user_id: str) -> int:
    """0 for a user with no event yet."""
    found = await session.scalar(
        select(FeedCursor.last_cursor).where(FeedCursor.user_id == user_id)
    )
    return int(found or 0)


async def events_after(
    session: AsyncSession, user_id: str, after: int, limit: int
) -> list[FeedEvent]:
    rows = await session.scalars(
        select(FeedEvent)
        .where(FeedEvent.user_id == user_id, FeedEvent.cursor > after)
        .order_by(FeedEvent.cursor)
        .limit(limit)
    )
    return list(rows)


async def delete_events_before(session: AsyncSession, threshold: dt.datetime) -> int:
    result = await session.execute(delete(FeedEvent).where(FeedEvent.created_at < threshold))
    return int(getattr(result, "rowcount", 0) or 0)
