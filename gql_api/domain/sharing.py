"""Share links: a read-only snapshot of a conversation up to a message, reachable by a token.

The messages are copied when the link is made, so later edits, answers and deletions of single
messages never reach an existing snapshot. Only the token's SHA-256 is stored; the token itself
is returned once, at creation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from gql_api.db import Database
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import optional_id, require_id
from gql_api.errors import Conflict, InvalidInput, NotFound
from models.attachments import Attachment
from models.base import utcnow
from models.conversations import owned_conversation
from models.messages import Message
from models.sharing import SharedMessage, ShareLink

TOKEN_BYTES = 32  # 256 random bits, 43 URL-safe characters
MAX_TOKEN_CHARS = 100
MAX_EXPIRY = dt.timedelta(days=366)
UNFINISHED = ("streaming", "pending")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    link: ShareLink
    messages: list[SharedMessage]
    attachments: dict[str, Attachment]  # those of the snapshot's messages that still exist


async def create_share_link(
    *,
    db: Database,
    user: CurrentUser,
    conversation_id: str,
    up_to_message_id: str,
    expires_at: dt.datetime | None,
) -> tuple[ShareLink, str]:
    """Copy the conversation's messages up to and including `up_to_message_id`."""
    require_id(conversation_id, "conversationId")
    require_id(up_to_message_id, "upToMessageId")
    now = utcnow()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput("expiresAt needs a time zone", field="expiresAt")
        if expires_at <= now or expires_at - now > MAX_EXPIRY:
            raise InvalidInput("expiresAt must be in the next 366 days", field="expiresAt")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.write() as session:
        conversation = await owned_conversation(session, user.id, conversation_id)
        last = await session.scalar(
            select(Message).where(
                Message.id == up_to_message_id, Message.conversation_id == conversation_id
            )
        )
        if conversation is None or last is None:
            raise NotFound("Message not found")
        if last.status in UNFINISHED:
            raise Conflict("The message is still being generated; share it when it finishes")
        rows = list(
            await session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.status.not_in(UNFINISHED),
                    or_(
                        Message.created_at < last.created_at,
                        and_(Message.created_at == last.created_at, Message.id <= last.id),
                    ),
                )
                .order_by(Message.created_at, Message.id)
            )
        )
        attached: dict[str, list[str]] = {}
        for message_id, attachment_id in await session.execute(
            select(Attachment.message_id, Attachment.id)
            .where(Attachment.message_id.in_([r.id for r in rows]))
            .order_by(Attachment.created_at, Attachment.id)
        ):
            attached.setdefault(message_id or "", []).append(attachment_id)
        link = ShareLink(
            owner_id=user.id,
            conversation_id=conversation_id,
            up_to_message_id=up_to_message_id,
            token_hash=token_hash(token),
            title=conversation.title,
            created_at=now,
            expires_at=expires_at,
        )
        session.add(link)
        await session.flush()
        session.add_all(
            SharedMessage(
                share_id=link.id,
                position=i,
                role=row.role,
                content=row.content,
                parts=list(row.parts or []),
                model=row.model,
                attachment_ids=attached.get(row.id, []),
                created_at=row.created_at,
            )
            for i, row in enumerate(rows)
        )
    return link, token


async def list_share_links(
    *, db: Database, user: CurrentUser, conversation_id: str | None
) -> list[ShareLink]:
    """Newest first, revoked and expired ones included (they say so)."""
    optional_id(conversation_id, "conversationId")
    query = select(ShareLink).where(ShareLink.owner_id == user.id)
    if conversation_id is not None:
        query = query.where(ShareLink.conversation_id == conversation_id)
    async with db.read() as session:
        return list(
            await session.scalars(
                query.order_by(ShareLink.created_at.desc(), ShareLink.id.desc()).limit(500)
            )
        )


async def revoke_share_link(*, db: Database, user: CurrentUser, link_id: str) -> ShareLink:
    """Revoke at once; revoking again keeps the first time."""
    require_id(link_id, "id")
    async with db.write() as session:
        await session.execute(
            update(ShareLink)
            .where(
                ShareLink.id == link_id,
                ShareLink.owner_id == user.id,
                ShareLink.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        link = await session.scalar(
            select(ShareLink).where(ShareLink.id == link_id, ShareLink.owner_id == user.id)
        )
    if link is None:
        raise NotFound("Share link not found")
    return link


async def shared_conversation(*, db: Database, token: str) -> Snapshot:
    """The snapshot behind a token, for anyone holding it. Revoked, expired, unknown: NOT_FOUND."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidInput(f"token is longer than {MAX_TOKEN_CHARS} characters", field="token")
    now = utcnow()
    async with db.read() as session:
        link = await session.scalar(
            select(ShareLink).where(
                ShareLink.token_hash == token_hash(token),
                ShareLink.revoked_at.is_(None),
                or_(ShareLink.expires_at.is_(None), ShareLink.expires_at > now),
            )
        )
        if link is None:
            raise NotFound("Shared conversation not found")
        messages = list(
            await session.scalars(
                select(SharedMessage)
                .where(SharedMessage.share_id == link.id)
                .order_by(SharedMessage.position)
            )
        )
        wanted = {a for m in messages for a in m.attachment_ids}
        attachments = {
            a.id: a
            for a in await session.scalars(
                select(Attachment).where(
                    Attachment.id.in_(wanted), Attachment.owner_id == link.owner_id
                )
            )
        }
    return Snapshot(link=link, messages=messages, attachments=attachments)
