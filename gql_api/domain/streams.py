"""Answers: send a message and stream the reply, stop, see what is running, usage."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds, jobs
from gql_api.db import Database
from gql_api.domain.branches import child_created_at
from gql_api.domain.continuation import BUSY, accepting, announce, clear_active
from gql_api.domain.messages import insert_user_message, message_event
from gql_api.domain.models import answer_model, check_model
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import clean_client_id, clean_text, require_id
from gql_api.errors import Conflict, InvalidInput, NotFound
from gql_api.services import Services
from models import stream_lifecycle
from models.attachments import Attachment
from models.base import utcnow
from models.conversations import owned_conversation
from models.messages import Message, by_client_id
from models.streams import ACTIVE, Stream, running_answers
from models.usage import UsageDay
from models.users import User

STOP_WAIT_SECONDS = 10.0
MAX_ATTACHMENTS = 20


@dataclass
class Sent:
    user_message: Message
    assistant_message: Message
    stream: Stream


async def send_message(
    *,
    svc: Services,
    user: CurrentUser,
    conversation_id: str,
    content: str,
    client_message_id: str | None = None,
    attachment_ids: list[str] | None = None,
    model: str | None = None,
) -> Sent:
    """Store the prompt, an empty answer and its stream in one transaction; generate in the
    background. The same clientMessageId again returns the same rows and starts nothing."""
    require_id(conversation_id, "conversationId")
    text = clean_text(content, max_chars=svc.settings.max_message_chars)
    client_id = clean_client_id(client_message_id)
    chosen_model, keys = await check_model(db=svc.db, catalog=svc.models, user=user, model=model)
    attachment_ids = list(dict.fromkeys(attachment_ids or []))
    if len(attachment_ids) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments", field="attachmentIds")
    for attachment_id in attachment_ids:
        require_id(attachment_id, "attachmentIds")
    await svc.user_limits.count_send(user.subject)
    accepting(svc)
    try:
        async with svc.db.write() as session:
            # Locked, so a concurrent delete of the conversation either waits or wins cleanly.
            conversation = await owned_conversation(
                session, user.id, conversation_id, for_update=True
            )
            if conversation is None:
                raise NotFound("Conversation not found")
            if client_id is not None:
                existing = await by_client_id(session, conversation_id, client_id)
                if existing is not None:
                    return await _replay(session, existing, text)
            ended = await clear_active(svc, session, conversation_id)
            svc.user_limits.refuse_running(user.subject, await running_answers(session, user.id))
            prompt, _ = await insert_user_message(
                session, conversation, role="user", content=text, client_message_id=client_id
            )
            await _attach(session, user, conversation_id, prompt.id, attachment_ids)
            row = await session.get(User, user.id)
            preferred = [chosen_model, conversation.model, row.default_model if row else None]
            answering = answer_model(svc.models, keys, preferred)
            answer, stream = await _new_answer(svc, session, user, prompt, answering)
            conversation.last_message_id = answer.id
    except IntegrityError as exc:
        # Another process won a race: same client id, or the one-active-stream index.
        if client_id is not None:
            async with svc.db.read() as session:
                existing = await by_client_id(session, conversation_id, client_id)
                if existing is not None:
                    return await _replay(session, existing, text)
        raise Conflict(BUSY) from exc
    await announce(svc, ended)
    svc.engine.launch(
        stream_id=stream.id, message_id=answer.id, conversation_id=conversation_id, user_id=user.id
    )
    await message_event(svc.db, svc.broker, user, "message.added", prompt)
    await message_event(svc.db, svc.broker, user, "message.added", answer)
    await feeds.user_event(
        svc.db, svc.broker, user.id, "stream.started", stream=feeds.row_to_json(stream)
    )
    return Sent(user_message=prompt, assistant_message=answer, stream=stream)


async def _replay(session: AsyncSession, prompt: Message, text: str) -> Sent:
    if prompt.role != "user" or prompt.content != text:
        raise Conflict("clientMessageId was already used for a different message")
    answer = await session.scalar(
        select(Message)
        .where(Message.reply_to_id == prompt.id)
        .order_by(Message.created_at.desc())
        .limit(1)
    )
    stream = (
        None
        if answer is None
        else await session.scalar(
            select(Stream)
            .where(Stream.message_id == answer.id)
            .order_by(Stream.created_at.desc())
            .limit(1)
        )
    )
    if answer is None or stream is None:
        raise Conflict("clientMessageId was already used for a message without an answer")
    return Sent(user_message=prompt, assistant_message=answer, stream=stream)


async def _attach(
    session: AsyncSession, user: CurrentUser, conversation_id: str, message_id: str, ids: list[str]
) -> None:
    if not ids:
        return
    rows = list(
        await session.scalars(
            select(Attachment).where(Attachment.id.in_(ids), Attachment.owner_id == user.id)
        )
    )
    if len(rows) != len(ids):
        raise NotFound("Attachment not found")
    for row in rows:
        if row.message_id is not None:
            raise Conflict("Attachment is already attached to a message")
        if row.conversation_id not in (None, conversation_id):
            raise Conflict("Attachment belongs to another conversation")
        row.message_id = message_id
        row.conversation_id = conversation_id


async def _new_answer(
    svc: Services,
    session: AsyncSession,
    user: CurrentUser,
    prompt: Message,
    model: str,
    parent: Message | None = None,
) -> tuple[Message, Stream]:
    """An empty answer to `prompt`, placed under `parent` (default: the prompt itself)."""
    parent = parent or prompt
    answer = Message(
        conversation_id=prompt.conversation_id,
        parent_id=parent.id,
        role="assistant",
        content="",
        parts=[],
        status="streaming",
        reply_to_id=prompt.id,
        model=model,
        created_at=child_created_at(parent),
    )
    session.add(answer)
    await session.flush()
    stream = stream_lifecycle.new_stream(
        message_id=answer.id,
        conversation_id=prompt.conversation_id,
        owner_id=user.id,
        model=model,
        node_id=svc.node_id,
    )
    session.add(stream)
    await session.flush()
    return answer, stream


async def owned_stream(*, db: Database, user: CurrentUser, stream_id: str) -> Stream:
    require_id(stream_id, "streamId")
    async with db.read() as session:
        stream = await session.scalar(
            select(Stream).where(Stream.id == stream_id, Stream.owner_id == user.id)
        )
    if stream is None:
        raise NotFound("Stream not found")
    return stream


async def latest_stream_of_message(*, db: Database, user: CurrentUser, message_id: str) -> Stream:
    require_id(message_id, "messageId")
    async with db.read() as session:
        stream = await session.scalar(
            select(Stream)
            .where(Stream.message_id == message_id, Stream.owner_id == user.id)
            .order_by(Stream.created_at.desc(), Stream.id.desc())
            .limit(1)
        )
    if stream is None:
        raise NotFound("Stream not found")
    return stream


async def active_streams(*, db: Database, user: CurrentUser) -> list[Stream]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Stream)
            .where(Stream.owner_id == user.id, Stream.status.in_(ACTIVE))
            .order_by(Stream.created_at)
        )
        return list(rows)


async def stop_stream(*, svc: Services, user: CurrentUser, stream_id: str) -> Stream:
    """Stop generating; the partial text is kept and the stream ends cancelled. Idempotent."""
    stream = await owned_stream(db=svc.db, user=user, stream_id=stream_id)
    if stream.status not in ACTIVE:
        return stream
    async with svc.db.write() as session:
        # The flag reaches the owner at its next flush even if the broker message is lost.
        await stream_lifecycle.request_cancel(session, stream_id)
    await svc.engine.request_stop(stream)
    threshold = utcnow() - dt.timedelta(seconds=svc.settings.node_stale_after_seconds)
    # Its process is dead: no one would act on the flag until a sweep.
    await jobs.end_orphan(
        svc.db, svc.broker, stream_id=stream_id, owner=stream.node_id, threshold=threshold
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_WAIT_SECONDS
    while loop.time() < deadline:
        if svc.engine.is_running(stream_id):
            await svc.engine.wait(stream_id)
        stream = await owned_stream(db=svc.db, user=user, stream_id=stream_id)
        if stream.status not in ACTIVE:
            break
        await asyncio.sleep(0.02)
    return stream


async def usage(*, db: Database, user: CurrentUser, start: dt.date, end: dt.date) -> list[UsageDay]:
    """Per day and model, both ends included."""
    if end < start:
        raise InvalidInput("`to` must not be before `from`", field="to")
    if (end - start).days > 366:
        raise InvalidInput("the range may span at most 366 days", field="to")
    async with db.read() as session:
        rows = await session.scalars(
            select(UsageDay)
            .where(UsageDay.user_id == user.id, UsageDay.day >= start, UsageDay.day <= end)
            .order_by(UsageDay.day, UsageDay.model)
        )
        return list(rows)
