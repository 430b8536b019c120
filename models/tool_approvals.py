"""A user's remembered decisions about MCP tools: run without asking, or never."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

ALWAYS, NEVER = "always", "never"


class ToolApproval(Base):
    __tablename__ = "tool_approvals"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    server: Mapped[str] = mapped_column(String(64), primary_key=True)
    tool: Mapped[str] = mapped_column(String(200), primary_key=True)
    decision: Mapped[str] = mapped_column(String(10), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


async def remembered(session: AsyncSession, user_id: str) -> dict[tuple[str, str], str]:
    rows = await session.execute(
        select(ToolApproval.server, ToolApproval.tool, ToolApproval.decision).where(
            ToolApproval.user_id == user_id
        )
    )
    return {(server, tool): decision for server, tool, decision in rows}


async def remember(
    session: AsyncSession, *, user_id: str, server: str, tool: str, decision: str
) -> None:
    row = await session.get(ToolApproval, (user_id, server, tool))
    if row is None:
        session.add(ToolApproval(user_id=user_id, server=server, tool=tool, decision=decision))
    else:
        row.decision, row.updated_at = decision, utcnow()
