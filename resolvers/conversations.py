"""Conversations: create, change, move, delete, get, list, search."""

from __future__ import annotations

from typing import Any

import strawberry

from gql_api.context import Info
from gql_api.domain import conversations
from gql_api.domain.pagination import Page
from resolvers.types import (
    Conversation,
    ConversationConnection,
    ConversationEdge,
    Deleted,
    PageInfo,
)


@strawberry.input
class CreateConversationInput:
    title: str | None = None
    model: str | None = None
    project_id: strawberry.ID | None = None
    system_prompt: str | None = None


def connection(page: Page[Any], has_previous: bool) -> ConversationConnection:
    return ConversationConnection(
        edges=[
            ConversationEdge(cursor=c, node=Conversation.from_model(row))
            for row, c in zip(page.items, page.cursors, strict=True)
        ],
        page_info=PageInfo.of(page.cursors, has_next=page.has_more, has_previous=has_previous),
    )


@strawberry.type
class Query:
    @strawberry.field
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation:
        user = await info.context.require_user()
        row = await conversations.get_conversation(
            db=info.context.services.db, user=user, conversation_id=id
        )
        return Conversation.from_model(row)

    @strawberry.field(
        description="Pinned first, then most recently updated. `archived: null` lists both; "
        "`search` matches a part of the title, ignoring case."
    )
    async def conversations(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        archived: bool | None = False,
        project_id: strawberry.ID | None = None,
        search: str | None = None,
    ) -> ConversationConnection:
        user = await info.context.require_user()
        s = info.context.services
        page = await conversations.list_conversations(
            db=s.db,
            user=user,
            first=first,
            max_page=s.settings.page_size_max,
            after=after,
            archived=archived,
            project_id=project_id,
            search=search,
        )
        return connection(page, has_previous=after is not None)


async def _update(
    info: Info, id: str, kind: str, changes: dict[str, Any], *, touch: bool = True
) -> Conversation:
    user = await info.context.require_user()
    s = info.context.services
    row = await conversations.update_conversation(
        db=s.db,
        broker=s.broker,
        user=user,
        conversation_id=id,
        kind=kind,
        changes=changes,
        touch=touch,
    )
    return Conversation.from_model(row)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_conversation(
        self, info: Info, input: CreateConversationInput | None = None
    ) -> Conversation:
        user = await info.context.require_user()
        s = info.context.services
        data = input or CreateConversationInput()
        row = await conversations.create_conversation(
            db=s.db,
            broker=s.broker,
            user=user,
            max_title=s.settings.max_title_chars,
            title=data.title,
            model=data.model,
            project_id=data.project_id,
            system_prompt=data.system_prompt,
            catalog=s.models,
        )
        return Conversation.from_model(row)

    @strawberry.mutation
    async def rename_conversation(self, info: Info, id: strawberry.ID, title: str) -> Conversation:
        max_title = info.context.services.settings.max_title_chars
        changes = conversations.rename_changes(title, max_title=max_title)
        return await _update(info, id, "conversation.renamed", changes)

    @strawberry.mutation
    async def set_conversation_pinned(
        self, info: Info, id: strawberry.ID, pinned: bool
    ) -> Conversation:
        return await _update(info, id, "conversation.pinned", {"pinned": pinned}, touch=False)

    @strawberry.mutation
    async def set_conversation_archived(
        self, info: Info, id: strawberry.ID, archived: bool
    ) -> Conversation:
        return await _update(info, id, "conversation.archived", {"archived": archived})

    @strawberry.mutation(description="Save (or clear, with null) the unsent draft.")
    async def save_draft(
        self, info: Info, id: strawberry.ID, draft: str | None = None
    ) -> Conversation:
        changes = conversations.draft_changes(draft)
        return await _update(info, id, "conversation.draft", changes, touch=False)

    @strawberry.mutation(
        description="Which tools its answers may use: a list of tool and MCP server names, [] "
        "for none, or null to follow your preference (`toolsEnabled`)."
    )
    async def set_conversation_tools(
        self, info: Info, id: strawberry.ID, tools: list[str] | None = None
    ) -> Conversation:
        known = info.context.services.tools.names()
        changes = conversations.tools_changes(tools, known=known)
        return await _update(info, id, "conversation.tools", changes, touch=False)

    @strawberry.mutation(description="Move into a project, or out of any with `projectId: null`.")
    async def move_conversation(
        self, info: Info, id: strawberry.ID, project_id: strawberry.ID | None = None
    ) -> Conversation:
        user = await info.context.require_user()
        s = info.context.services
        row = await conversations.move_conversation(
            db=s.db, broker=s.broker, user=user, conversation_id=id, project_id=project_id
        )
        return Conversation.from_model(row)

    @strawberry.mutation(
        description="Delete with its messages, streams and attachments (bytes included)."
    )
    async def delete_conversation(self, info: Info, id: strawberry.ID) -> Deleted:
        user = await info.context.require_user()
        s = info.context.services
        deleted = await conversations.delete_conversation(
            db=s.db, broker=s.broker, store=s.store, user=user, conversation_id=id
        )
        return Deleted(id=strawberry.ID(deleted))
