"""Live feeds a client subscribes to: its user's activity, or one conversation's messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gql_api import feeds
from gql_api.broker import RESYNC, Broker
from gql_api.db import Database
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import require_id
from gql_api.errors import NotFound
from models.conversations import owned_conversation

# Yielded when the broker may have dropped events (reconnect, a subscriber far behind):
# the client refetches what it shows.
RESYNC_EVENT: dict[str, Any] = {"v": feeds.EVENT_VERSION, "type": "resync"}


async def user_feed(*, broker: Broker, user: CurrentUser) -> AsyncIterator[dict[str, Any]]:
    """Every change to the user's data; the channel is the user's own, so nothing else arrives."""
    async with broker.subscribe(feeds.user_channel(user.id)) as sub:
        async for message in sub:
            yield RESYNC_EVENT if message is RESYNC else message


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
            if message is RESYNC:
                yield RESYNC_EVENT
                continue
            yield message
            if message.get("type") == "conversation.deleted":
                return
