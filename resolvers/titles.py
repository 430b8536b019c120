"""Titles written by the model."""

from __future__ import annotations

import strawberry

from gql_api.context import Info
from gql_api.domain import titles
from resolvers.types import Conversation


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Ask the model for a new title from the first exchange, replacing the "
        "current one (also one the user set). Every tab sees it as a rename."
    )
    async def regenerate_title(self, info: Info, id: strawberry.ID) -> Conversation:
        user = await info.context.require_user()
        s = info.context.services
        row = await titles.regenerate_title(
            db=s.db,
            broker=s.broker,
            provider=s.provider,
            settings=s.settings,
            default_model=s.models.default_model,
            user=user,
            conversation_id=id,
        )
        return Conversation.from_model(row)
