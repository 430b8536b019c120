"""Projects: folders of conversations, with a maintained conversation count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import ID_LENGTH, Base, UTCDateTime, created_column, id_column, utcnow


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_owner_name", "owner_id", "name"),)

    id: Mapped[str] = id_column()
    owner_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Kept in step by every write that moves a conversation, so reads never count rows.
    conversation_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[dt.datetime] = created_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


async def owned_project(
    session: AsyncSession, owner_id: str, project_id: str, *, for_update: bool = False
) -> Project | None:
    query = select(Project).where(Project.id == project_id, Project.owner_id == owner_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def adjust_count(session: AsyncSession, project_id: str | None, delta: int) -> None:
    if project_id is None:
        return
    await session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(conversation_count=Project.conversation_count + delta)
    )
