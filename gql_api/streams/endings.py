"""How an answer ends: its terminal write (stream, message, conversation, usage in one
transaction), and the news of it on the owner's feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds
from gql_api.broker import Broker
from gql_api.db import Database
from gql_api.streams.generation import Generation
from models import stream_lifecycle
from models.conversations import Conversation
from models.messages import Message
from models.stream_lifecycle import MESSAGE_STATUS
from models.streams import Stream
from models.usage import add_usage


def terminal_write(
    gen: Generation,
    node_id: str,
    status: str,
    error: tuple[str, str] | None,
    now: dt.datetime,
) -> Callable[[AsyncSession], Awaitable[None]]:
    """The writes that end `gen`, run by the flusher in the transaction of its last text."""
    buf = gen.buf
    code, text = error or (None, None)

    async def write_terminal(session: AsyncSession) -> None:
        ours = await stream_lifecycle.finish(
            session,
            stream_id=buf.stream_id,
            node_id=node_id,
            status=status,
            error_code=code,
            error_message=text,
            now=now,
        )
        if not ours:
            return
        await session.execute(
            update(Message)
            .where(Message.id == buf.message_id)
            .values(
                status=MESSAGE_STATUS.get(status, status),
                model=gen.model,
                input_tokens=gen.input_tokens,
                output_tokens=gen.output_tokens,
                error_code=code,
                error_message=text,
                parts=list(buf.parts),
            )
        )
        await session.execute(
            update(Conversation)
            .where(Conversation.id == gen.conversation_id)
            .values(updated_at=now)
        )
        spent_in = gen.input_tokens - gen.counted_tokens[0]
        spent_out = gen.output_tokens - gen.counted_tokens[1]
        if gen.model and (spent_in or spent_out):
            await add_usage(
                session,
                user_id=gen.user_id,
                day=now.astimezone(dt.UTC).date(),
                model=gen.model,
                input_tokens=spent_in,
                output_tokens=spent_out,
            )

    return write_terminal


async def announce_finished(db: Database, broker: Broker, user_id: str, stream_id: str) -> None:
    """Tell the owner's feeds that a stream ended, with the final message."""
    async with db.read() as session:
        stream = await session.get(Stream, stream_id)
        message = await session.get(Message, stream.message_id) if stream else None
    if stream is None or message is None:
        return
    await feeds.user_event(db, broker, user_id, "stream.finished", stream=feeds.row_to_json(stream))
    await feeds.conversation_event(
        db,
        broker,
        user_id,
        message.conversation_id,
        "message.updated",
        message=feeds.row_to_json(message),
    )
