"""Channel names and the small JSON events of the live feeds (user activity, conversation)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol

from sqlalchemy import inspect

from gql_api.db import Database
from models.base import Base, utcnow
from models.feed_events import append_event, delete_events_before

log = logging.getLogger(__name__)
EVENT_VERSION = 1


class Publisher(Protocol):
    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def stream_channel(stream_id: str) -> str:
    return f"stream:{stream_id}"


def control_channel(node_id: str) -> str:
    """Requests to the process that owns a stream (stop, flush now)."""
    return f"node:{node_id}"


def row_to_json(row: Base) -> dict[str, Any]:
    """Column values of an ORM row as JSON-safe values (datetimes as ISO strings)."""
    out: dict[str, Any] = {}
    for column in inspect(row).mapper.column_attrs:
        value = getattr(row, column.key)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        out[column.key] = value
    return out


def row_from_json(model: type[Base], data: dict[str, Any]) -> Any:
    """A transient ORM row rebuilt from `row_to_json` output (for mapping events to types)."""
    values: dict[str, Any] = {}
    for column in inspect(model).column_attrs:
        if column.key not in data:
            continue
        value = data[column.key]
        python_type = column.columns[0].type.python_type
        if value is not None and python_type is dt.datetime:
            value = dt.datetime.fromisoformat(value)
        elif value is not None and python_type is dt.date:
            value = dt.date.fromisoformat(value)
        values[column.key] = value
    return model(**values)


async def publish(broker: Publisher, channel: str, event: dict[str, Any]) -> None:
    """Best effort: a subscriber that misses it catches up from the feed log (user feeds) or
    is told to refetch (RESYNC)."""
    try:
        await broker.publish(channel, event)
    except Exception:
        log.warning("could not publish %s on %s", event.get("type"), channel, exc_info=True)


async def logged(db: Database, user_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The event stored in the user's feed log, with its cursor; a `resync` event instead if it
    could not be stored (subscribers then refetch rather than miss it silently)."""
    event = {"v": EVENT_VERSION, "type": kind, **payload}
    try:
        async with db.write() as session:
            cursor = await append_event(session, user_id, event)
    except Exception:
        log.warning("could not log %s for user %s", kind, user_id, exc_info=True)
        return {"v": EVENT_VERSION, "type": "resync"}
    return {**event, "cursor": cursor}


async def user_event(
    db: Database, broker: Publisher, user_id: str, kind: str, **payload: Any
) -> None:
    await publish(broker, user_channel(user_id), await logged(db, user_id, kind, payload))


async def conversation_event(
    db: Database,
    broker: Publisher,
    user_id: str,
    conversation_id: str,
    kind: str,
    **payload: Any,
) -> None:
    """Message events go to the conversation's feed and to its owner's activity feed."""
    event = await logged(db, user_id, kind, payload)
    await publish(broker, conversation_channel(conversation_id), event)
    await publish(broker, user_channel(user_id), event)


async def delete_old_events(db: Database, *, retention: float) -> int:
    """Forget feed events older than the retention (cursors older than that get FeedResync)."""
    async with db.write() as session:
        return await delete_events_before(session, utcnow() - dt.timedelta(seconds=retention))
