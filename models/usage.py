"""Token usage per user, day and model, added to as answers finish."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, PrimaryKeyConstraint, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base


class UsageDay(Base):
    __tablename__ = "usage_days"
    __table_args__ = (PrimaryKeyConstraint("user_id", "day", "model"),)

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    requests: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


async def add_usage(
    session: AsyncSession,
    *,
    user_id: str,
    day: dt.date,
    model: str,
    input_tokens: int,
    output_tokens: int,
) -> None:
    """Upsert: one row per (user, day, model), safe under concurrent writers."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "user_id": user_id,
        "day": day,
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "requests": 1,
    }
    stmt = insert(UsageDay).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "day", "model"],
        set_={
            "input_tokens": UsageDay.input_tokens + stmt.excluded.input_tokens,
            "output_tokens": UsageDay.output_tokens + stmt.excluded.output_tokens,
            "requests": UsageDay.requests + 1,
        },
    )
    await session.execute(stmt)
