"""Export and import of conversations as one JSON document (docs/export-format.md)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gql_api.context import Info
from gql_api.domain import transfer
from resolvers.types import Conversation


@strawberry.type
class ImportResult:
    conversations: list[Conversation] = strawberry.field(
        description="Every conversation of the document as stored now (new or already there)."
    )
    conversations_created: int
    messages_created: int


@strawberry.type
class Query:
    @strawberry.field(
        description="Your conversations as one JSON document (docs/export-format.md): the "
        "whole message tree, parts, usage, attachment metadata with signed links. All of them "
        "when `conversationIds` is null."
    )
    async def export_conversations(
        self, info: Info, conversation_ids: list[strawberry.ID] | None = None
    ) -> JSON:
        user = await info.context.require_user()
        document = await transfer.export_conversations(
            svc=info.context.services,
            user=user,
            conversation_ids=None
            if conversation_ids is None
            else [str(i) for i in conversation_ids],
        )
        return JSON(document)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Store a document from `exportConversations` as yours, all or nothing. "
        "Rows you already have are left alone (importing twice creates nothing); ids that "
        "belong to another user get new ids. BAD_USER_INPUT names the first error's path "
        "(`extensions.path`); PAYLOAD_TOO_LARGE over maxImportBytes."
    )
    async def import_conversations(self, info: Info, document: JSON) -> ImportResult:
        user = await info.context.require_user()
        done = await transfer.import_conversations(
            svc=info.context.services, user=user, document=document
        )
        return ImportResult(
            conversations=[Conversation.from_model(c) for c in done.conversations],
            conversations_created=done.conversations_created,
            messages_created=done.messages_created,
        )
