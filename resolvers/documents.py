"""GraphQL documents: limits checked before any work, and the cache of valid documents.

Shared by every transport. HTTP decodes with `decode_json` (strict JSON) and calls
`check_operation_sizes` before it hands an operation to the schema; a websocket `subscribe` should
do the same with its message and payload. Both then go through `KnownDocuments`, which reuses a
document that parsed and validated before, handles a long new one off the event loop, and
remembers only documents that passed; validation starts with `repeated_fields`, a cheap count
that keeps graphql-core's pairwise comparison of same-named fields small. The cache is bounded by
an estimate of the memory its documents hold, not only by their count: a parsed document costs
far more than its text.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from functools import partial
from typing import Any, TypeVar

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Token,
    TokenKind,
    parse,
)
from strawberry.extensions import SchemaExtension

from gql_api.errors import InvalidInput, PayloadTooLarge
from gql_api.settings import Settings

# What a parsed document holds per lexical token (its AST nodes and token objects), roughly.
BYTES_PER_TOKEN = 512
# Longer documents are parsed and validated off the event loop (KnownDocuments).
OFF_LOOP_CHARS = 2048
# Stands in for a document that failed to parse off the loop (its error is reported instead).
UNPARSED = parse("{ __typename }")
T = TypeVar("T")

Validate = Callable[[GraphQLSchema, DocumentNode], list[GraphQLError]]


def check_operation_sizes(query: object, variables: object, settings: Settings) -> None:
    """PAYLOAD_TOO_LARGE when the query text or the variables are over their byte limits.

    Cheap: counts bytes, parses nothing. Call it before the document is parsed or looked up."""
    if isinstance(query, str) and len(query) * 4 > settings.max_query_bytes:
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > settings.max_query_bytes:
            raise PayloadTooLarge(
                f"The query is {size} bytes, more than the limit of "
                f"{settings.max_query_bytes} bytes.",
                field="query",
                maxBytes=settings.max_query_bytes,
            )
    if variables:
        size = variables_size(variables)
        if size > settings.max_variables_bytes:
            raise PayloadTooLarge(
                f"The variables are {size} bytes, more than the limit of "
                f"{settings.max_variables_bytes} bytes.",
                field="variables",
                maxBytes=settings.max_variables_bytes,
            )


def variables_size(variables: object) -> int:
    """Bytes of the variables as compact JSON (what a client sends, give or take spaces)."""
    try:
        return len(orjson.dumps(variables))
    except TypeError:  # not JSON data (cannot come from a JSON request): measured as text
        return len(str(variables).encode("utf-8", "surrogatepass"))


def document_cost(query: str, document: DocumentNode) -> int:
    """Estimated bytes a cached document keeps alive: its text and its parsed tokens."""
    tokens = 0
    token: Token | None = document.loc.start_token if document.loc else None
    while token is not None and token.kind != TokenKind.EOF:
        tokens += 1
        token = token.next
    return len(query.encode("utf-8", "surrogatepass")) + tokens * BYTES_PER_TOKEN


def repeated_fields(document: DocumentNode, *, leaves: int, branches: int) -> list[GraphQLError]:
    """An error when the document asks for one response name more than `leaves` times, or for
    one with a sub-selection more than `branches` times.

    GraphQL's OverlappingFieldsCanBeMerged compares fields of the same name pairwise, and the
    sub-selections of each such pair field by field: a leaf repeated a thousand times, or a
    branch repeated fifty, costs hundreds of milliseconds of validation, and no client needs that.
    Counted over the whole document: cheap, and it also bounds repetitions spread over nested
    and fragment selections."""
    counts: dict[tuple[str, bool], int] = {}
    pending: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                branch = selection.selection_set is not None
                key = (name, branch)
                counts[key] = counts.get(key, 0) + 1
                limit = branches if branch else leaves
                if counts[key] > limit:
                    message = f"'{name}' is selected more than {limit} times in the document."
                    return [GraphQLError(message)]
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
    return []


class DocumentCache:
    """Valid documents by query text, least recently used first out, within a byte budget."""

    def __init__(self, *, max_bytes: int, max_count: int = 1024) -> None:
        self.max_bytes = max_bytes
        self.max_count = max_count
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[DocumentNode, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: object) -> DocumentNode | None:
        entry = self._entries.get(query) if isinstance(query, str) else None
        if entry is None:
            return None
        self._entries.move_to_end(query)  # type: ignore[arg-type]
        return entry[0]

    def put(self, query: str, document: DocumentNode) -> None:
        if query in self._entries:
            return
        cost = document_cost(query, document)
        if cost > self.max_bytes:
            return
        self._entries[query] = (document, cost)
        self.bytes += cost
        while self.bytes > self.max_bytes or len(self._entries) > self.max_count:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted


class KnownDocuments(SchemaExtension):
    """Skips parsing and validation for a document that passed both before; validates with
    GraphQL's rules plus ours otherwise, and remembers the document only when it is valid.

    A long document is parsed and validated on `executor` (one thread), not on the event loop:
    near the token limit either takes tens to hundreds of milliseconds, which every live answer
    of the process would otherwise wait for. The thread still shares the GIL, but the interpreter
    hands it back to the loop every few milliseconds.

    Strawberry's ParserCache would parse inside its hook, where a syntax error escapes
    Strawberry's handling, and its ValidationCache would also remember refused documents: text
    that fails costs its parse every time, never memory."""

    def __init__(self, cache: DocumentCache, validate: Validate, executor: Executor) -> None:
        super().__init__()
        self._cache = cache
        self._validate = validate
        self._executor = executor
        self._known = False
        self._off_loop = False
        self._syntax_error: GraphQLError | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        query = context.query
        known = self._cache.get(query)
        if known is not None:
            context.graphql_document = known
            self._known = True
        elif isinstance(query, str) and len(query) > OFF_LOOP_CHARS:
            self._off_loop = True
            options: dict[str, Any] = dict(context.parse_options)
            try:
                context.graphql_document = await self._run(partial(parse, query, **options))
            except GraphQLError as error:
                # Strawberry must not parse it again on the loop: it gets a placeholder
                # document, and the error comes out of validation, where it is reported.
                context.graphql_document = UNPARSED
                self._syntax_error = error
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if self._known:
            context.pre_execution_errors = []
        elif self._syntax_error is not None:
            context.pre_execution_errors = [self._syntax_error]
        elif document is not None:
            schema = context.schema._schema
            if self._off_loop:
                errors = await self._run(partial(self._validate, schema, document))
            else:
                errors = self._validate(schema, document)
            context.pre_execution_errors = errors
            if not errors and context.query is not None:
                self._cache.put(context.query, document)
        yield

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)


def decode_json(data: str | bytes) -> object:
    """Strict JSON for requests: valid UTF-8, no lone surrogates, nesting bounded (orjson's
    limit), and an object or a list at the top. BAD_USER_INPUT otherwise, never a crash."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"The request is not valid JSON: {exc}") from None
    if not isinstance(value, dict | list):
        raise InvalidInput(f"Expected a JSON object, got {orjson.dumps(value).decode()[:20]}.")
    return value
