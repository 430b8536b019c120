"""Answers that go on: continueMessage, and what every start of an answer checks first (the
process is not draining; the conversation has no answer running, or only a dead process's)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds, jobs
from gql_api.domain.messages import message_event
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import require_id
from gql_api.errors import Conflict, InvalidInput, NotFound, Unavailable
from gql_api.services import Services
from models import stream_lifecycle
from models.base import utcnow
from models.messages import owned_message
from models.stream_lifecycle import Ended
from models.streams import ACTIVE, CONTINUABLE, Stream

DRAINING_RETRY_AFTER = 1  # seconds; another process (or this one's successor) takes it
BUSY = "An answer is already being generated in this conversation"


def accepting(svc: Services) -> None:
    """A draining process starts no answer: the client sends again, to any process."""
    if not svc.engine.accepting:
        raise Unavailable(
            "This server is restarting; send again in a moment",
            retryAfter=DRAINING_RETRY_AFTER,
        )


async def clear_active(svc: Services, session: AsyncSession, conversation_id: str) -> Ended | None:
    """Refuse while an answer of the conversation is generated, unless the process generating
    it is dead: that one is ended here and now (conditional), and announced after the commit."""
    row = (
        await session.execute(
            select(Stream.id, Stream.node_id).where(
                Stream.conversation_id == conversation_id, Stream.status.in_(ACTIVE)
            )
        )
    ).first()
    if row is None:
        return None
    threshold = utcnow() - dt.timedelta(seconds=svc.settings.node_stale_after_seconds)
    ended = await stream_lifecycle.end_orphan(
        session,
        stream_id=row[0],
        from_node=row[1],
        threshold=threshold,
        error=stream_lifecycle.NODE_LOST,
    )
    if ended is None:
        raise Conflict(BUSY)
    return ended


async def announce(svc: Services, ended: Ended | None) -> None:
    if ended is not None:
        await jobs.announce_orphan(svc.db, svc.broker, ended)


async def continue_message(*, svc: Services, user: CurrentUser, message_id: str) -> Stream:
    """Generate an interrupted or stopped answer on from its saved text, on the same stream:
    watchers see more deltas (seq and offset go on), and one answer in the end."""
    require_id(message_id, "messageId")
    accepting(svc)
    try:
        async with svc.db.write() as session:
            found = await owned_message(session, user.id, message_id, for_update=True)
            if found is None:
                raise NotFound("Message not found")
            answer, conversation = found
            if answer.role != "assistant":
                raise InvalidInput("only an assistant answer can be continued", field="messageId")
            stream = await session.scalar(
                select(Stream)
                .where(Stream.message_id == answer.id)
                .order_by(Stream.created_at.desc(), Stream.id.desc())
                .limit(1)
            )
            if stream is not None and stream.status in ACTIVE:
                raise Conflict("This answer is already being generated")
            if stream is None or stream.status not in CONTINUABLE:
                raise Conflict("Only an interrupted or stopped answer can be continued")
            ended = await clear_active(svc, session, conversation.id)
            if not await stream_lifecycle.reopen(session, stream=stream, node_id=svc.node_id):
                raise Conflict("This answer is already being generated")
            conversation.updated_at = utcnow()
    except IntegrityError as exc:
        raise Conflict(BUSY) from exc
    await announce(svc, ended)
    await svc.engine.resume(stream.id)
    async with svc.db.read() as session:
        refreshed = await session.get(Stream, stream.id)
    if refreshed is None:
        raise NotFound("Message not found")  # deleted meanwhile
    await message_event(svc.db, svc.broker, user, "message.updated", answer)
    await feeds.user_event(
        svc.db, svc.broker, user.id, "stream.started", stream=feeds.row_to_json(refreshed)
    )
    return refreshed
