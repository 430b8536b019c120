"""Assembles Query, Mutation and Subscription from the per-domain modules."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
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
    # The limit rules are built once (so validation results can be cached per document) and
    # the extensions are factories: a shared extension instance leaks state between requests.
    # No ParserCache: over websockets it turns a parse error into a silent `complete`.
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    extensions: list[Any] = [
        lambda: AddValidationRules(limits),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: ValidationCache(maxsize=512),
    ]
    return ChatSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
