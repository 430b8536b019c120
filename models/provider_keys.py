"""Users' own provider keys, sealed (gql_api.secrets_box); the plain key is never stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base, UTCDateTime, created_column, id_column


class ProviderKey(Base):
    __tablename__ = "provider_keys"
    # One key per user and provider; the unique index also serves the lookup of a user's keys.
    __table_args__ = (UniqueConstraint("owner_id", "provider"),)

    id: Mapped[str] = id_column()
    owner_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    sealed_key: Mapped[str] = mapped_column(Text, nullable=False)
    kek_id: Mapped[str] = mapped_column(String(32), nullable=False)  # which KEK sealed it
    last_four: Mapped[str] = mapped_column(String(4), nullable=False)
    base_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = created_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def sealing_context(owner_id: str, provider: str) -> str:
    """What a sealed key is bound to: moved onto another row, it no longer opens."""
    return f"provider_key:{owner_id}:{provider}"


async def keys_of(session: AsyncSession, owner_id: str) -> list[ProviderKey]:
    rows = await session.scalars(
        select(ProviderKey).where(ProviderKey.owner_id == owner_id).order_by(ProviderKey.provider)
    )
    return list(rows)


async def key_for(session: AsyncSession, owner_id: str, provider: str) -> ProviderKey | None:
    return await session.scalar(
        select(ProviderKey).where(
            ProviderKey.owner_id == owner_id, ProviderKey.provider == provider
        )
    )
