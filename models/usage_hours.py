"""Model usage and its cost per user, hour and model, added to as model requests end."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, PrimaryKeyConstraint, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base, UTCDateTime

COUNTERS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micros",
    "requests",
    "estimated_requests",
)


class UsageHour(Base):
    __tablename__ = "usage_hours"
    # The primary key serves the report: one user's rows in a time range.
    __table_args__ = (PrimaryKeyConstraint("user_id", "hour", "model"),)

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)  # its start
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)  # cache too
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)  # USD 1e-6
    requests: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    estimated_requests: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


async def add_usage_hour(
    session: AsyncSession, *, user_id: str, hour: dt.datetime, model: str, **counts: int
) -> None:
    """Upsert: one row per (user, hour, model), safe under concurrent writers."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {name: counts.get(name, 0) for name in COUNTERS}
    stmt = insert(UsageHour).values(user_id=user_id, hour=hour, model=model, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "hour", "model"],
        set_={name: getattr(UsageHour, name) + getattr(stmt.excluded, name) for name in COUNTERS},
    )
    await session.execute(stmt)
