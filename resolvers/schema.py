"""Assembles Query, Mutation and Subscription from the per-domain modules."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.schema import validate_document
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gql_api.settings import Settings
from resolvers import (
    attachments,
    branches,
    conversations,
    feedback,
    feeds,
    messages,
    projects,
    providers,
    search,
    sharing,
    streams,
    titles,
    tools,
    transfer,
    usage,
    users,
)
from resolvers.documents import DocumentCache, KnownDocuments, repeated_fields
from resolvers.errors import classify

DOMAINS = (
    users,
    projects,
    conversations,
    messages,
    streams,
    branches,
    attachments,
    tools,
    providers,
    transfer,
    sharing,
)
Query = merge_types("Query", (*(d.Query for d in (*DOMAINS, usage)), search.Query))
Mutation = merge_types(
    "Mutation", (*(d.Mutation for d in DOMAINS), feedback.Mutation, titles.Mutation)
)
Subscription = merge_types("Subscription", (streams.Subscription, feeds.Subscription))


ONE_RESULT = (OperationType.QUERY, OperationType.MUTATION)

# The most times a document may ask for one response name: a leaf, a field with a sub-selection
# (resolvers/documents.py, repeated_fields).
REPEATED_LEAVES = 100
REPEATED_BRANCHES = 10


class ChatSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            classify(error)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Queries and mutations. A subscription sent here (a POST to /graphql) is refused as
        the wrong operation type: `execute` would resolve its field once, to an iterator."""
        allowed = set(allowed_operation_types or ONE_RESULT) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed,
            operation_extensions=operation_extensions,
        )

    def use_cache(self, documents: DocumentCache) -> None:
        self.documents = documents

    def known_document(self, query: object) -> DocumentNode | None:
        """The document of a query text that parsed and validated before (KnownDocuments'
        cache); None otherwise."""
        return self.documents.get(query)


def build_schema(settings: Settings | None = None) -> ChatSchema:
    settings = settings or Settings()
    # The limit rules are built once (so validation results can be cached per document) and
    # the extensions are factories: a shared extension instance leaks state between requests.
    rules = (
        *specified_rules,
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        # What Strawberry's DisableIntrospection adds, in the cached rules
        *(() if settings.introspection_enabled else (NoSchemaIntrospectionCustomRule,)),
    )
    documents = DocumentCache(max_bytes=settings.document_cache_bytes)
    # One thread: long documents are handled one at a time, and never all at once on the GIL.
    document_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents")

    def validate(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        repeated = repeated_fields(document, leaves=REPEATED_LEAVES, branches=REPEATED_BRANCHES)
        return repeated or validate_document(schema, document, rules)

    extensions: list[Any] = [
        lambda: KnownDocuments(documents, validate, document_thread),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
    ]
    schema = ChatSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    schema.use_cache(documents)
    return schema
