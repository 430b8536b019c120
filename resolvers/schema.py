"""Assembles Query, Mutation and Subscription from the per-domain modules."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
)
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gql_api.settings import Settings
from resolvers import attachments, conversations, feeds, messages, projects, streams, users
from resolvers.errors import classify

DOMAINS = (users, projects, conversations, messages, streams, attachments)
Query = merge_types("Query", tuple(d.Query for d in DOMAINS))
Mutation = merge_types("Mutation", tuple(d.Mutation for d in DOMAINS))
Subscription = merge_types("Subscription", (streams.Subscription, feeds.Subscription))


ONE_RESULT = (OperationType.QUERY, OperationType.MUTATION)


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

    def use_caches(self, documents: OrderedDict[str, DocumentNode], validate: Validate) -> None:
        self._documents, self._validate = documents, validate

    def known_document(self, query: object) -> DocumentNode | None:
        """The document of a query text that parsed and validated before, from the caches the
        operations use (ParsedDocuments, CachedValidation); None otherwise."""
        document = self._documents.get(query) if isinstance(query, str) else None
        if document is None or self._validate(self._schema, document):
            return None
        return document


class ParsedDocuments(SchemaExtension):
    """Documents parsed before, by query text: a client sends the same few again and again.

    Strawberry's ParserCache parses inside its hook, where a syntax error escapes Strawberry's
    handling (over websockets it became a silent `complete`); here Strawberry still parses and
    reports everything new, and only documents that parsed are remembered.
    """

    def __init__(self, documents: OrderedDict[str, DocumentNode], size: int) -> None:
        super().__init__()
        self._documents = documents
        self._size = size

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        known = self._documents.get(query) if query is not None else None
        if known is not None:
            self._documents.move_to_end(query)  # type: ignore[arg-type]
            context.graphql_document = known
        yield
        if known is None and query is not None and context.graphql_document is not None:
            self._documents[query] = context.graphql_document
            while len(self._documents) > self._size:
                self._documents.popitem(last=False)


Validate = Callable[[GraphQLSchema, DocumentNode], list[GraphQLError]]


class CachedValidation(SchemaExtension):
    """Validates with GraphQL's rules plus ours, remembering the result per document.

    What AddValidationRules and ValidationCache do together, minus their cost per operation: a
    new tuple of every rule, and a hook held open for as long as a subscription lives."""

    def __init__(self, validate: Validate) -> None:
        super().__init__()
        self._validate = validate

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = self._validate(
                context.schema._schema, context.graphql_document
            )
        yield


def cached_validation(rules: tuple[type[ASTValidationRule], ...], size: int) -> Validate:
    """validate(schema, document) with `rules`; results of the last `size` documents kept."""

    @lru_cache(maxsize=size)
    def validate(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        return validate_document(schema, document, rules)

    return validate


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
    validate = cached_validation(rules, size=512)
    documents: OrderedDict[str, DocumentNode] = OrderedDict()
    extensions: list[Any] = [
        lambda: ParsedDocuments(documents, size=512),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: CachedValidation(validate),
    ]
    schema = ChatSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    schema.use_caches(documents, validate)
    return schema
