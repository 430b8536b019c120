"""The `next` payload of a live delta, executed and encoded once for all who share a document.

Subscribers that sent the same document, with the same values for the variables its selection
uses, get the same payload; `streamId` and `offset` are arguments of the root field, which only
pick the stream, so a thousand subscribers of one stream share one execution per delta.

It executes without a context: whatever StreamDelta and StreamSnapshot expose must not depend on
who is watching (ownership is checked when the subscription starts, as for every stream event).
A field that needs the context fails here, and the event goes through Strawberry instead.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any

import orjson
from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    execute,
    parse,
    visit,
)
from graphql.language.visitor import SKIP


class DeltaEncoder:
    """The `next` payload of a delta for one document: executed once, kept for the last delta."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any],
        delta_type: type,
    ) -> None:
        self._schema = schema
        self._document = document
        self._operation_name = operation_name
        self._variables = variables
        self._delta_type = delta_type
        self._last: tuple[int, int, str] | None = None
        self._payload: str | None = None
        self._event: dict[str, Any] | None = None  # the event object _payload was made for

    def payload(self, event: dict[str, Any]) -> str | None:
        """JSON of `{"data": ...}` for a delta event, or None if it did not execute cleanly."""
        if event is self._event:  # every subscriber after the first, for the same delta
            return self._payload
        key = (event["seq"], event["offset"], event["text"])
        if key == self._last:
            self._event = event
            return self._payload
        payload = self.encode(self._delta_type(seq=key[0], offset=key[1], text=key[2]))
        if payload is None:
            return None
        self._last, self._payload = key, payload
        self._event = event
        return payload

    def encode(self, root: object) -> str | None:
        """JSON of `{"data": ...}` for one event object (not remembered), or None if it did not
        execute cleanly."""
        data = self._execute(root)
        return None if data is None else orjson.dumps({"data": data}).decode()

    def encode_next(self, root: object, operation_id: str) -> bytes | None:
        """The whole `next` message for one event object, UTF-8: for a snapshot, which is one
        subscriber's and can be megabytes, one buffer rather than a copy per step."""
        data = self._execute(root)
        if data is None:
            return None
        return orjson.dumps({"id": operation_id, "type": "next", "payload": {"data": data}})

    def _execute(self, root: object) -> dict[str, Any] | None:
        result = execute(
            self._schema,
            self._document,
            root_value=root,
            variable_values=self._variables,
            operation_name=self._operation_name,
        )
        if not isinstance(result, ExecutionResult):  # an async resolver: not for this path
            if asyncio.iscoroutine(result):
                result.close()
            return None
        if result.errors or result.data is None:
            return None
        return result.data


class PayloadCache:
    """The encoders in use, shared by all the subscriptions of a process; least recently used
    ones go first."""

    def __init__(self, schema: GraphQLSchema, size: int = 256) -> None:
        self._schema = schema
        self._size = size
        self._encoders: OrderedDict[tuple[Any, ...], DeltaEncoder] = OrderedDict()
        # per (query, operation name): its document and the variables its selection uses, or
        # None if it cannot be shared
        self._shapes: OrderedDict[
            tuple[str, str | None], tuple[DocumentNode, tuple[str, ...]] | None
        ] = OrderedDict()

    def encoder(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any],
        delta_type: type,
    ) -> DeltaEncoder | None:
        base = (query, operation_name)
        shape = self._shape(base)
        if shape is None:
            return None
        document, used = shape
        key = (*base, *((name, _canonical(variables.get(name))) for name in used))
        made = _recall(self._encoders, key)
        if made is None:
            made = DeltaEncoder(self._schema, document, operation_name, variables, delta_type)
            _remember(self._encoders, key, made, self._size)
        return made

    def _shape(self, base: tuple[str, str | None]) -> tuple[DocumentNode, tuple[str, ...]] | None:
        """The parsed document and the variables its selection depends on (parsed once)."""
        if base in self._shapes:
            return _recall(self._shapes, base)
        shape: tuple[DocumentNode, tuple[str, ...]] | None
        try:
            document = parse(base[0])
            shape = document, _variables_below_root(document, base[1])
        except GraphQLError:
            shape = None
        _remember(self._shapes, base, shape, self._size)
        return shape


def _recall(lru: OrderedDict[Any, Any], key: Any) -> Any:
    found = lru.get(key)
    if key in lru:
        lru.move_to_end(key)
    return found


def _remember(lru: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    lru[key] = value
    while len(lru) > size:
        lru.popitem(last=False)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _variables_below_root(document: DocumentNode, operation_name: str | None) -> tuple[str, ...]:
    """Names of the variables used anywhere but in the root field's own arguments."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or _name(o) == operation_name]
    if len(chosen) != 1:
        raise GraphQLError("no single operation to execute")
    operation = chosen[0]
    roots = {id(s) for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    found: set[str] = set()

    class Collect(Visitor):
        def enter_argument(
            self, node: ArgumentNode, _key: Any, _parent: Any, path: Any, ancestors: Any
        ) -> Any:
            # The root field's arguments pick the stream and offset, not the shape of an event.
            if ancestors and id(ancestors[-1]) in roots:
                return SKIP
            return None

        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            found.add(node.name.value)

    # the operation's variable definitions are skipped: they declare, they do not use
    for definition in document.definitions:
        if definition is operation:
            visit(operation.selection_set, Collect())
            for directive in operation.directives or ():
                visit(directive, Collect())
        elif not isinstance(definition, OperationDefinitionNode):
            visit(definition, Collect())
    return tuple(sorted(found))


def _name(operation: OperationDefinitionNode) -> str | None:
    return operation.name.value if operation.name else None
