"""One log line and a few metrics per request and per GraphQL operation.

`RequestLog` (ASGI, HTTP only) gives each request an id (the client's `X-Request-ID` when it is
a plain token, a new one otherwise), echoes it in the response, and writes one access line
when the response is done: method, route, status, duration, and for GraphQL the operation's
name, type, root field, user and error codes, which `OperationObserver` (a Strawberry
extension) leaves on the request. An operation with no HTTP request around it (a websocket's)
gets its own line from the extension.

Never in a line: headers, tokens, variables or any text of a message.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLError, get_operation_ast
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from gql_api.logs import FIELDS
from gql_api.metrics import Metrics

access_log = logging.getLogger("chatgql.access")
operation_log = logging.getLogger("chatgql.operation")

RECORD = "chatgql.operation"  # the scope key of a request's OperationRecord
CONNECTION_ID = "chatgql.connection_id"  # the scope key of a websocket's request id
REQUEST_ID_HEADER = b"x-request-id"
# A client's id is kept only when it cannot forge a log line or grow without bound.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Route labels: these prefixes, else the matched route's template (both bounded by the app).
ROUTE_PREFIXES = ("/graphql", "/uploads", "/files", "/health", "/metrics")
QUIET_ROUTES = frozenset({"/health", "/metrics"})  # polled every few seconds: debug level
NAME_CHARS = 100


@dataclass
class OperationRecord:
    request_id: str
    name: str | None = None  # the client's operation name
    type: str | None = None
    root: str | None = None  # the first root field
    user: str | None = None
    codes: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"request_id": self.request_id}
        if self.type is not None:
            out.update(
                operation=self.name,
                type=self.type,
                field=self.root,
                user=self.user,
                errors=self.codes,
            )
        return out


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if CLIENT_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return "unmatched"
    path: str = scope["path"]
    for prefix in ROUTE_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return getattr(route, "path", None) or "other"


class RequestLog:
    """Request id, access line and HTTP metrics for every HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None) -> None:
        self.app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = OperationRecord(request_id_from(scope["headers"]))
        scope[RECORD] = record
        status = 500  # unless a response starts
        header = (REQUEST_ID_HEADER, record.request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope)
            method = scope["method"] if scope["method"] in METHODS else "other"
            if self._metrics is not None:
                self._metrics.http_requests.labels(method, route, str(status)).inc()
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            if access_log.isEnabledFor(level):
                fields = {
                    **record.fields(),
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                }
                access_log.log(level, "%s %s %s", method, route, status, extra={FIELDS: fields})


def operation_finished(
    metrics: Metrics | None,
    *,
    scope: Any,
    op_type: str,
    root: str,
    name: str | None,
    user_id: str | None,
    codes: list[str],
    seconds: float,
) -> None:
    """Count an operation and give it its line: on the request's access line over HTTP (the
    scope holds a record), a line of its own otherwise. `root` must be a field of the schema
    or "unknown". For transports that run an operation outside Strawberry's pipeline too."""
    if metrics is not None:
        metrics.operations.labels(op_type, root).inc()
        metrics.operation_seconds.labels(op_type).observe(seconds)
        for code in codes:
            metrics.errors.labels(op_type, root, code).inc()
    record = scope.get(RECORD) if isinstance(scope, dict) else None
    standalone = record is None
    if record is None:  # over a websocket: this operation's own line
        if isinstance(scope, dict):
            # the connection's id (its upgrade request's X-Request-ID, or one made here) on
            # every operation it carries
            if CONNECTION_ID not in scope:
                scope[CONNECTION_ID] = request_id_from(scope.get("headers", []))
            record = OperationRecord(scope[CONNECTION_ID])
        else:
            record = OperationRecord(uuid.uuid4().hex)
    record.name = (name or "")[:NAME_CHARS] or None
    record.type, record.root, record.codes, record.user = op_type, root, codes, user_id
    if standalone and operation_log.isEnabledFor(logging.INFO):
        fields = {**record.fields(), "duration_ms": round(seconds * 1000, 2)}
        operation_log.info("%s %s", op_type, root, extra={FIELDS: fields})


class OperationObserver(SchemaExtension):
    """Per GraphQL operation: counts by type and root field, errors by code, duration."""

    def __init__(self, metrics: Metrics | None) -> None:
        super().__init__()
        self._metrics = metrics

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        context = self.execution_context
        op_type, root = self._operation()
        errors = context.pre_execution_errors or (context.result.errors if context.result else None)
        codes = [_code(error) for error in errors or ()]
        user = getattr(context.context, "user", None)
        request = getattr(context.context, "request", None)
        operation_finished(
            self._metrics,
            scope=getattr(request, "scope", None),
            op_type=op_type,
            root=root,
            name=context.operation_name,
            user_id=getattr(user, "id", None),
            codes=codes,
            seconds=seconds,
        )

    def _operation(self) -> tuple[str, str]:
        """(type, root field); names the schema does not know become "unknown", so a client
        cannot add label values."""
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if operation is None:
            return "unknown", "unknown"
        op_type = operation.operation.value
        root_type = context.schema._schema.get_root_type(operation.operation)
        first = operation.selection_set.selections[0] if operation.selection_set else None
        name = first.name.value if isinstance(first, FieldNode) else None
        if root_type is None or name is None or name not in root_type.fields:
            return op_type, "unknown"
        return op_type, name


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else "INTERNAL_SERVER_ERROR"
