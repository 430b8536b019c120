"""Alternatives in the message tree: a regenerated answer, an edited prompt sent again.

Each is a new sibling with its own answer and stream; the earlier one keeps its text and the
turns that followed it, on its own branch. The new branch becomes the current path.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds
from gql_api.domain.branches import branch_event, child_created_at
from gql_api.domain.continuation import BUSY, accepting, announce, clear_active
from gql_api.domain.messages import message_event
from gql_api.domain.models import answer_model, check_model
from gql_api.domain.streams import Sent, _new_answer, _replay
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import clean_client_id, clean_text, require_id
from gql_api.errors import Conflict, InvalidInput, NotFound
from gql_api.services import Services
from models.base import utcnow
from models.conversations import Conversation
from models.messages import Message, by_client_id, owned_message
from models.streams import Stream, running_answers
from models.users import User


async def retry_message(
    *, svc: Services, user: CurrentUser, message_id: str, model: str | None = None
) -> Sent:
    """Generate an answer again from its prompt, as a new sibling of the answer."""
    require_id(message_id, "messageId")
    chosen_model, keys = await check_model(db=svc.db, catalog=svc.models, user=user, model=model)
    accepting(svc)
    await svc.user_limits.count_send(user.subject)  # each new answer counts as a send
    try:
        async with svc.db.write() as session:
            found = await owned_message(session, user.id, message_id, for_update=True)
            if found is None:
                raise NotFound("Message not found")
            answer, conversation = found
            if answer.role != "assistant" or answer.reply_to_id is None:
                raise InvalidInput("only an assistant answer can be retried", field="messageId")
            ended = await clear_active(svc, session, conversation.id)
            svc.user_limits.refuse_running(user.subject, await running_answers(session, user.id))
            prompt = await session.get(Message, answer.reply_to_id)
            parent = await session.get(Message, answer.parent_id) if answer.parent_id else None
            if prompt is None or parent is None:
                raise NotFound("The prompt of this answer was deleted")
            answering = await _answering(svc, session, user, conversation, keys, chosen_model)
            new, stream = await _new_answer(svc, session, user, prompt, answering, parent)
            _make_current(conversation, new)
    except IntegrityError as exc:
        raise Conflict(BUSY) from exc
    await announce(svc, ended)
    await _started(svc, user, [new], stream)
    return Sent(user_message=prompt, assistant_message=new, stream=stream)


async def edit_and_resend(
    *,
    svc: Services,
    user: CurrentUser,
    message_id: str,
    content: str,
    client_message_id: str | None = None,
    model: str | None = None,
) -> Sent:
    """Send an edited copy of a user message as a sibling of it, and answer the copy."""
    require_id(message_id, "messageId")
    text = clean_text(content, max_chars=svc.settings.max_message_chars)
    client_id = clean_client_id(client_message_id)
    chosen_model, keys = await check_model(db=svc.db, catalog=svc.models, user=user, model=model)
    accepting(svc)
    await svc.user_limits.count_send(user.subject)  # each new answer counts as a send
    try:
        async with svc.db.write() as session:
            found = await owned_message(session, user.id, message_id, for_update=True)
            if found is None:
                raise NotFound("Message not found")
            original, conversation = found
            if original.role != "user":
                raise InvalidInput(
                    "only a user message can be edited and sent again", field="messageId"
                )
            if client_id is not None:
                existing = await by_client_id(session, conversation.id, client_id)
                if existing is not None:
                    return await _replay(session, existing, text)
            ended = await clear_active(svc, session, conversation.id)
            svc.user_limits.refuse_running(user.subject, await running_answers(session, user.id))
            parent = await session.get(Message, original.parent_id) if original.parent_id else None
            prompt = Message(
                conversation_id=conversation.id,
                parent_id=original.parent_id,
                role="user",
                content=text,
                parts=[],
                client_message_id=client_id,
                created_at=child_created_at(parent),
            )
            session.add(prompt)
            await session.flush()
            answering = await _answering(svc, session, user, conversation, keys, chosen_model)
            answer, stream = await _new_answer(svc, session, user, prompt, answering)
            _make_current(conversation, answer)
    except IntegrityError as exc:
        raise Conflict(BUSY) from exc
    await announce(svc, ended)
    await _started(svc, user, [prompt, answer], stream)
    return Sent(user_message=prompt, assistant_message=answer, stream=stream)


async def _answering(
    svc: Services,
    session: AsyncSession,
    user: CurrentUser,
    conversation: Conversation,
    keys: set[str],
    chosen: str | None,
) -> str:
    """The model that answers, chosen as sendMessage chooses it."""
    row = await session.get(User, user.id)
    preferred = [chosen, conversation.model, row.default_model if row else None]
    return answer_model(svc.models, keys, preferred)


def _make_current(conversation: Conversation, leaf: Message) -> None:
    conversation.last_message_id = leaf.id
    conversation.updated_at = utcnow()


async def _started(svc: Services, user: CurrentUser, added: list[Message], stream: Stream) -> None:
    leaf = added[-1]
    svc.engine.launch(
        stream_id=stream.id,
        message_id=leaf.id,
        conversation_id=leaf.conversation_id,
        user_id=user.id,
    )
    for message in added:
        await message_event(svc.db, svc.broker, user, "message.added", message)
    await branch_event(svc.db, svc.broker, user, leaf.conversation_id, leaf.id)
    await feeds.user_event(
        svc.db, svc.broker, user.id, "stream.started", stream=feeds.row_to_json(stream)
    )
