"""Live feeds a client subscribes to: its user's activity, or one conversation's messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gql_api import feeds
from gql_api.broker import RESYNC, Broker
from gql_api.db import Database
from gql_api.domain.pagination import decode_cursor
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import require_id
from gql_api.errors import InvalidInput, NotFound
from models.conversations import owned_conversation
from models.feed_events import events_after, newest_cursor

# Yielded when events may have been missed (the broker dropped some, or an event could not be
# logged): the client refetches what it shows.
RESYNC_EVENT: dict[str, Any] = {"v": feeds.EVENT_VERSION, "type": "resync"}
REPLAY_PAGE = 500


def parse_feed_cursor(after: str) -> int:
    (cursor,) = decode_cursor(after, (int,))
    if cursor < 0:
        raise InvalidInput("cursor is not valid", field="after")
    return cursor


async def user_feed(
    *, db: Database, broker: Broker, user: CurrentUser, after: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Every change to the user's data, each with its cursor, in cursor order.

    With `after` (the cursor of an event the client has), what followed it is replayed from the
    feed log first; a RESYNC event (with the cursor to go on from) if some of that is no longer
    kept. The channel is subscribed before the log is read, and a live event the log already
    gave is dropped: no gap and no duplicate between replay and live.
    """
    start = parse_feed_cursor(after) if after is not None else None
    async with broker.subscribe(feeds.user_channel(user.id)) as sub:
        reader = _LogReader(db, user.id)
        newest = await reader.newest()
        if start is None:
            reader.last = newest
        elif start > newest:
            raise InvalidInput("cursor is not valid", field="after")
        else:
            reader.last = start
            async for event in reader.catch_up():
                yield event
        async for message in sub:
            if message is RESYNC:  # dropped by the broker, but kept in the log
                async for event in reader.catch_up():
                    yield event
                continue
            if message.get("type") == "resync":  # an event that could not be logged
                async for event in reader.catch_up():
                    yield event
                yield {**RESYNC_EVENT, "cursor": reader.last}
                continue
            cursor = message.get("cursor")
            if cursor is None:  # from a process that does not log events (an older version)
                yield message
                continue
            if cursor <= reader.last:
                continue
            if cursor == reader.last + 1:
                reader.last = cursor
                yield message
                continue
            # Published out of order (several writers) or one was lost: the log has them all,
            # since an event commits after every lower cursor of its user.
            async for event in reader.catch_up():
                yield event


class _LogReader:
    """Reads a user's feed log after `last`, which follows what was handed out."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id
        self.last = 0

    async def newest(self) -> int:
        async with self.db.read() as session:
            return await newest_cursor(session, self.user_id)

    async def catch_up(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            async with self.db.read() as session:
                # The newest cursor first: everything up to it has committed, so a cursor up to
                # it that the next read lacks was deleted (older than the retention).
                newest = await newest_cursor(session, self.user_id)
                rows = await events_after(session, self.user_id, self.last, REPLAY_PAGE)
            expected = range(self.last + 1, self.last + 1 + len(rows))
            if [row.cursor for row in rows] != list(expected) or (not rows and newest > self.last):
                self.last = max(newest, rows[-1].cursor if rows else 0)
                yield {**RESYNC_EVENT, "cursor": self.last}
                return
            for row in rows:
                self.last = row.cursor
                yield {**row.payload, "cursor": row.cursor}
            if len(rows) < REPLAY_PAGE:
                return


async def conversation_feed(
    *, db: Database, broker: Broker, user: CurrentUser, conversation_id: str
) -> AsyncIterator[dict[str, Any]]:
    """Message changes of one conversation; ownership is checked before subscribing."""
    require_id(conversation_id, "conversationId")
    async with db.read() as session:
        if await owned_conversation(session, user.id, conversation_id) is None:
            raise NotFound("Conversation not found")
    async with broker.subscribe(feeds.conversation_channel(conversation_id)) as sub:
        async for message in sub:
            if message is RESYNC or message.get("type") == "resync":
                # No log to catch up from here: the client refetches, and can pick up its
                # activity feed from the cursor it gets.
                newest = await _LogReader(db, user.id).newest()
                yield {**RESYNC_EVENT, "cursor": newest}
                continue
            yield message
            if message.get("type") == "conversation.deleted":
                return
