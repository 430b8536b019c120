"""Helpers for the attachment tests: sample files, both upload transports, store inspection."""

from __future__ import annotations

import json
import secrets
import struct
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from gql_api.storage.local import TEMP_DIR, LocalStore
from models.attachments import Attachment
from tests.factories import TERMINAL, count_rows, eventually
from tests.support import ApiServer

ATTACHMENT_FIELDS = "id name mediaType size sha256 conversationId messageId downloadUrl"
SEND = (
    "mutation($i: SendMessageInput!) { sendMessage(input: $i) {"
    f" userMessage {{ id attachments {{ {ATTACHMENT_FIELDS} }} }} stream {{ id }} }} }}"
)
UPLOAD_MUTATION = (
    "mutation($file: Upload!, $c: ID) { uploadAttachment(file: $file, conversationId: $c)"
    f" {{ {ATTACHMENT_FIELDS} }} }}"
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program"


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid RGB PNG of `width` x `height` red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def auth(api: ApiServer, user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(user)}"}


def operations(conversation_id: str | None = None) -> str:
    return json.dumps({"query": UPLOAD_MUTATION, "variables": {"file": None, "c": conversation_id}})


async def gql_upload(
    api: ApiServer,
    data: bytes,
    filename: str,
    media_type: str,
    *,
    user: str | None = "alice",
    conversation_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A GraphQL multipart request: `operations`, then `map`, then the file part."""
    return await api.http.post(
        "/graphql",
        data={
            "operations": operations(conversation_id),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": (filename, data, media_type)},
        headers={**(auth(api, user) if user else {}), **(headers or {})},
    )


async def uploaded(api: ApiServer, data: bytes, filename: str, media_type: str, **kw: Any) -> Any:
    """Upload through GraphQL and return the attachment; fail on any error."""
    response = await gql_upload(api, data, filename, media_type, **kw)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]["uploadAttachment"]


def gql_code(response: httpx.Response) -> str | None:
    errors = response.json().get("errors") or [{}]
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code


async def http_upload(
    api: ApiServer,
    content: bytes | AsyncIterator[bytes],
    filename: str | None,
    media_type: str | None,
    *,
    user: str | None = "alice",
    conversation_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /uploads with the raw bytes; the name goes in the percent-encoded X-Filename."""
    sent = dict(auth(api, user) if user else {})
    if media_type is not None:
        sent["Content-Type"] = media_type
    if filename is not None:
        sent["X-Filename"] = quote(filename)
    params = {"conversationId": conversation_id} if conversation_id else {}
    return await api.http.post(
        "/uploads", content=content, params=params, headers={**sent, **(headers or {})}
    )


def streamed_multipart(
    file_chunks: AsyncIterator[bytes], filename: str, media_type: str
) -> tuple[str, AsyncIterator[bytes]]:
    """A GraphQL multipart body sent in chunks without a length; returns (content type, body)."""
    boundary = uuid.uuid4().hex

    def field(name: str, value: str) -> bytes:
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()

    head = (
        field("operations", operations())
        + field("map", json.dumps({"0": ["variables.file"]}))
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="{filename}"'
            f"\r\nContent-Type: {media_type}\r\n\r\n"
        ).encode()
    )

    async def body() -> AsyncIterator[bytes]:
        yield head
        async for chunk in file_chunks:
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    return f"multipart/form-data; boundary={boundary}", body()


class Counted:
    """An endless-looking body that counts how much of it the server made us send."""

    def __init__(self, total: int, chunk: int = 64 * 1024, first: bytes = b"") -> None:
        self.total, self.chunk, self.first, self.sent = total, chunk, first, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.first:
            self.sent += len(self.first)
            yield self.first
        while self.sent < self.total:
            piece = b"a" * min(self.chunk, self.total - self.sent)
            self.sent += len(piece)
            yield piece


async def stored_keys(api: ApiServer) -> list[str]:
    return await api.services.store.keys()


async def attachment_rows(api: ApiServer) -> int:
    return await count_rows(api, Attachment)


def temp_files(api: ApiServer) -> list[Path]:
    """Partial writes of the local store (none must be left after a refusal)."""
    store = api.services.store
    if not isinstance(store, LocalStore):
        return []
    return list((store.root / TEMP_DIR).glob("*"))


async def assert_nothing_stored(api: ApiServer) -> None:
    assert await stored_keys(api) == []
    assert await attachment_rows(api) == 0
    assert temp_files(api) == []


async def user_id(api: ApiServer, user: str) -> str:
    found: str = (await api.gql("{ me { id } }", user=user))["me"]["id"]
    return found


def old_key(owner: str, seconds_ago: float) -> str:
    millis = int((time.time() - seconds_ago) * 1000)
    return f"{owner}/{millis:012x}{secrets.token_hex(10)}"


async def put(api: ApiServer, key: str, data: bytes) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield data

    await api.services.store.put(key, body(), media_type="application/octet-stream")


async def fetch(api: ApiServer, url: str) -> httpx.Response:
    """Follow a local-store link on the test server (links name the configured base URL)."""
    parts = urlsplit(url)
    return await api.http.get(f"{parts.path}?{parts.query}")


async def send(
    api: ApiServer, conversation_id: str, content: str, ids: list[str], *, user: str = "alice"
) -> dict[str, Any]:
    """sendMessage with attachments, then wait until the answer is finished."""
    variables = {"i": {"conversationId": conversation_id, "content": content, "attachmentIds": ids}}
    sent: dict[str, Any] = (await api.gql(SEND, variables, user=user))["sendMessage"]

    async def status() -> str:
        query = "query($id: ID!) { stream(id: $id) { status } }"
        found = await api.gql(query, {"id": sent["stream"]["id"]}, user=user)
        value: str = found["stream"]["status"]
        return value

    sent["status"] = await eventually(status, lambda s: s in TERMINAL, what="the answer")
    return sent
