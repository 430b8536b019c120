"""Attachments: upload (GraphQL multipart request), get, list, delete, storage use."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from gql_api.context import Info
from gql_api.domain import attachments
from gql_api.errors import InvalidInput
from resolvers.types import Attachment, Deleted

READ_CHUNK_BYTES = 64 * 1024


@strawberry.type
class AttachmentStorage:
    used_bytes: int
    quota_bytes: int
    max_upload_bytes: int
    allowed_media_types: list[str]


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(READ_CHUNK_BYTES):
        yield chunk


@strawberry.type
class Query:
    @strawberry.field
    async def attachment(self, info: Info, id: strawberry.ID) -> Attachment:
        user = await info.context.require_user()
        row = await attachments.get_attachment(
            db=info.context.services.db, user=user, attachment_id=id
        )
        return Attachment.from_model(row)

    @strawberry.field(
        description="Give exactly one: a conversation's attachments (including ones uploaded "
        "for it and not sent yet), or one message's. Oldest first."
    )
    async def attachments(
        self,
        info: Info,
        conversation_id: strawberry.ID | None = None,
        message_id: strawberry.ID | None = None,
    ) -> list[Attachment]:
        user = await info.context.require_user()
        rows = await attachments.list_attachments(
            db=info.context.services.db,
            user=user,
            conversation_id=conversation_id,
            message_id=message_id,
        )
        return [Attachment.from_model(r) for r in rows]

    @strawberry.field(description="Your storage use and the upload limits.")
    async def attachment_storage(self, info: Info) -> AttachmentStorage:
        user = await info.context.require_user()
        s = info.context.services
        return AttachmentStorage(
            used_bytes=await attachments.storage_used(db=s.db, user=user),
            quota_bytes=s.settings.user_quota_bytes,
            max_upload_bytes=s.settings.max_upload_bytes,
            allowed_media_types=list(s.settings.allowed_media_types),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Upload a file (GraphQL multipart request; send the Authorization header). "
        "Attach it to a message with sendMessage's attachmentIds. For large files, "
        "POST /uploads takes the raw bytes."
    )
    async def upload_attachment(
        self, info: Info, file: Upload, conversation_id: strawberry.ID | None = None
    ) -> Attachment:
        value: object = file
        try:
            if not isinstance(value, UploadFile):
                raise InvalidInput("file must be a file part of a multipart request", field="file")
            user = await info.context.require_user()
            s = info.context.services
            row = await attachments.upload_attachment(
                db=s.db,
                store=s.store,
                settings=s.settings,
                user=user,
                chunks=_chunks(value),
                filename=value.filename,
                media_type=value.content_type,
                conversation_id=conversation_id,
            )
            s.metrics.upload_bytes.inc(row.size)
        finally:
            if isinstance(value, UploadFile):
                await value.close()  # the spooled temporary file
        return Attachment.from_model(row)

    @strawberry.mutation(description="Delete the attachment and its stored bytes.")
    async def delete_attachment(self, info: Info, id: strawberry.ID) -> Deleted:
        user = await info.context.require_user()
        s = info.context.services
        row = await attachments.delete_attachment(
            db=s.db, store=s.store, user=user, attachment_id=id
        )
        return Deleted(id=strawberry.ID(row.id))
