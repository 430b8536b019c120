"""Receiving an attachment: name, type and size checks while streaming it into the store.

Independent of the transport: the caller passes the body as an async iterator of bytes (a
multipart field, a GraphQL upload, a test list) and a key it generated.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gql_api.errors import InvalidInput, PayloadTooLarge, QuotaExceeded, UnsupportedMediaType
from gql_api.storage.base import ObjectStore

logger = logging.getLogger(__name__)

SNIFF_BYTES = 1024
MAX_NAME_CHARS = 200
FALLBACK_NAME = "file"

_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]
# Types a client may declare for content that sniffs as plain UTF-8 text.
_TEXT_LIKE = {"application/json", "application/x-ndjson", "application/xml", "application/yaml"}
_BY_EXTENSION = {
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "json": "application/json",
}
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
    "text/x-markdown": "text/markdown",
}
# What clients send when they don't know: the same as declaring nothing.
_UNKNOWN = {"", "application/octet-stream", "binary/octet-stream"}
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
# Categories that are invisible or break headers and terminals: controls, bidi overrides and
# other format characters (which can disguise an extension), surrogates, line separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    name: str
    media_type: str
    size: int
    sha256: str
    key: str


def sanitize_filename(name: str | None) -> str:
    """A display name safe for headers and file systems: a basename of at most 200 chars."""
    text = unicodedata.normalize("NFC", name or "")
    # Some browsers send a full client path, with either separator: keep the last component.
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    text = _UNSAFE_NAME_CHARS.sub("_", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\.{2,}", ".", text).strip(" .")
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and len(ext) <= 16:
            text = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            text = text[:MAX_NAME_CHARS].rstrip(" .")
    return text or FALLBACK_NAME


def normalize_media_type(media_type: str | None) -> str | None:
    """Lower-case type without parameters; None when the client declared nothing useful."""
    value = (media_type or "").split(";", 1)[0].strip().lower()
    if value in _UNKNOWN:
        return None
    return _ALIASES.get(value, value)


def sniff_media_type(head: bytes, *, complete: bool) -> str | None:
    """The type the first bytes show: an image or PDF by magic bytes, "text/plain" for UTF-8
    text without NUL bytes in the first KiB, else None. `complete`: `head` is the whole file."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    sample = head[:SNIFF_BYTES]
    if b"\x00" in sample:
        return None
    try:
        # Incremental, so a multi-byte character cut at the end of the sample is not an error.
        final = complete and len(head) <= SNIFF_BYTES
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=final)
    except UnicodeDecodeError:
        return None
    return "text/plain"


def _is_text(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_LIKE


def resolve_media_type(declared: str | None, sniffed: str | None, name: str) -> str:
    """The type to store: the sniffed one, refined by the declared one for text."""
    if sniffed is None:
        raise UnsupportedMediaType("This kind of file is not supported.")
    if sniffed == "text/plain":
        if declared is None:
            extension = name.rpartition(".")[2].lower() if "." in name else ""
            return _BY_EXTENSION.get(extension, "text/plain")
        if _is_text(declared):
            return declared
    elif declared is None or declared == sniffed:
        return sniffed
    raise UnsupportedMediaType(
        f"The file's content does not match its declared type ({declared}).",
        declared_type=declared,
        detected_type=sniffed,
    )


class _Meter:
    """Counts and hashes bytes as they pass; refuses the chunk that goes over the limit."""

    def __init__(self, max_bytes: int, remaining_quota: int | None) -> None:
        self.size = 0
        self.sha256 = hashlib.sha256()
        if remaining_quota is not None and remaining_quota < max_bytes:
            self._limit, self._quota_binds = max(0, remaining_quota), True
        else:
            self._limit, self._quota_binds = max_bytes, False

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            if self._quota_binds:
                raise QuotaExceeded(
                    "This file does not fit in your remaining storage quota.",
                    remaining_bytes=self._limit,
                )
            raise PayloadTooLarge(
                f"The file is larger than the limit of {self._limit} bytes.",
                max_bytes=self._limit,
            )
        self.sha256.update(chunk)


async def receive_upload(
    chunks: AsyncIterator[bytes],
    *,
    declared_name: str,
    declared_type: str | None,
    max_bytes: int,
    allowed_types: list[str],
    store: ObjectStore,
    key: str,
    remaining_quota: int | None = None,
) -> ReceivedFile:
    """Check and store one upload under `key`; on any refusal or error nothing stays stored.

    Reading stops at the first chunk past the limit (`max_bytes`, or `remaining_quota` when
    that is smaller, raising QuotaExceeded). Memory holds one chunk, plus the first KiB.
    """
    name = sanitize_filename(declared_name)
    declared = normalize_media_type(declared_type)
    allowed = {t for t in (normalize_media_type(a) for a in allowed_types) if t}
    if declared is not None and declared not in allowed:
        raise UnsupportedMediaType(f"Files of type {declared} are not accepted.")
    meter = _Meter(max_bytes, remaining_quota)
    source = aiter(chunks)
    body: AsyncIterator[bytes] | None = None
    try:
        head = bytearray()
        complete = False
        while len(head) < SNIFF_BYTES:
            chunk = await anext(source, None)
            if chunk is None:
                complete = True
                break
            meter.add(chunk)
            head += chunk
        if not head:
            raise InvalidInput("The file is empty.")
        media_type = resolve_media_type(
            declared, sniff_media_type(bytes(head), complete=complete), name
        )
        if media_type not in allowed:
            raise UnsupportedMediaType(f"Files of type {media_type} are not accepted.")
        body = _metered(bytes(head), source, meter)
        await store.put(key, body, media_type=media_type)
    except BaseException:
        if body is not None:
            # Shielded so that a cancelled upload still removes what it may have stored.
            await asyncio.shield(_delete_quietly(store, key))
        raise
    finally:
        await _close(body)
        await _close(chunks)
    return ReceivedFile(
        name=name,
        media_type=media_type,
        size=meter.size,
        sha256=meter.sha256.hexdigest(),
        key=key,
    )


async def _metered(
    head: bytes, source: AsyncIterator[bytes], meter: _Meter
) -> AsyncIterator[bytes]:
    yield head
    async for chunk in source:
        if chunk:
            meter.add(chunk)
            yield chunk


async def _delete_quietly(store: ObjectStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:
        logger.warning("could not delete refused upload %s", key, exc_info=True)


async def _close(iterator: object) -> None:
    # Stop the producer (e.g. a request body reader) instead of leaving it suspended.
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
