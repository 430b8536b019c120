"""Share links: create, list, revoke; and the public, read-only snapshot behind a token."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from gql_api.context import Info
from gql_api.domain import sharing
from models.attachments import Attachment as AttachmentRow
from models.sharing import ShareLink as ShareLinkRow
from resolvers.types import MessagePart, Role, interleave


@strawberry.type
class ShareLink:
    id: strawberry.ID
    conversation_id: strawberry.ID
    up_to_message_id: strawberry.ID
    title: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @strawberry.field(description="Not revoked and not expired: the token shows the snapshot.")
    def active(self) -> bool:
        now = dt.datetime.now(dt.UTC)
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @classmethod
    def from_model(cls, row: ShareLinkRow) -> ShareLink:
        return cls(
            id=strawberry.ID(row.id),
            conversation_id=strawberry.ID(row.conversation_id),
            up_to_message_id=strawberry.ID(row.up_to_message_id),
            title=row.title,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class CreatedShareLink:
    link: ShareLink
    token: str = strawberry.field(
        description="Shown once: only its hash is stored. Pass it to sharedConversation."
    )


@strawberry.type(description="An attachment of a shared message; its link expires.")
class SharedAttachment:
    name: str
    media_type: str
    size: int
    download_url: str


@strawberry.type(description="A message as it was when the link was made.")
class SharedMessage:
    role: Role
    content: str
    model: str | None
    created_at: dt.datetime
    attachments: list[SharedAttachment]
    raw_parts: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field
    def parts(self) -> list[MessagePart]:
        return interleave(self.content, self.raw_parts)


@strawberry.type(
    description="A read-only copy of a conversation up to a message: no ids, no owner."
)
class SharedConversation:
    title: str
    shared_at: dt.datetime
    messages: list[SharedMessage]


def _attachment(info: Info, row: AttachmentRow) -> SharedAttachment:
    s = info.context.services
    return SharedAttachment(
        name=row.name,
        media_type=row.media_type,
        size=row.size,
        download_url=s.store.download_url(
            row.storage_key,
            attachment_id=row.id,
            user_id=row.owner_id,
            filename=row.name,
            media_type=row.media_type,
            ttl_seconds=s.settings.signed_url_ttl_seconds,
        ),
    )


@strawberry.type
class Query:
    @strawberry.field(description="Your share links, newest first.")
    async def share_links(
        self, info: Info, conversation_id: strawberry.ID | None = None
    ) -> list[ShareLink]:
        user = await info.context.require_user()
        rows = await sharing.list_share_links(
            db=info.context.services.db, user=user, conversation_id=conversation_id
        )
        return [ShareLink.from_model(r) for r in rows]

    @strawberry.field(
        description="Public: the snapshot behind a share token, without an account. A "
        "revoked, expired or unknown token is NOT_FOUND."
    )
    async def shared_conversation(self, info: Info, token: str) -> SharedConversation:
        snapshot = await sharing.shared_conversation(db=info.context.services.db, token=token)
        return SharedConversation(
            title=snapshot.link.title,
            shared_at=snapshot.link.created_at,
            messages=[
                SharedMessage(
                    role=Role(m.role),
                    content=m.content,
                    model=m.model,
                    created_at=m.created_at,
                    attachments=[
                        _attachment(info, snapshot.attachments[a])
                        for a in m.attachment_ids
                        if a in snapshot.attachments
                    ],
                    raw_parts=list(m.parts or []),
                )
                for m in snapshot.messages
            ],
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A read-only snapshot of the conversation up to and including a message "
        "(copied now: later edits do not show), reachable with the returned token."
    )
    async def create_share_link(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        up_to_message_id: strawberry.ID,
        expires_at: dt.datetime | None = None,
    ) -> CreatedShareLink:
        user = await info.context.require_user()
        row, token = await sharing.create_share_link(
            db=info.context.services.db,
            user=user,
            conversation_id=conversation_id,
            up_to_message_id=up_to_message_id,
            expires_at=expires_at,
        )
        return CreatedShareLink(link=ShareLink.from_model(row), token=token)

    @strawberry.mutation(description="Stop a share link at once; revoking twice is harmless.")
    async def revoke_share_link(self, info: Info, id: strawberry.ID) -> ShareLink:
        user = await info.context.require_user()
        row = await sharing.revoke_share_link(db=info.context.services.db, user=user, link_id=id)
        return ShareLink.from_model(row)
