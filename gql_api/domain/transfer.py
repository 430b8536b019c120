"""Export a user's conversations as one JSON document, and import such a document back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds
from gql_api.domain.branches import deepest_leaf
from gql_api.domain.transfer_format import (
    FORMAT,
    VERSION,
    ConversationDoc,
    ExportDocument,
    check_tree,
    parse_document,
)
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import require_id
from gql_api.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from gql_api.services import Services
from models.attachments import Attachment
from models.base import utcnow
from models.conversations import Conversation
from models.messages import Message

MAX_EXPORT_IDS = 1000


async def export_conversations(
    *, svc: Services, user: CurrentUser, conversation_ids: list[str] | None
) -> dict[str, Any]:
    """The document for the given conversations (all of the user's when None)."""
    ids = list(dict.fromkeys(conversation_ids)) if conversation_ids is not None else None
    if ids is not None and len(ids) > MAX_EXPORT_IDS:
        raise InvalidInput(f"at most {MAX_EXPORT_IDS} conversations", field="conversationIds")
    for conversation_id in ids or []:
        require_id(conversation_id, "conversationIds")
    query = select(Conversation).where(Conversation.owner_id == user.id)
    if ids is not None:
        query = query.where(Conversation.id.in_(ids))
    async with svc.db.read() as session:
        conversations = list(await session.scalars(query.order_by(Conversation.created_at)))
        if ids is not None and len(conversations) != len(ids):
            raise NotFound("Conversation not found")
        wanted = [c.id for c in conversations]
        messages = list(
            await session.scalars(
                select(Message)
                .where(Message.conversation_id.in_(wanted))
                .order_by(Message.created_at, Message.id)
            )
        )
        attachments = list(
            await session.scalars(
                select(Attachment)
                .where(Attachment.conversation_id.in_(wanted), Attachment.message_id.is_not(None))
                .order_by(Attachment.created_at, Attachment.id)
            )
        )
    ttl = svc.settings.signed_url_ttl_seconds
    expires = (utcnow() + dt.timedelta(seconds=ttl)).isoformat()
    by_message: dict[str, list[dict[str, Any]]] = {}
    for att in attachments:
        by_message.setdefault(att.message_id or "", []).append(
            {
                "id": att.id,
                "name": att.name,
                "mediaType": att.media_type,
                "size": att.size,
                "sha256": att.sha256,
                "createdAt": att.created_at.isoformat(),
                "url": svc.store.download_url(
                    att.storage_key,
                    attachment_id=att.id,
                    user_id=user.id,
                    filename=att.name,
                    media_type=att.media_type,
                    ttl_seconds=ttl,
                ),
                "urlExpiresAt": expires,
            }
        )
    by_conversation: dict[str, list[dict[str, Any]]] = {c: [] for c in wanted}
    for m in _parents_first(messages):
        by_conversation[m.conversation_id].append(_message_doc(m, by_message.get(m.id, [])))
    return {
        "format": FORMAT,
        "version": VERSION,
        "exportedAt": utcnow().isoformat(),
        "conversations": [
            {
                "id": c.id,
                "title": c.title,
                "model": c.model,
                "systemPrompt": c.system_prompt,
                "pinned": c.pinned,
                "archived": c.archived,
                "createdAt": c.created_at.isoformat(),
                "updatedAt": c.updated_at.isoformat(),
                "currentLeafId": c.last_message_id,
                "messages": by_conversation[c.id],
            }
            for c in conversations
        ],
    }


def _parents_first(messages: list[Message]) -> list[Message]:
    """Time order already puts parents first (a child is newer); this holds even for ties."""
    placed: set[str] = set()
    out: list[Message] = []
    waiting: dict[str, list[Message]] = {}
    known = {m.id for m in messages}

    def place(message: Message) -> None:
        out.append(message)
        placed.add(message.id)
        for child in waiting.pop(message.id, []):
            place(child)

    for m in messages:
        if m.parent_id is None or m.parent_id in placed or m.parent_id not in known:
            place(m)
        else:
            waiting.setdefault(m.parent_id, []).append(m)
    return out


def _message_doc(m: Message, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": m.id,
        "parentId": m.parent_id,
        "replyToId": m.reply_to_id,
        "role": m.role,
        "content": m.content,
        "parts": list(m.parts or []),
        "status": m.status,
        "model": m.model,
        "usage": {"inputTokens": m.input_tokens, "outputTokens": m.output_tokens},
        "clientMessageId": m.client_message_id,
        "errorCode": m.error_code,
        "errorMessage": m.error_message,
        "createdAt": m.created_at.isoformat(),
        "editedAt": m.edited_at.isoformat() if m.edited_at else None,
        "attachments": attachments,
    }


@dataclass
class Imported:
    conversations: list[Conversation]
    conversations_created: int
    messages_created: int


def derived_id(user_id: str, original: str) -> str:
    """The id an imported row gets when its own id belongs to another user's row: the same for
    the same importer and original, so importing twice still creates nothing new."""
    return hashlib.sha256(f"chatgql import:{user_id}:{original}".encode()).hexdigest()[:32]


async def import_conversations(*, svc: Services, user: CurrentUser, document: Any) -> Imported:
    """Store what the document holds and the user does not have yet, in one transaction."""
    size = len(json.dumps(document, separators=(",", ":")).encode())
    if size > svc.settings.max_import_bytes:
        raise PayloadTooLarge(
            f"the document has {size} bytes; at most {svc.settings.max_import_bytes}"
        )
    doc: ExportDocument = parse_document(document)
    check_tree(doc)
    created: list[Conversation] = []
    touched: list[Conversation] = []
    added = 0
    try:
        async with svc.db.write() as session:
            for conversation_doc in doc.conversations:
                conversation, is_new, count = await _import_one(session, user, conversation_doc)
                touched.append(conversation)
                added += count
                if is_new:
                    created.append(conversation)
    except IntegrityError as exc:
        # e.g. a clientMessageId already used in that conversation, or a concurrent import.
        raise Conflict("the document conflicts with stored messages; nothing was imported") from exc
    for conversation in created:
        await feeds.user_event(
            svc.db,
            svc.broker,
            user.id,
            "conversation.created",
            conversation=feeds.row_to_json(conversation),
        )
    return Imported(
        conversations=touched, conversations_created=len(created), messages_created=added
    )


async def _import_one(
    session: AsyncSession, user: CurrentUser, doc: ConversationDoc
) -> tuple[Conversation, bool, int]:
    target_id = doc.id
    existing = await session.get(Conversation, target_id)
    if existing is not None and existing.owner_id != user.id:
        target_id = derived_id(user.id, doc.id)
        existing = await session.get(Conversation, target_id)
        if existing is not None and existing.owner_id != user.id:
            raise Conflict("an imported conversation id is taken")
    conversation = existing
    if conversation is None:
        conversation = Conversation(
            id=target_id,
            owner_id=user.id,
            title=doc.title,
            model=doc.model,
            system_prompt=doc.system_prompt,
            pinned=doc.pinned,
            archived=doc.archived,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )
        session.add(conversation)
        await session.flush()
    ids = [m.id for m in doc.messages]
    stored = dict(
        (
            await session.execute(
                select(Message.id, Message.conversation_id).where(Message.id.in_(ids))
            )
        ).all()
    )
    target: dict[str, str] = {}
    for m in doc.messages:
        home = stored.get(m.id)
        target[m.id] = m.id if home in (None, target_id) else derived_id(user.id, m.id)
    derived = [t for o, t in target.items() if t != o]
    if derived:
        rows = await session.execute(
            select(Message.id, Message.conversation_id).where(Message.id.in_(derived))
        )
        for message_id, home in rows.all():
            if home != target_id:
                raise Conflict("an imported message id is taken")
            stored[message_id] = home
    created_at: dict[str, dt.datetime] = {}
    added = 0
    for m in doc.messages:
        new_id = target[m.id]
        parent_id = target[m.parent_id] if m.parent_id else None
        when = m.created_at
        parent_time = created_at.get(parent_id or "")
        if parent_time is not None and when <= parent_time:
            when = parent_time + dt.timedelta(microseconds=1)  # a path reads in time order
        created_at[new_id] = when
        if stored.get(new_id) == target_id:
            continue  # imported before: nothing new
        session.add(
            Message(
                id=new_id,
                conversation_id=target_id,
                parent_id=parent_id,
                reply_to_id=target[m.reply_to_id] if m.reply_to_id else None,
                role=m.role,
                content=m.content,
                parts=[p.model_dump(mode="json", exclude_none=True) for p in m.parts],
                # No stream comes with the document: an answer cut short stays cut short.
                status="interrupted" if m.status == "streaming" else m.status,
                model=m.model,
                input_tokens=m.usage.input_tokens,
                output_tokens=m.usage.output_tokens,
                client_message_id=m.client_message_id,
                error_code=m.error_code,
                error_message=m.error_message,
                created_at=when,
                edited_at=m.edited_at,
            )
        )
        added += 1
    is_new = existing is None
    if is_new:
        leaf = target[doc.current_leaf_id] if doc.current_leaf_id else None
        if leaf is None and doc.messages:
            roots = [target[m.id] for m in doc.messages if m.parent_id is None]
            leaf = await deepest_leaf(session, roots[-1])
        conversation.last_message_id = leaf
    return conversation, is_new, added
