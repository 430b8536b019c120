"""Upload checks: name, sniffed type, size and quota limits, hashing, cleanup on refusal."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gql_api.errors import InvalidInput, PayloadTooLarge, QuotaExceeded, UnsupportedMediaType
from gql_api.storage import ObjectStore, StoredObjectMissing
from gql_api.storage.local import LocalStore
from gql_api.uploads import ReceivedFile, receive_upload, sanitize_filename, sniff_media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj\n" * 100
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program"
ALLOWED = ["image/png", "image/jpeg", "application/pdf", "text/plain", "text/markdown", "text/csv"]
ALLOWED += ["application/json", "image/gif", "image/webp"]


class MemoryStore:
    """Writes each chunk as it arrives (not atomic), so only receive_upload's cleanup saves us."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.objects: dict[str, bytearray] = {}
        self.deleted: list[str] = []
        self._fail_after = fail_after

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, media_type: str) -> None:
        self.objects[key] = bytearray()
        async for chunk in chunks:
            self.objects[key] += chunk
            if self._fail_after is not None and len(self.objects[key]) > self._fail_after:
                raise OSError("disk full")

    def open(self, key: str) -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            if key not in self.objects:
                raise StoredObjectMissing("gone")
            yield bytes(self.objects[key])

        return stream()

    async def read(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.open(key)])

    async def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.objects.pop(key, None)

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    async def close(self) -> None:
        pass

    def download_url(
        self,
        key: str,
        *,
        attachment_id: str,
        user_id: str,
        filename: str,
        media_type: str,
        ttl_seconds: int,
    ) -> str:
        return f"memory://{key}"


@dataclass
class Source:
    """An upload body that records how far it was read and whether it was closed."""

    chunks: list[bytes]
    yielded: int = 0
    closed: bool = False

    @classmethod
    def split(cls, data: bytes, size: int) -> Source:
        return cls([data[i : i + size] for i in range(0, len(data), size)])

    async def stream(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                self.yielded += 1
                yield chunk
        finally:
            self.closed = True


@pytest.fixture(params=["memory", "local"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    made: ObjectStore
    if request.param == "memory":
        made = MemoryStore()
    else:
        made = LocalStore(tmp_path, base_url="http://t", signing_key=b"k" * 32)
    yield made
    await made.close()


async def upload(
    store: ObjectStore,
    source: Source,
    *,
    name: str = "file.bin",
    declared: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    remaining_quota: int | None = None,
    allowed: list[str] = ALLOWED,
) -> ReceivedFile:
    return await receive_upload(
        source.stream(),
        declared_name=name,
        declared_type=declared,
        max_bytes=max_bytes,
        allowed_types=allowed,
        store=store,
        key="u1/obj",
        remaining_quota=remaining_quota,
    )


async def test_text_accepted_and_hashed(store: ObjectStore) -> None:
    data = "héllo wörld\n".encode() * 500
    received = await upload(store, Source.split(data, 777), name="notes.txt", declared="text/plain")
    assert received == ReceivedFile(
        name="notes.txt",
        media_type="text/plain",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        key="u1/obj",
    )
    assert await store.read("u1/obj") == data


async def test_binary_sha256_over_uneven_chunks(store: ObjectStore) -> None:
    data = PNG + os.urandom(3 * 1024 * 1024)
    source = Source.split(data, 65_537)
    received = await upload(store, source, name="pic.png", declared="image/png")
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    assert received.size == len(data)
    assert await store.read("u1/obj") == data
    assert source.closed


@pytest.mark.parametrize(
    ("name", "declared", "expected"),
    [
        ("notes.md", None, "text/markdown"),
        ("table.CSV", "application/octet-stream", "text/csv"),
        ("data.json", "", "application/json"),
        ("readme", None, "text/plain"),
        ("x.txt", "text/plain; charset=utf-8", "text/plain"),
        ("x.md", "text/x-markdown", "text/markdown"),
        ("doc.pdf", None, "application/pdf"),
        ("pic.jpg", "image/jpg", "image/jpeg"),
    ],
)
async def test_media_type_resolution(
    store: ObjectStore, name: str, declared: str | None, expected: str
) -> None:
    data = {
        "application/pdf": PDF,
        "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    }.get(expected, b'{"a": "text, really"}\n')
    received = await upload(store, Source([data]), name=name, declared=declared)
    assert received.media_type == expected


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (PNG, "application/pdf"),  # contradicts the magic bytes
        (PNG, "text/plain"),
        (b"just some text", "image/png"),
        (EXE, None),
        (EXE, "application/octet-stream"),
        (EXE, "image/png"),
        (b"text\x00with a NUL", "text/plain"),
        (b"\xff\xfe not utf-8 \xc3\x28", None),
    ],
    ids=[
        "png-as-pdf",
        "png-as-text",
        "text-as-png",
        "exe",
        "exe-octet",
        "exe-as-png",
        "nul",
        "bad-utf8",
    ],
)
async def test_contradicting_or_unknown_content_refused(
    store: ObjectStore, data: bytes, declared: str | None
) -> None:
    with pytest.raises(UnsupportedMediaType):
        await upload(store, Source.split(data, 100), declared=declared)
    assert await store.keys() == []


async def test_type_not_allowed_refused_before_reading(store: ObjectStore) -> None:
    source = Source([b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
    with pytest.raises(UnsupportedMediaType, match="image/svg"):
        await upload(store, source, declared="image/svg+xml")
    assert source.yielded == 0


async def test_sniffed_type_not_allowed_refused(store: ObjectStore) -> None:
    with pytest.raises(UnsupportedMediaType, match="image/png"):
        await upload(store, Source([PNG]), allowed=["text/plain"])
    assert await store.keys() == []


@pytest.mark.parametrize(("limit", "chunk"), [(10 * 1024 + 100, 1024), (100, 64), (5000, 4096)])
async def test_oversized_upload_stops_early(store: ObjectStore, limit: int, chunk: int) -> None:
    source = Source([PNG[:chunk].ljust(chunk, b"\x01")] + [b"\x01" * chunk] * 999)
    with pytest.raises(PayloadTooLarge) as info:
        await upload(store, source, declared="image/png", max_bytes=limit)
    assert info.value.code == "PAYLOAD_TOO_LARGE"
    assert source.yielded <= limit // chunk + 1
    assert source.yielded * chunk > limit
    assert source.closed
    assert await store.keys() == []


async def test_exactly_max_bytes_accepted(store: ObjectStore) -> None:
    data = b"a" * 4096
    received = await upload(store, Source.split(data, 1000), max_bytes=4096)
    assert received.size == 4096


async def test_quota_exceeded(store: ObjectStore) -> None:
    source = Source.split(b"x" * 100_000, 1000)
    with pytest.raises(QuotaExceeded) as info:
        await upload(store, source, max_bytes=1_000_000, remaining_quota=5000)
    assert info.value.extensions["remaining_bytes"] == 5000
    assert source.yielded == 6
    assert await store.keys() == []


async def test_quota_larger_than_max_reports_max(store: ObjectStore) -> None:
    with pytest.raises(PayloadTooLarge):
        await upload(
            store, Source.split(b"x" * 10_000, 1000), max_bytes=5000, remaining_quota=10**9
        )
    with pytest.raises(QuotaExceeded):
        await upload(store, Source([b"x"]), remaining_quota=0)
    received = await upload(store, Source([b"x" * 10]), remaining_quota=10)
    assert received.size == 10


async def test_empty_upload_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidInput):
        await upload(store, Source([]))
    with pytest.raises(InvalidInput):
        await upload(store, Source([b"", b""]))


async def test_store_failure_leaves_nothing() -> None:
    store = MemoryStore(fail_after=2048)
    with pytest.raises(OSError, match="disk full"):
        await upload(store, Source.split(b"t" * 10_000, 1000))
    assert store.objects == {}
    assert store.deleted == ["u1/obj"]


async def test_cancelled_upload_leaves_nothing(store: ObjectStore, tmp_path: Path) -> None:
    blocked = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b"a" * 5000
        yield b"b" * 5000
        blocked.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(
        receive_upload(
            stalls(),
            declared_name="a.txt",
            declared_type="text/plain",
            max_bytes=10**6,
            allowed_types=ALLOWED,
            store=store,
            key="u1/obj",
        )
    )
    await asyncio.wait_for(blocked.wait(), 10)
    if isinstance(store, MemoryStore):
        assert store.objects  # the partial write the cleanup has to remove
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.keys() == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


async def test_utf8_character_cut_at_sniff_boundary_is_text(store: ObjectStore) -> None:
    data = "é".encode() * 600  # 1200 bytes; the first KiB ends mid-character
    received = await upload(store, Source.split(data, 1023), name="a.txt")
    assert received.media_type == "text/plain"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.png", "y.png"),
        ("a\x00b\nc\td.txt", "abcd.txt"),
        ("", "file"),
        (None, "file"),
        ("..", "file"),
        ("/", "file"),
        ("...pdf", "pdf"),
        ("re\u202eport\u200b.txt", "report.txt"),  # bidi override, zero-width space
        ('a<b>c:"d"|e?f*.png', "a_b_c__d__e_f_.png"),
        ("  spaced   out  .md ", "spaced out .md"),
        ("résumé.pdf", "résumé.pdf"),
        ("x" * 300 + ".jpeg", "x" * 195 + ".jpeg"),
        ("y" * 300, "y" * 200),
    ],
)
def test_sanitize_filename(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected
    assert len(sanitize_filename(raw)) <= 200


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (PDF, "application/pdf"),
        (b"plain ascii", "text/plain"),
        (EXE, None),
        (b"\xc3", None),  # truncated character at the real end of the file
    ],
)
def test_sniff_media_type(head: bytes, expected: str | None) -> None:
    assert sniff_media_type(head, complete=True) == expected
