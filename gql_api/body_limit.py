"""Refuses a GraphQL request body over `max_body_bytes` before the app reads any of it.

Multipart uploads (form content types) are GraphQLUploadGuard's, with their own limit; every
other POST to the GraphQL path is read here, up to the limit, and handed on whole. A declared
`Content-Length` over the limit is answered at once; a body without one (chunked) is counted as it
arrives and refused as soon as it passes the limit, so no more than the limit is ever held.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_api.errors import PayloadTooLarge
from gql_api.files import RequestBody, chat_error_response
from gql_api.services import Services
from gql_api.upload_guard import SIMPLE_TYPES


class GraphQLBodyLimit:
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
        if content_type in SIMPLE_TYPES:
            await self.app(scope, receive, send)  # forms: GraphQLUploadGuard's limits
            return
        services: Services = scope["state"]["services"]
        limit = services.settings.max_body_bytes
        too_large = PayloadTooLarge(
            f"The request body is larger than the limit of {limit} bytes.", maxBytes=limit
        )
        length = headers.get("content-length")  # the server refuses one that is not a number
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(too_large, receive, scope, send)
            return

        body = RequestBody(receive)
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in body.chunks():
                size += len(chunk)
                if size > limit:
                    await self._refuse(too_large, receive, scope, send, body=body)
                    return
                parts.append(chunk)
        except ClientDisconnect:
            return
        whole = b"".join(parts)
        del parts
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()  # after the body: only http.disconnect comes

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(
        error: PayloadTooLarge,
        receive: Receive,
        scope: Scope,
        send: Send,
        *,
        body: RequestBody | None = None,
    ) -> None:
        ended = await (body or RequestBody(receive)).drain()
        await chat_error_response(error, close=not ended)(scope, receive, send)
