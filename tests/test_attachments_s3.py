"""Attachments on an S3-compatible store (a local moto server): upload through the API,
download through the presigned link, refusals and deletes leave the bucket empty."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gql_api.domain.attachments import collect_orphans
from gql_api.storage.s3 import S3Store
from tests.attachment_support import (
    PDF,
    auth,
    gql_code,
    gql_upload,
    old_key,
    png,
    put,
    stored_keys,
    uploaded,
    user_id,
)
from tests.conftest import make_settings
from tests.factories import create_conversation
from tests.support import ApiServer, start_api

MIB = 1024 * 1024


@pytest.fixture
async def s3_api(tmp_path: Path, database_url: str, moto_endpoint: str) -> AsyncIterator[ApiServer]:
    settings = make_settings(
        tmp_path,
        database_url,
        storage_backend="s3",
        s3_endpoint_url=moto_endpoint,
        s3_bucket=f"chatgql-{uuid.uuid4().hex[:12]}",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        signed_url_ttl_seconds=120,
    )
    async with start_api(settings) as server:
        assert isinstance(server.services.store, S3Store)
        yield server


async def download(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url)


async def test_s3_upload_download_delete(s3_api: ApiServer, moto_endpoint: str) -> None:
    api = s3_api
    conversation = await create_conversation(api, title="Cloud")
    image = png(5, 5)
    att = await uploaded(api, image, "dot.png", "image/png", conversation_id=conversation["id"])
    assert att["sha256"] == hashlib.sha256(image).hexdigest()

    url = att["downloadUrl"]
    assert url.startswith(f"{moto_endpoint}/{api.settings.s3_bucket}/")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["120"]
    response = await download(url)
    assert response.status_code == 200
    assert response.content == image
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith('attachment; filename="dot.png"')

    # A large raw upload: the store sends it to S3 as a multipart upload, part by part.
    big = PDF + b"%" * (9 * MIB)
    raw = await api.http.post(
        "/uploads",
        content=big,
        params={"filename": "big.pdf", "conversationId": conversation["id"]},
        headers={**auth(api), "Content-Type": "application/pdf"},
    )
    assert raw.status_code == 201, raw.text
    assert raw.json()["sha256"] == hashlib.sha256(big).hexdigest()
    link = await api.gql(
        "query($id: ID!) { attachment(id: $id) { downloadUrl } }", {"id": raw.json()["id"]}
    )
    fetched = await download(link["attachment"]["downloadUrl"])
    assert hashlib.sha256(fetched.content).hexdigest() == raw.json()["sha256"]

    refused = await gql_upload(api, PDF, "fake.png", "image/png")
    assert gql_code(refused) == "UNSUPPORTED_MEDIA_TYPE"
    assert len(await stored_keys(api)) == 2

    await api.gql("mutation($id: ID!) { deleteAttachment(id: $id) { id } }", {"id": att["id"]})
    assert len(await stored_keys(api)) == 1
    await api.gql(
        "mutation($id: ID!) { deleteConversation(id: $id) { id } }", {"id": conversation["id"]}
    )
    assert await stored_keys(api) == []


async def test_s3_cleanup_collects_orphans(s3_api: ApiServer) -> None:
    api = s3_api
    kept = await uploaded(api, png(), "kept.png", "image/png")
    orphan = old_key(await user_id(api, "alice"), 7200)
    await put(api, orphan, b"stray")
    collected = await collect_orphans(api.services.db, api.services.store, older_than=3600)
    assert (collected.objects, collected.rows) == (1, 0)
    keys = await stored_keys(api)
    assert len(keys) == 1 and orphan not in keys
    assert (await download(kept["downloadUrl"])).status_code == 200
