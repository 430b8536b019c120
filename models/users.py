"""Users, keyed by the token's `sub`, created on first use."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, created_column, id_column, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    subject: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    default_model: Mapped[str | None] = mapped_column(String(100))
    theme: Mapped[str] = mapped_column(String(20), default="system", nullable=False)
    tools_enabled: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    created_at: Mapped[dt.datetime] = created_column()
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


async def user_by_subject(session: AsyncSession, subject: str) -> User | None:
    return await session.scalar(select(User).where(User.subject == subject))
