"""Attachments: upload (bytes to the store, metadata to a row), list, get, delete, cleanup.

The bytes are written before the row exists, and deleted after the row is gone. A crash between
the two leaves an object without a row (or, if the store lost it, a row without an object);
`collect_orphans` finds both. Keys carry their creation time so it can leave young objects
(uploads still in flight) alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api.db import Database
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import optional_id, require_id
from gql_api.errors import InvalidInput, NotFound, QuotaExceeded
from gql_api.settings import Settings
from gql_api.storage.base import ObjectStore, validate_key
from gql_api.uploads import receive_upload
from models.attachments import Attachment
from models.base import new_id, utcnow
from models.conversations import owned_conversation
from models.messages import owned_message
from models.users import User

log = logging.getLogger(__name__)

# `<owner id>/<time-ordered id>`: the first 12 hex digits of the last segment are milliseconds.
_KEY_RE = re.compile(r"[0-9a-f]{32}/([0-9a-f]{12})[0-9a-f]{20}")
PARTIAL_WRITE_MAX_AGE = 24 * 3600.0
DELETE_BATCH = 500


def new_storage_key(owner_id: str) -> str:
    return validate_key(f"{owner_id}/{new_id()}")


def key_created_at(key: str) -> dt.datetime | None:
    """When a key made by `new_storage_key` was made; None for a key of any other shape."""
    match = _KEY_RE.fullmatch(key)
    if match is None:
        return None
    return dt.datetime.fromtimestamp(int(match.group(1), 16) / 1000, dt.UTC)


async def used_bytes(session: AsyncSession, owner_id: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.owner_id == owner_id)
    )
    return int(total or 0)


async def storage_used(*, db: Database, user: CurrentUser) -> int:
    """The user's quota use: the sum of their attachments' sizes."""
    async with db.read() as session:
        return await used_bytes(session, user.id)


async def upload_attachment(
    *,
    db: Database,
    store: ObjectStore,
    settings: Settings,
    user: CurrentUser,
    chunks: AsyncIterator[bytes],
    filename: str | None,
    media_type: str | None,
    conversation_id: str | None = None,
) -> Attachment:
    """Check and store the bytes, then the row. On any refusal neither stays behind."""
    optional_id(conversation_id, "conversationId")
    async with db.read() as session:
        if conversation_id is not None:
            if await owned_conversation(session, user.id, conversation_id) is None:
                raise NotFound("Conversation not found")
        remaining = settings.user_quota_bytes - await used_bytes(session, user.id)
    received = await receive_upload(
        chunks,
        declared_name=filename or "",
        declared_type=media_type,
        max_bytes=settings.max_upload_bytes,
        allowed_types=settings.allowed_media_types,
        store=store,
        key=new_storage_key(user.id),
        remaining_quota=remaining,
    )
    try:
        async with db.write() as session:
            # Lock the user (PostgreSQL; SQLite writers are serialized anyway) so that two
            # concurrent uploads cannot both fit in the same remaining quota.
            await session.execute(select(User.id).where(User.id == user.id).with_for_update())
            if conversation_id is not None:
                if await owned_conversation(session, user.id, conversation_id) is None:
                    raise NotFound("Conversation not found")
            used = await used_bytes(session, user.id)
            if used + received.size > settings.user_quota_bytes:
                raise QuotaExceeded(
                    "This file does not fit in your remaining storage quota.",
                    remaining_bytes=max(0, settings.user_quota_bytes - used),
                )
            row = Attachment(
                owner_id=user.id,
                conversation_id=conversation_id,
                name=received.name,
                media_type=received.media_type,
                size=received.size,
                sha256=received.sha256,
                storage_key=received.key,
            )
            session.add(row)
    except BaseException:
        # Shielded: a cancelled request must still not leave its bytes behind.
        await asyncio.shield(_delete_quietly(store, received.key))
        raise
    return row


async def get_attachment(*, db: Database, user: CurrentUser, attachment_id: str) -> Attachment:
    require_id(attachment_id, "id")
    async with db.read() as session:
        row = await _owned(session, user.id, attachment_id)
    if row is None:
        raise NotFound("Attachment not found")
    return row


async def attachment_for_download(
    *, db: Database, attachment_id: str, owner_id: str
) -> Attachment | None:
    """The row a signed link names, if it still exists and still belongs to that user."""
    async with db.read() as session:
        return await _owned(session, owner_id, attachment_id)


async def list_attachments(
    *,
    db: Database,
    user: CurrentUser,
    conversation_id: str | None = None,
    message_id: str | None = None,
) -> list[Attachment]:
    """A conversation's attachments (sent or not yet), or one message's; oldest first."""
    if (conversation_id is None) == (message_id is None):
        raise InvalidInput("Give exactly one of conversationId and messageId")
    query = select(Attachment).where(Attachment.owner_id == user.id)
    async with db.read() as session:
        if conversation_id is not None:
            require_id(conversation_id, "conversationId")
            if await owned_conversation(session, user.id, conversation_id) is None:
                raise NotFound("Conversation not found")
            query = query.where(Attachment.conversation_id == conversation_id)
        else:
            assert message_id is not None
            require_id(message_id, "messageId")
            if await owned_message(session, user.id, message_id) is None:
                raise NotFound("Message not found")
            query = query.where(Attachment.message_id == message_id)
        rows = await session.scalars(query.order_by(Attachment.created_at, Attachment.id))
        return list(rows)


async def delete_attachment(
    *, db: Database, store: ObjectStore, user: CurrentUser, attachment_id: str
) -> Attachment:
    """Delete the row, then the bytes (a failure there is left to `collect_orphans`)."""
    require_id(attachment_id, "id")
    async with db.write() as session:
        row = await _owned(session, user.id, attachment_id)
        if row is None:
            raise NotFound("Attachment not found")
        await session.execute(delete(Attachment).where(Attachment.id == attachment_id))
    await _delete_quietly(store, row.storage_key)
    return row


async def _owned(session: AsyncSession, owner_id: str, attachment_id: str) -> Attachment | None:
    return await session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.owner_id == owner_id)
    )


@dataclass(frozen=True)
class Collected:
    objects: int  # objects deleted because no row names them
    rows: int  # rows deleted because their object is gone


async def collect_orphans(db: Database, store: ObjectStore, *, older_than: float) -> Collected:
    """Delete objects without a row and rows without an object, both older than `older_than`
    seconds: an upload writes its object before its row, so a young object may be in flight."""
    cutoff = utcnow() - dt.timedelta(seconds=older_than)
    keys = await store.keys()
    async with db.read() as session:
        rows = {
            key: created
            for key, created in await session.execute(
                select(Attachment.storage_key, Attachment.created_at)
            )
        }
    stored = set(keys)
    objects = 0
    for key in keys:
        created = key_created_at(key)
        # Only our own keys: their age is known, and nothing else's objects are touched.
        if key in rows or created is None or created >= cutoff:
            continue
        async with db.read() as session:
            # Looked up again: the row may have been written since the listing.
            if await session.scalar(select(Attachment.id).where(Attachment.storage_key == key)):
                continue
        await store.delete(key)
        objects += 1
    missing = [k for k, created in rows.items() if k not in stored and created < cutoff]
    gone = [k for k in missing if not await store.exists(k)]  # a listing is not proof
    for start in range(0, len(gone), DELETE_BATCH):
        async with db.write() as session:
            batch = gone[start : start + DELETE_BATCH]
            await session.execute(delete(Attachment).where(Attachment.storage_key.in_(batch)))
    await _purge_partial_writes(store, older_than)
    if objects or gone:
        log.info("attachment cleanup: %d objects without rows, %d rows without", objects, len(gone))
    return Collected(objects=objects, rows=len(gone))


async def _purge_partial_writes(store: ObjectStore, older_than: float) -> None:
    """Temporary files (local) or multipart uploads (S3) that a crashed process left behind.

    Never younger than a day: removing the partial write of a slow upload still running would
    make it fail.
    """
    purge = getattr(store, "purge_temp_files", None) or getattr(
        store, "purge_incomplete_uploads", None
    )
    if purge is not None:
        await purge(max(older_than, PARTIAL_WRITE_MAX_AGE))


async def _delete_quietly(store: ObjectStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:
        log.warning("could not delete attachment object %s; cleanup will retry", key, exc_info=True)
