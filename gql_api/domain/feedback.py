"""Feedback on answers: a rating (up or down) with an optional comment, synced to every tab."""

from __future__ import annotations

from gql_api.db import Database
from gql_api.domain.messages import message_event
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import refuse_nul, require_id
from gql_api.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from gql_api.feeds import Publisher
from models.base import utcnow
from models.messages import Message, owned_message

RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 2000


def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    refuse_nul(comment, "comment")
    if len(comment) > MAX_COMMENT_CHARS:
        raise PayloadTooLarge(
            f"comment is longer than {MAX_COMMENT_CHARS} characters", field="comment"
        )
    return comment.strip() or None


async def rate_message(
    *,
    db: Database,
    broker: Publisher,
    user: CurrentUser,
    message_id: str,
    rating: str | None,
    comment: str | None,
) -> Message:
    """Set or change the rating of an answer; `rating=None` clears it and its comment."""
    require_id(message_id, "id")
    if rating is not None and rating not in RATINGS:
        raise InvalidInput("rating must be UP, DOWN or null", field="rating")
    text = clean_comment(comment)
    if rating is None and text is not None:
        raise InvalidInput("a comment needs a rating", field="comment")
    async with db.write() as session:
        found = await owned_message(session, user.id, message_id, for_update=True)
        if found is None:
            raise NotFound("Message not found")
        message, _ = found
        if message.role != "assistant":
            raise InvalidInput("only answers can be rated", field="id")
        if message.status in ("streaming", "pending"):
            raise Conflict("Message is still being generated")
        message.rating = rating
        message.rating_comment = text
        message.rated_at = utcnow() if rating is not None else None
    await message_event(db, broker, user, "message.updated", message)
    return message
