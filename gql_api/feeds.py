"""Channel names and the small JSON events of the live feeds (user activity, conversation)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol

from sqlalchemy import inspect

from models.base import Base

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


async def publish(broker: Publisher, channel: str, kind: str, **payload: Any) -> None:
    """Best effort: a feed event lost to a broker outage is recovered by clients on RESYNC."""
    try:
        await broker.publish(channel, {"v": EVENT_VERSION, "type": kind, **payload})
    except Exception:
        log.warning("could not publish %s on %s", kind, channel, exc_info=True)


async def user_event(broker: Publisher, user_id: str, kind: str, **payload: Any) -> None:
    await publish(broker, user_channel(user_id), kind, **payload)


async def conversation_event(
    broker: Publisher, user_id: str, conversation_id: str, kind: str, **payload: Any
) -> None:
    """Message events go to the conversation's feed and to its owner's activity feed."""
    await publish(broker, conversation_channel(conversation_id), kind, **payload)
    await publish(broker, user_channel(user_id), kind, **payload)
