"""A subscription's first event, written as soon as its subscribe message arrives.

Strawberry spends 0.15 to 0.18 ms on an operation before its resolver runs (the operation's
task, extension hooks, graphql-core's subscribe, argument conversion): most of a join's time to
its first event. For a root field registered here, resolvers.delivery.LiveDeltaHandler writes the
first event itself, before Strawberry runs the operation, when nothing could come out otherwise:

- the query text parsed and validated before, so Strawberry's caches hold it and it has no errors
  (ChatSchema.known_document);
- it is one subscription field, without directives, whose arguments coerce;
- the field's function gives the event from what the process holds (no I/O), or None.

Strawberry then runs the operation as always; its resolver asks `continued()` for what the
first event left it and goes on from there instead of making its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    get_operation_ast,
)
from graphql.execution.values import get_argument_values, get_variable_values

from gql_api.context import Context

# Given the connection's context and the field's coerced arguments (GraphQL names): the event
# object to execute the selection on, and what the resolver continues from; or None.
FirstEvent = Callable[[Context, dict[str, Any]], tuple[object, Any] | None]

_REGISTERED: dict[str, tuple[FirstEvent, type]] = {}


class KnownDocuments(Protocol):
    _schema: GraphQLSchema

    def known_document(self, query: object) -> DocumentNode | None: ...


def register(field: str, delta_type: type) -> Callable[[FirstEvent], FirstEvent]:
    """For the subscription field `field` (GraphQL name); `delta_type` as for delta_sink()."""

    def add(function: FirstEvent) -> FirstEvent:
        _REGISTERED[field] = (function, delta_type)
        return function

    return add


def early_call(
    schema: KnownDocuments, payload: dict[str, Any]
) -> tuple[FirstEvent, type, dict[str, Any]] | None:
    """The registered function, its delta type and its arguments, if the first event of this
    subscribe payload can be made before Strawberry runs it."""
    document = schema.known_document(payload.get("query"))
    if document is None:
        return None
    operation = get_operation_ast(document, payload.get("operationName"))
    if operation is None or operation.operation != OperationType.SUBSCRIPTION:
        return None
    fields = operation.selection_set.selections
    if len(fields) != 1 or not isinstance(fields[0], FieldNode) or fields[0].directives:
        return None
    field = fields[0]
    registered = _REGISTERED.get(field.name.value)
    root = schema._schema.subscription_type
    if registered is None or root is None or field.name.value not in root.fields:
        return None
    try:
        variables = get_variable_values(
            schema._schema, operation.variable_definitions or (), payload.get("variables") or {}
        )
        if isinstance(variables, list):  # coercion errors: Strawberry reports them
            return None
        arguments = get_argument_values(root.fields[field.name.value], field, variables)
    except (GraphQLError, TypeError, ValueError):
        return None
    function, delta_type = registered
    return function, delta_type, arguments
