"""Both object stores through the same tests; S3 against a real local server (moto)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiobotocore.session import get_session

from gql_api.settings import Settings
from gql_api.signing import download_signing_key, sign_download, verify_download
from gql_api.storage import ObjectStore, StoredObjectMissing, make_store, new_key
from gql_api.storage.local import LocalStore
from gql_api.storage.s3 import S3Store

KEY = b"k" * 32
MIB = 1024 * 1024


def s3_store(endpoint: str, bucket: str | None = None) -> S3Store:
    return S3Store(
        bucket=bucket or f"test-{uuid.uuid4().hex[:16]}",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
    )


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, moto_endpoint: str
) -> AsyncIterator[ObjectStore]:
    made: ObjectStore
    if request.param == "local":
        made = LocalStore(tmp_path / "files", base_url="http://testserver", signing_key=KEY)
    else:
        made = s3_store(moto_endpoint)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def raw_s3(moto_endpoint: str) -> AsyncIterator[Any]:
    """A plain client, to look behind the store's back."""
    async with get_session().create_client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        yield client


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def uneven(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def failing_after(data: bytes) -> AsyncIterator[bytes]:
    async for chunk in uneven(data, MIB):
        yield chunk
    raise RuntimeError("client went away")


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def test_roundtrip(store: ObjectStore) -> None:
    key = new_key("user1")
    assert not await store.exists(key)
    await store.put(key, chunks_of(b"hello ", b"", b"world"), media_type="text/plain")
    assert await store.exists(key)
    assert await store.read(key) == b"hello world"
    assert await collect(store.open(key)) == b"hello world"
    assert await store.keys() == [key]
    await store.delete(key)
    assert not await store.exists(key)
    await store.delete(key)  # idempotent
    with pytest.raises(StoredObjectMissing):
        await store.read(key)
    with pytest.raises(StoredObjectMissing):
        await collect(store.open(key))


async def test_overwrite_and_empty_object(store: ObjectStore) -> None:
    await store.put("a/b", chunks_of(b"first"), media_type="text/plain")
    await store.put("a/b", chunks_of(b"second"), media_type="text/plain")
    assert await store.read("a/b") == b"second"
    await store.put("a/empty", chunks_of(), media_type="text/plain")
    assert await store.read("a/empty") == b""


async def test_keys_by_prefix(store: ObjectStore) -> None:
    for key in ["u1/x", "u1/y", "u10/z", "u2/w"]:
        await store.put(key, chunks_of(b"."), media_type="text/plain")
    assert await store.keys() == ["u1/x", "u1/y", "u10/z", "u2/w"]
    assert await store.keys("u1/") == ["u1/x", "u1/y"]
    assert await store.keys("u1") == ["u1/x", "u1/y", "u10/z"]
    assert await store.keys("u3/") == []


@pytest.mark.parametrize("size", [1000, 9 * MIB], ids=["small", "multipart"])
async def test_failing_stream_leaves_nothing(
    store: ObjectStore, raw_s3: Any, tmp_path: Path, size: int
) -> None:
    with pytest.raises(RuntimeError, match="went away"):
        await store.put("u/k", failing_after(os.urandom(size)), media_type="image/png")
    assert not await store.exists("u/k")
    assert await store.keys() == []
    if isinstance(store, S3Store):
        uploads = await raw_s3.list_multipart_uploads(Bucket=store.bucket)
        assert uploads.get("Uploads", []) == []
    else:
        assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


async def test_object_invisible_until_complete(store: ObjectStore) -> None:
    seen: list[bool] = []

    async def slow() -> AsyncIterator[bytes]:
        yield b"part one "
        seen.append(await store.exists("u/k"))
        yield b"part two"

    await store.put("u/k", slow(), media_type="text/plain")
    assert seen == [False]
    assert await store.read("u/k") == b"part one part two"


async def test_cancelled_put_leaves_nothing(
    store: ObjectStore, raw_s3: Any, tmp_path: Path
) -> None:
    blocked = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        # Past one part, so S3 has a multipart upload in progress when the task is cancelled.
        async for chunk in uneven(os.urandom(9 * MIB), MIB):
            yield chunk
        blocked.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(store.put("u/k", stalls(), media_type="image/png"))
    await asyncio.wait_for(blocked.wait(), 30)
    if isinstance(store, S3Store):
        uploads = await raw_s3.list_multipart_uploads(Bucket=store.bucket)
        assert len(uploads["Uploads"]) == 1  # what the cancellation has to clean up
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.keys() == []
    if isinstance(store, S3Store):
        uploads = await raw_s3.list_multipart_uploads(Bucket=store.bucket)
        assert uploads.get("Uploads", []) == []
    else:
        assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "key", ["", "../x", "a/../b", "/abs", ".hidden", "a//b", "a\\b", "a/b/", "é", "a/./b", "a b"]
)
async def test_unsafe_keys_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="unsafe storage key"):
        await store.put(key, chunks_of(b"x"), media_type="text/plain")
    with pytest.raises(ValueError):
        store.open(key)
    for call in (store.read, store.delete, store.exists):
        with pytest.raises(ValueError):
            await call(key)
    assert await store.keys() == []


async def test_local_keys_never_leave_the_root(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside")
    local = LocalStore(tmp_path / "files", base_url="http://t", signing_key=KEY)
    await local.put("u/k", chunks_of(b"inside"), media_type="text/plain")
    assert await local.keys("../") == []
    assert await local.keys("u/../../") == []
    with pytest.raises(ValueError):
        await local.read("../secret.txt")


async def test_local_purges_stale_temp_files(tmp_path: Path) -> None:
    local = LocalStore(tmp_path, base_url="http://t", signing_key=KEY)
    (tmp_path / ".tmp").mkdir()
    stale, fresh = tmp_path / ".tmp" / "put-old", tmp_path / ".tmp" / "put-new"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"writing")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert await local.keys() == []
    assert await local.purge_temp_files(older_than_seconds=3600) == 1
    assert not stale.exists() and fresh.exists()


def test_local_download_url_is_signed() -> None:
    local = LocalStore(Path("unused"), base_url="https://chat.example/", signing_key=KEY)
    url = local.download_url(
        "u/k",
        attachment_id="att 1",
        user_id="u1",
        filename="a.png",
        media_type="image/png",
        ttl_seconds=60,
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://chat.example/files/att%201"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["user"] == "u1"
    assert abs(int(query["exp"]) - (time.time() + 60)) < 5
    assert verify_download(KEY, "att 1", "u1", query["exp"], query["sig"])
    assert not verify_download(KEY, "att 1", "u2", query["exp"], query["sig"])


async def test_s3_multipart_upload(moto_endpoint: str, raw_s3: Any) -> None:
    data = os.urandom(12 * MIB + 12345)
    store = s3_store(moto_endpoint)
    try:
        # Uneven chunks, so parts are cut across chunk boundaries.
        await store.put("u/big", uneven(data, 700_001), media_type="application/pdf")
        head = await raw_s3.head_object(Bucket=store.bucket, Key="u/big")
        assert head["ContentLength"] == len(data)
        assert head["ETag"].strip('"').endswith("-2")  # two 8 MiB-or-less parts
        assert head["ContentType"] == "application/pdf"
        digest = hashlib.sha256()
        async for chunk in store.open("u/big"):
            digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    finally:
        await store.close()


async def test_s3_creates_missing_bucket_once(moto_endpoint: str, raw_s3: Any) -> None:
    first = s3_store(moto_endpoint)
    second = s3_store(moto_endpoint, first.bucket)
    try:
        await first.ensure_bucket()
        await raw_s3.head_bucket(Bucket=first.bucket)
        await second.ensure_bucket()  # already there: not an error
        await first.put("u/k", chunks_of(b"x"), media_type="text/plain")
        assert await second.read("u/k") == b"x"
    finally:
        await first.close()
        await second.close()


async def test_s3_presigned_url_downloads(moto_endpoint: str) -> None:
    store = s3_store(moto_endpoint)
    try:
        await store.put("u/doc", chunks_of(b"%PDF-1.7 body"), media_type="application/pdf")
        url = store.download_url(
            "u/doc",
            attachment_id="a1",
            user_id="u1",
            filename='résumé "v2".pdf',
            media_type="application/pdf",
            ttl_seconds=120,
        )
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert response.status_code == 200
        assert response.content == b"%PDF-1.7 body"
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="r_sum_ _v2_.pdf"')
        assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf" in disposition
        # moto 5.2 does not enforce presigned expiry, so check what S3 enforces: the signed
        # lifetime and signing time carried by the URL.
        query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
        assert query["X-Amz-Expires"] == "120"
        signed_at = time.mktime(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
        assert abs(signed_at - time.mktime(time.gmtime())) < 60
    finally:
        await store.close()


async def test_s3_purges_incomplete_uploads(moto_endpoint: str, raw_s3: Any) -> None:
    store = s3_store(moto_endpoint)
    try:
        await store.ensure_bucket()
        await raw_s3.create_multipart_upload(Bucket=store.bucket, Key="u/crashed")
        # moto reports every upload as initiated in 2010, so only the aborting can be checked.
        assert await store.purge_incomplete_uploads(older_than_seconds=3600) == 1
        uploads = await raw_s3.list_multipart_uploads(Bucket=store.bucket)
        assert uploads.get("Uploads", []) == []
    finally:
        await store.close()


def test_make_store_picks_backend(tmp_path: Path) -> None:
    common: dict[str, Any] = {"env": "test", "jwt_secret": "s" * 40, "data_dir": tmp_path}
    local = make_store(Settings(**common))
    assert isinstance(local, LocalStore) and local.root == (tmp_path / "attachments").resolve()
    remote = make_store(Settings(**common, storage_backend="s3", s3_bucket="b"))
    assert isinstance(remote, S3Store) and remote.bucket == "b"


# --- signing ---------------------------------------------------------------------------------


def test_signature_roundtrip_and_tampering() -> None:
    exp = int(time.time()) + 60
    sig = sign_download(KEY, "att1", "user1", exp)
    assert verify_download(KEY, "att1", "user1", exp, sig)
    assert verify_download(KEY, "att1", "user1", str(exp), sig)
    assert not verify_download(KEY, "att2", "user1", exp, sig)
    assert not verify_download(KEY, "att1", "user2", exp, sig)
    assert not verify_download(KEY, "att1", "user1", exp + 1, sig)
    assert not verify_download(
        KEY, "att1", "user1", exp, sig[:-1] + ("A" if sig[-1] != "A" else "B")
    )
    assert not verify_download(KEY, "att1", "user1", exp, "")
    assert not verify_download(KEY, "att1", "user1", exp, "é" * 43)
    assert not verify_download(b"other" * 8, "att1", "user1", exp, sig)


def test_fields_cannot_be_shifted_between_each_other() -> None:
    exp = int(time.time()) + 60
    sig = sign_download(KEY, "a", "b,c", exp)
    assert not verify_download(KEY, "a,b", "c", exp, sig)


def test_expired_signature_refused() -> None:
    exp = 1_000_000
    sig = sign_download(KEY, "a", "u", exp)
    assert verify_download(KEY, "a", "u", exp, sig, now=exp - 1)
    assert not verify_download(KEY, "a", "u", exp, sig, now=exp)
    assert not verify_download(KEY, "a", "u", exp, sig, now=exp + 3600)
    assert not verify_download(KEY, "a", "u", exp, sig)  # real clock: long past


@pytest.mark.parametrize("exp", ["", "abc", " 2000000000", "+2000000000", "2_000_000_000", "1e10"])
def test_malformed_expiry_refused(exp: str) -> None:
    sig = sign_download(KEY, "a", "u", 2_000_000_000)
    assert not verify_download(KEY, "a", "u", exp, sig, now=0)


def test_signing_key_derived_from_jwt_secret(tmp_path: Path) -> None:
    settings = Settings(env="test", jwt_secret="s" * 40, data_dir=tmp_path)
    key = download_signing_key(settings)
    assert key == download_signing_key(Settings(env="test", jwt_secret="s" * 40))
    assert key != download_signing_key(Settings(env="test", jwt_secret="t" * 40))
    assert b"s" * 40 not in key
    with pytest.raises(RuntimeError, match="CHATGQL_JWT_SECRET"):
        download_signing_key(Settings(env="test", jwt_jwks_url="https://idp/jwks.json"))
