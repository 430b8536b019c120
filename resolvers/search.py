"""Full-text search over the caller's messages and conversation titles."""

from __future__ import annotations

import strawberry

from gql_api.context import Info
from gql_api.domain import search as domain
from resolvers.types import Conversation, Message, PageInfo


@strawberry.type(description="A conversation whose title or one of whose messages matched.")
class SearchHit:
    conversation: Conversation
    message: Message | None = strawberry.field(
        description="The message that matched; null when the conversation's title matched."
    )
    snippet: str = strawberry.field(
        description="HTML-escaped text around the matches, each inside <mark>...</mark>."
    )
    score: float = strawberry.field(description="Higher is a better match.")

    @classmethod
    def of(cls, hit: domain.SearchHit) -> SearchHit:
        return cls(
            conversation=Conversation.from_model(hit.conversation),
            message=Message.from_model(hit.message) if hit.message else None,
            snippet=hit.snippet,
            score=hit.score,
        )


@strawberry.type
class SearchEdge:
    cursor: str
    node: SearchHit


@strawberry.type
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field(
        description="Messages and titles of your conversations containing every word of "
        "`query` (case and accents ignored), best matches first. Finished answers are indexed "
        "when they finish."
    )
    async def search(
        self, info: Info, query: str, first: int = 20, after: str | None = None
    ) -> SearchConnection:
        user = await info.context.require_user()
        s = info.context.services
        page = await domain.search(
            db=s.db,
            user=user,
            query=query,
            first=first,
            max_page=s.settings.page_size_max,
            after=after,
        )
        return SearchConnection(
            edges=[
                SearchEdge(cursor=c, node=SearchHit.of(hit))
                for hit, c in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(
                page.cursors, has_next=page.has_more, has_previous=after is not None
            ),
        )
