"""The application factory: FastAPI + Strawberry, with services built in the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from fastapi import FastAPI
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry import Schema
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from gql_api.auth import bearer_token
from gql_api.body_limit import GraphQLBodyLimit
from gql_api.chat_page import mount_chat_page
from gql_api.context import Context
from gql_api.cors import CrossOrigin
from gql_api.errors import ChatError
from gql_api.files import chat_error_response, error_response, http_error_code
from gql_api.files import router as files_router
from gql_api.graphiql import router as graphiql_router
from gql_api.graphql_http import GraphQLHTTPRouter
from gql_api.metrics import Metrics, metrics_endpoint
from gql_api.observe import OperationObserver, RequestLog
from gql_api.runtime import build_services
from gql_api.services import Services
from gql_api.settings import Settings
from gql_api.upload_guard import GraphQLUploadGuard
from resolvers.delivery import SERVER_SEND, LiveDeltaHandler
from resolvers.delta_payloads import PayloadCache
from resolvers.documents import check_operation_sizes, decode_json
from resolvers.schema import build_schema
from resolvers.streams import per_event_executor

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("chatgql")

GRAPHQL_PATH = "/graphql"


def encode_json(data: object) -> str:
    # orjson: 5x faster than json on big texts (a 1 MB snapshot: 0.3 ms instead of 1.5 ms).
    # A str, so websocket messages stay text frames.
    return orjson.dumps(data).decode()


class RequestRefused(Exception):
    """A request refused before its operation runs, answered with the error's own HTTP status
    (not as GraphQLHTTPRouter answers a refused persisted document)."""

    def __init__(self, error: ChatError) -> None:
        super().__init__(error.message)
        self.error = error


class ChatRouter(GraphQLHTTPRouter):
    """Queries and mutations over HTTP (GraphiQL too); websockets go to ChatWebSockets.

    Every refusal is a GraphQL error body with `extensions.code`, Strawberry's own too."""

    def __init__(self, schema: Schema, settings: Settings, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.settings = settings

    def encode_json(self, data: object) -> str:
        return encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return decode_json(data)
        except ChatError as exc:
            raise RequestRefused(exc) from None

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):
            try:
                check_operation_sizes(data.query, data.variables, self.settings)
            except ChatError as exc:
                raise RequestRefused(exc) from None
        return data

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except RequestRefused as refused:
            return chat_error_response(refused.error)
        except HTTPException as exc:
            return error_response(exc.status_code, http_error_code(exc.status_code), exc.reason)
        finally:
            if isinstance(request, Request):
                # The temporary files of a multipart upload, whether an operation used them or not.
                await request.close()


class ChatWebSockets(GraphQL[Context, None]):
    """graphql-transport-ws, served by Strawberry's own ASGI app rather than through FastAPI's
    router: a connection lives as long as a browser tab, and FastAPI's routing and dependency
    scopes were kept alive with it for nothing (see bench/README.md, memory)."""

    graphql_transport_ws_handler_class = LiveDeltaHandler

    def __init__(self, schema: Schema, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            keep_alive=True,
            keep_alive_interval=15,
            # gql_api.cors.CrossOrigin has checked the handshake's Origin before this app
            allowed_origins=["*"],
        )
        # shared by every subscription of this app: one execution and encoding per delta
        self.delta_payloads = PayloadCache(schema._schema)

    def encode_json(self, data: object) -> str:
        return encode_json(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        context = Context(request.state.services, websocket=True)
        context.request = request
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set websocket headers: the token comes in `connection_init`."""
        params = context.connection_params
        if not isinstance(params, dict):
            raise ConnectionRejectionError({"reason": "connection_init payload must be an object"})
        raw = params.get("authorization") or params.get("Authorization") or params.get("token")
        try:
            if not isinstance(raw, str):
                raise ChatError("missing token")
            token = bearer_token(raw) if " " in raw else raw
            if not token:
                raise ChatError("missing token")
            identity = await context.services.verifier.verify(token)
            context.user = await context.services.users.resolve(identity)
        except ChatError as exc:
            raise ConnectionRejectionError({"reason": exc.message}) from exc
        context.connection_params = None  # checked: the token is not kept for the connection's life
        return None


class ChatAPI(FastAPI):
    """FastAPI, except that websockets on /graphql go straight to ChatWebSockets.

    A websocket lives as long as a browser tab, and every layer it passes through keeps a frame
    alive for that long: FastAPI's and Starlette's middleware (none of which does anything for
    a websocket) cost ~1.2 KB a connection (bench memory). Its scope also gets the server's own
    `send` (SERVER_SEND), for the delta frames.
    """

    def __init__(self, *, websockets: ChatWebSockets, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.websockets = websockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].rstrip("/") == GRAPHQL_PATH:
            scope["app"] = self
            scope[SERVER_SEND] = send
            await self.websockets(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The app; with `CHATGQL_OTEL` its traces go to `tracer_provider` (default: one built from
    the OTEL_* variables, shut down with the app)."""
    settings = settings or Settings()
    metrics = Metrics()  # this app's own registry: tests build many apps in one process
    counted = metrics if settings.metrics else None
    owned_provider = None
    if settings.otel and tracer_provider is None:
        from gql_api.tracing import build_provider

        tracer_provider = owned_provider = build_provider()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        try:
            async with build_services(settings, metrics) as services:
                # What exists now (modules, schema, ORM mappings: ~150k objects) lives as long
                # as the process; leaving it out of garbage collection takes ~30 ms off every
                # full collection, which would otherwise stall every stream's delivery.
                gc.collect()
                gc.freeze()
                _app.state.services = services  # the serve command drains them on SIGTERM
                yield {"services": services}
        finally:
            if owned_provider is not None:
                owned_provider.shutdown()  # exports the spans still batched

    async def get_context(connection: HTTPConnection) -> Context:
        services: Services = connection.state.services
        return Context(services)

    schema = build_schema(settings)
    schema.execution_context_class = per_event_executor(schema.execution_context_class)
    observers: list[Any] = [lambda: OperationObserver(counted)]
    if settings.otel and tracer_provider is not None:
        from gql_api.tracing import graphql_extension

        observers.append(graphql_extension(tracer_provider))
    schema.extensions = (*observers, *schema.extensions)
    router = ChatRouter(
        schema,
        settings,
        context_getter=get_context,
        subscription_protocols=[],  # ChatWebSockets serves them
        # Uploads (GraphQL multipart request spec); GraphQLUploadGuard keeps out cross-site
        # form posts and oversized bodies before Starlette parses the form.
        multipart_uploads_enabled=True,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
    )
    app = ChatAPI(
        websockets=ChatWebSockets(schema, settings),
        title="chatgql",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(router, prefix=GRAPHQL_PATH)
    app.include_router(files_router)
    if settings.graphiql_enabled:
        app.include_router(graphiql_router)
    if settings.chat_page_enabled:
        mount_chat_page(app, settings)
    app.add_middleware(GraphQLUploadGuard, path=GRAPHQL_PATH)
    app.add_middleware(GraphQLBodyLimit, path=GRAPHQL_PATH)
    app.add_middleware(RequestLog, metrics=counted)
    if settings.otel and tracer_provider is not None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app.add_middleware(OpenTelemetryMiddleware, tracer_provider=tracer_provider)
    if settings.metrics:
        # empty (as compose passes an unset variable): open
        endpoint = metrics_endpoint(metrics, token=settings.metrics_token or None)
        app.add_api_route("/metrics", endpoint, methods=["GET"], include_in_schema=False)

    @app.get("/health")
    async def health(connection: HTTPConnection) -> JSONResponse:
        services: Services = connection.state.services
        database = await services.db.ping()
        broker = services.broker.healthy
        ok = database and broker
        draining = not services.engine.accepting
        return JSONResponse(
            {
                # draining: a load balancer sends new requests elsewhere
                "status": "draining" if draining else "ok" if ok else "degraded",
                "database": "ok" if database else "unavailable",
                "broker": "ok" if broker else "unavailable",
                "node": services.node_id,
            },
            status_code=200 if ok and not draining else 503,
        )

    return app


def with_cross_origin(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The app as servers run it: wrapped whole, websockets included, by the CORS layer."""
    return CrossOrigin(
        app, origins=settings.cors_origins, credentials=settings.cors_allow_credentials
    )


def create_server_app(settings: Settings | None = None, **app_options: Any) -> ASGIApp:
    settings = settings or Settings()
    return with_cross_origin(create_app(settings, **app_options), settings)
