"""Feedback on answers."""

from __future__ import annotations

import strawberry

from gql_api.context import Info
from gql_api.domain import feedback
from resolvers.types import Message, Rating


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Rate an answer UP or DOWN with an optional comment; `rating: null` clears "
        "both. Every tab sees the change as a MessageChanged event."
    )
    async def rate_message(
        self,
        info: Info,
        id: strawberry.ID,
        rating: Rating | None = None,
        comment: str | None = None,
    ) -> Message:
        user = await info.context.require_user()
        s = info.context.services
        row = await feedback.rate_message(
            db=s.db,
            broker=s.broker,
            user=user,
            message_id=id,
            rating=rating.value if rating else None,
            comment=comment,
        )
        return Message.from_model(row)
