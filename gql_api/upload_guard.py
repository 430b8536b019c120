"""Guards GraphQL multipart uploads: CSRF and body size, before the form is parsed.

A cross-site HTML form can POST `multipart/form-data` (or urlencoded, or text/plain) without a
CORS preflight. Such a request never carries an `Authorization` header (setting one forces a
preflight, granted only to CHATGQL_CORS_ORIGINS), so form-typed POSTs to the GraphQL endpoint are
refused unless they bring a valid bearer token. This is checked, and the declared length too,
before a byte of the body is read: Starlette would otherwise spool the whole form to disk first.
The body is also counted as it streams, for clients that send no length.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_api.errors import ChatError, PayloadTooLarge
from gql_api.files import RequestBody, authenticate, chat_error_response
from gql_api.services import Services

# Content types a page on another origin can POST without a preflight.
SIMPLE_TYPES = frozenset(
    {"multipart/form-data", "application/x-www-form-urlencoded", "text/plain", ""}
)
# Room for the `operations` and `map` fields and the part headers around the file.
FORM_OVERHEAD_BYTES = 256 * 1024


class _BodyTooLarge(Exception):
    pass


class GraphQLUploadGuard:
    def __init__(self, app: ASGIApp, *, path: str = "/graphql") -> None:
        self.app = app
        self.path = path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"].rstrip("/") != self.path
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type not in SIMPLE_TYPES:
            await self.app(scope, receive, send)  # JSON: the browser would have asked first
            return
        services: Services = scope["state"]["services"]
        limit = services.settings.max_upload_bytes + FORM_OVERHEAD_BYTES
        too_large = PayloadTooLarge(
            f"The request is larger than the limit of {limit} bytes.", max_bytes=limit
        )
        try:
            await authenticate(services, headers.get("authorization"))
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise too_large
        except ChatError as exc:
            ended = await RequestBody(receive).drain()
            await chat_error_response(exc, close=not ended)(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            # The form parser closes its temporary files when its stream raises.
            if started:
                raise
            await chat_error_response(too_large, close=True)(scope, receive, send)
