"""Processes serving chatgql: each proves it is alive with a heartbeat of its own.

A stream names the node generating it; it is swept only when that node is dead (its heartbeat
older than the stale threshold, or it said it stopped). One tiny write per process and heartbeat
interval, whatever the number of streams, so a busy process never looks dead because its stream
writes are slow.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, String, and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.streams import ACTIVE, Stream

RUNNING, DRAINING, STOPPED = "running", "draining", "stopped"


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=RUNNING)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


async def register(session: AsyncSession, node_id: str) -> None:
    now = utcnow()
    session.add(Node(id=node_id, state=RUNNING, started_at=now, heartbeat_at=now))


async def beat(session: AsyncSession, node_id: str, state: str) -> None:
    await session.execute(
        update(Node).where(Node.id == node_id).values(heartbeat_at=utcnow(), state=state)
    )


def owner_alive(threshold: dt.datetime) -> ColumnElement[bool]:
    """True for a stream whose owning node beat since `threshold` and has not stopped."""
    return exists(
        select(Node.id).where(
            Node.id == Stream.node_id, Node.state != STOPPED, Node.heartbeat_at >= threshold
        )
    )


def lost(threshold: dt.datetime, me: str | None) -> ColumnElement[bool]:
    """A stream no one generates: its owner is dead, or it is this node (`me`) and its row was
    not written since `threshold` (this node dropped it, e.g. its terminal write failed; the
    caller leaves out what this node still generates)."""
    dead = ~owner_alive(threshold)
    if me is None:
        return dead
    return or_(
        and_(Stream.node_id != me, dead),
        and_(Stream.node_id == me, Stream.heartbeat_at < threshold),
    )


async def others_alive(session: AsyncSession, me: str, threshold: dt.datetime) -> bool:
    """Whether another node is running (not draining) and could take over this one's answers."""
    found = await session.scalar(
        select(Node.id)
        .where(Node.id != me, Node.state == RUNNING, Node.heartbeat_at >= threshold)
        .limit(1)
    )
    return found is not None


async def forget_dead(session: AsyncSession, older_than: dt.datetime) -> None:
    """Rows of nodes long gone that no active stream names any more."""
    await session.execute(
        delete(Node).where(
            Node.heartbeat_at < older_than,
            ~exists(select(Stream.id).where(Stream.node_id == Node.id, Stream.status.in_(ACTIVE))),
        )
    )
