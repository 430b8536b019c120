"""The message tree: edit and send again, choose a branch, fork a conversation."""

from __future__ import annotations

import strawberry

from gql_api.context import Info
from gql_api.domain import alternatives, branches
from resolvers.streams import SendMessagePayload, _payload
from resolvers.types import Conversation


@strawberry.input
class EditAndResendInput:
    message_id: strawberry.ID = strawberry.field(description="The user message to edit.")
    content: str
    client_message_id: str | None = strawberry.field(
        default=None, description="Idempotency key: the same id again returns the same rows."
    )
    model: str | None = None


@strawberry.type
class BranchSelection:
    conversation: Conversation
    leaf_id: strawberry.ID = strawberry.field(description="The last message of the new path.")


@strawberry.type
class Query:
    pass


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Send an edited copy of a user message as its sibling, with a new answer; "
        "the copy's branch becomes current, the original keeps its answer and later turns. "
        "CONFLICT while an answer is being generated in the conversation."
    )
    async def edit_and_resend(self, info: Info, input: EditAndResendInput) -> SendMessagePayload:
        user = await info.context.require_user()
        sent = await alternatives.edit_and_resend(
            svc=info.context.services,
            user=user,
            message_id=input.message_id,
            content=input.content,
            client_message_id=input.client_message_id,
            model=input.model,
        )
        return _payload(sent)

    @strawberry.mutation(
        description="Make the path through this message current in every tab; it goes down "
        "to the most recent turn below the message, so later turns of that branch stay visible."
    )
    async def select_branch(self, info: Info, message_id: strawberry.ID) -> BranchSelection:
        user = await info.context.require_user()
        s = info.context.services
        chosen = await branches.select_branch(
            db=s.db, broker=s.broker, user=user, message_id=message_id
        )
        return BranchSelection(
            conversation=Conversation.from_model(chosen.conversation),
            leaf_id=strawberry.ID(chosen.leaf_id),
        )

    @strawberry.mutation(
        description="A new conversation with copies of the path up to this message "
        "(attachments are not copied)."
    )
    async def fork_conversation(self, info: Info, message_id: strawberry.ID) -> Conversation:
        user = await info.context.require_user()
        s = info.context.services
        row = await branches.fork_conversation(
            db=s.db, broker=s.broker, user=user, message_id=message_id
        )
        return Conversation.from_model(row)
