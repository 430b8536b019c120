"""Assembles Query, Mutation and Subscription from the per-domain modules."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gql_api.settings import Settings
from resolvers import attachments, conversations, feeds, messages, projects, streams, users
from resolvers.errors import classify

DOMAINS = (users, projects, conversations, messages, streams, attachments)
Query = merge_types("Query", tuple(d.Query for d in DOMAINS))
Mutation = merge_types("Mutation", tuple(d.Mutation for d in DOMAINS))
Subscription = merge_types("Subscription", (streams.Subscription, feeds.Subscription))


class ChatSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            classify(error)


def build_schema(settings: Settings | None = None) -> ChatSchema:
    settings = settings or Settings()
    # Factories, not instances: a shared extension instance leaks state between requests.
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
    ]
    return ChatSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
