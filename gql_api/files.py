"""Plain HTTP routes for attachment bytes: a streaming upload, and signed-link downloads.

`POST /uploads` takes the file as the raw request body (no form), so a large file streams
straight into the store and is cut off at the size limit. `GET /files/{id}` serves the local
store's signed links; S3 links point at the bucket instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive

from gql_api.auth import bearer_token
from gql_api.domain import attachments
from gql_api.domain.users import CurrentUser
from gql_api.errors import (
    ChatError,
    InvalidInput,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from gql_api.services import Services
from gql_api.signing import download_signing_key, verify_download
from gql_api.storage.base import StoredObjectMissing, content_disposition
from models.attachments import Attachment

# What a cross-site HTML form can send without a CORS preflight; never a file body here.
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "PAYLOAD_TOO_LARGE": 413,
    "QUOTA_EXCEEDED": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
}
CODES = {status: code for code, status in STATUS.items() if code != "QUOTA_EXCEEDED"}
FORBIDDEN_LINK = "This download link is invalid or has expired."

# After a refusal, read (and drop) at most this much more of the body so the response can go
# out on a healthy connection; a client sending more than that is cut off instead.
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 1.0

router = APIRouter()


class RequestBody:
    """The request body as chunks, remembering whether it has all arrived."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.complete = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.complete:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            self.complete = not message.get("more_body", False)
            if body := message.get("body", b""):
                yield body

    async def drain(self) -> bool:
        """Drop up to DRAIN_BYTES more; True when the body has then ended.

        Closing a connection whose request is still arriving makes the peer's TCP stack reset
        it, and the client may then lose our response: for a small body, reading the rest first
        is cheaper than that. A large one is not worth reading: the caller closes instead.
        """
        dropped = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_SECONDS):
                while not self.complete and dropped <= DRAIN_BYTES:
                    message = await self._receive()
                    if message["type"] == "http.disconnect":
                        return False
                    dropped += len(message.get("body", b""))
                    self.complete = not message.get("more_body", False)
        return self.complete


def error_response(
    status: int, code: str, message: str, *, close: bool = False, **extensions: object
) -> JSONResponse:
    """The GraphQL error shape, so clients handle both transports alike.

    `close`: the request body may be unread. Without `Connection: close` the server would keep
    the connection and drain (receive and discard) the rest of a refused upload.
    """
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    headers = {"Cache-Control": "no-store"}
    if close:
        headers["Connection"] = "close"
    return JSONResponse(body, status_code=status, headers=headers)


def http_error_code(status: int) -> str:
    """The code of a refusal that comes only with an HTTP status (Strawberry's own, mostly)."""
    return CODES.get(status, "BAD_USER_INPUT" if 400 <= status < 500 else "INTERNAL_SERVER_ERROR")


def chat_error_response(exc: ChatError, *, close: bool = False) -> JSONResponse:
    status = STATUS.get(exc.code, 500)
    return error_response(status, exc.code, exc.message, close=close, **exc.extensions)


def attachment_json(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "mediaType": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "conversationId": row.conversation_id,
        "messageId": row.message_id,
        "createdAt": row.created_at.isoformat(),
    }


async def authenticate(services: Services, authorization: str | None) -> CurrentUser:
    token = bearer_token(authorization)
    if token is None:
        raise Unauthenticated("Authentication required: send 'Authorization: Bearer'")
    return await services.users.resolve(await services.verifier.verify(token))


def _check_headers(request: Request, max_bytes: int) -> str:
    """The declared media type; refuses forms and a declared length over the limit."""
    content_type = request.headers.get("content-type", "").strip()
    if not content_type:
        raise UnsupportedMediaType("Send the file's media type in the Content-Type header.")
    if content_type.split(";", 1)[0].strip().lower() in FORM_TYPES:
        raise UnsupportedMediaType("Send the file itself as the request body, not a form.")
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise InvalidInput("Content-Length is not a number.")
        if int(length) > max_bytes:
            raise PayloadTooLarge(
                f"The file is larger than the limit of {max_bytes} bytes.", max_bytes=max_bytes
            )
    return content_type


@router.post("/uploads", status_code=201)
async def upload(request: Request) -> Response:
    """Raw body upload: `Content-Type` is the file's type; the name comes from the `filename`
    query parameter or the percent-encoded `X-Filename` header; `conversationId` optionally."""
    services: Services = request.state.services
    settings = services.settings
    body = RequestBody(request.receive)
    try:
        # Authenticate before reading a byte of the body.
        user = await authenticate(services, request.headers.get("authorization"))
        content_type = _check_headers(request, settings.max_upload_bytes)
        filename = request.query_params.get("filename")
        if filename is None:
            filename = unquote(request.headers.get("x-filename", ""))
        row = await attachments.upload_attachment(
            db=services.db,
            store=services.store,
            settings=settings,
            user=user,
            chunks=body.chunks(),
            filename=filename,
            media_type=content_type,
            conversation_id=request.query_params.get("conversationId"),
        )
        services.metrics.upload_bytes.inc(row.size)
    except ChatError as exc:
        return chat_error_response(exc, close=not await body.drain())
    except ClientDisconnect:
        # Nobody is listening; the upload's bytes were already removed.
        return error_response(400, "BAD_USER_INPUT", "The upload was interrupted.", close=True)
    return JSONResponse(attachment_json(row), status_code=201)


def _signing_key(request: Request) -> bytes:
    """Derived once per app (in development the secret is read from a file)."""
    state = request.app.state
    key: bytes | None = getattr(state, "download_signing_key", None)
    if key is None:
        services: Services = request.state.services
        key = state.download_signing_key = download_signing_key(services.settings)
    return key


@router.get("/files/{attachment_id}")
async def download(request: Request, attachment_id: str) -> Response:
    """Serve a local-store signed link: HMAC over (attachment, user, expiry) checked first."""
    services: Services = request.state.services
    query = request.query_params
    user_id, expires_at, sig = query.get("user", ""), query.get("exp", ""), query.get("sig", "")
    if not verify_download(_signing_key(request), attachment_id, user_id, expires_at, sig):
        return error_response(403, "FORBIDDEN", FORBIDDEN_LINK)
    row = await attachments.attachment_for_download(
        db=services.db, attachment_id=attachment_id, owner_id=user_id
    )
    gone = error_response(404, "NOT_FOUND", "The file is no longer available.")
    if row is None:
        return gone
    stream = services.store.open(row.storage_key)
    try:
        # Read the first chunk before answering, so a missing object is a 404, not a cut body.
        first = await anext(stream, b"")
    except StoredObjectMissing:
        return gone
    headers = {
        "Content-Length": str(row.size),
        "Content-Disposition": content_disposition(row.name),
        "X-Content-Type-Options": "nosniff",
        # Stored files are user content: never let a browser run them as a page of this site.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(_chain(first, stream), media_type=row.media_type, headers=headers)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()
