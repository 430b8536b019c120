"""Messages: list, add, edit, delete."""

from __future__ import annotations

from enum import Enum

import strawberry

from gql_api.context import Info
from gql_api.domain import messages
from resolvers.types import Deleted, Message, MessageConnection, MessageEdge, PageInfo


@strawberry.enum
class AuthorRole(Enum):
    """Roles a client may write; assistant messages come from the model."""

    USER = "user"
    SYSTEM = "system"


@strawberry.input
class AddMessageInput:
    conversation_id: strawberry.ID
    content: str
    role: AuthorRole = AuthorRole.USER
    client_message_id: str | None = strawberry.field(
        default=None, description="Idempotency key: the same id again returns the same message."
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="The conversation's current path (or the path to `leafId`), oldest "
        "first. `first`/`after` pages forward; `last` (with `before`) gives the newest "
        "messages, still oldest first."
    )
    async def messages(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        leaf_id: strawberry.ID | None = None,
    ) -> MessageConnection:
        user = await info.context.require_user()
        s = info.context.services
        page = await messages.list_messages(
            db=s.db,
            user=user,
            conversation_id=conversation_id,
            max_page=s.settings.page_size_max,
            first=first,
            after=after,
            last=last,
            before=before,
            leaf_id=leaf_id,
        )
        backwards = last is not None
        return MessageConnection(
            edges=[
                MessageEdge(cursor=c, node=Message.from_model(row))
                for row, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(
                page.cursors,
                has_next=page.has_more if not backwards else before is not None,
                has_previous=page.has_more if backwards else after is not None,
            ),
        )

    @strawberry.field
    async def message(self, info: Info, id: strawberry.ID) -> Message:
        user = await info.context.require_user()
        row = await messages.get_message(db=info.context.services.db, user=user, message_id=id)
        return Message.from_model(row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add a user or system message without asking the model.")
    async def add_message(self, info: Info, input: AddMessageInput) -> Message:
        user = await info.context.require_user()
        s = info.context.services
        row = await messages.add_message(
            db=s.db,
            broker=s.broker,
            user=user,
            conversation_id=input.conversation_id,
            role=input.role.value,
            content=input.content,
            client_message_id=input.client_message_id,
            max_chars=s.settings.max_message_chars,
        )
        return Message.from_model(row)

    @strawberry.mutation
    async def edit_message(self, info: Info, id: strawberry.ID, content: str) -> Message:
        user = await info.context.require_user()
        s = info.context.services
        row = await messages.edit_message(
            db=s.db,
            broker=s.broker,
            user=user,
            message_id=id,
            content=content,
            max_chars=s.settings.max_message_chars,
        )
        return Message.from_model(row)

    @strawberry.mutation
    async def delete_message(self, info: Info, id: strawberry.ID) -> Deleted:
        user = await info.context.require_user()
        s = info.context.services
        await messages.delete_message(
            db=s.db, broker=s.broker, store=s.store, user=user, message_id=id
        )
        return Deleted(id=id)
