"""Attachment bytes in an S3-compatible bucket (AWS S3, MinIO, R2, ...) through aiobotocore."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import botocore.config
import botocore.session
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from gql_api.storage.base import StoredObjectMissing, content_disposition, validate_key

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
DEFAULT_PART_SIZE = 8 * MIB
READ_CHUNK_SIZE = 64 * 1024
_MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING_CODES


class S3Store:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self._region = region
        self._part_size = part_size
        self._client_args: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        # Self-hosted S3-compatible servers rarely resolve bucket subdomains: use path style there.
        # Checksums only where required: botocore's newer default (CRC trailers on every upload)
        # is refused by several S3-compatible servers.
        self._config_args: dict[str, Any] = {
            "signature_version": "s3v4",
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
        if endpoint_url:
            self._config_args["s3"] = {"addressing_style": "path"}
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._presigner: Any = None
        self._presigner_lock = threading.Lock()  # built from a worker thread or the loop
        self._lock = asyncio.Lock()
        self._aborts: set[asyncio.Task[None]] = set()

    async def _s3(self) -> Any:
        """The shared client, created (and the bucket ensured) on first use."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    stack = AsyncExitStack()
                    client = await stack.enter_async_context(
                        get_session().create_client(
                            "s3", config=AioConfig(**self._config_args), **self._client_args
                        )
                    )
                    try:
                        await self._create_bucket_if_missing(client)
                        # Load the presigner's service model off the event loop, ahead of time.
                        await asyncio.to_thread(self._presign_client)
                    except BaseException:
                        await stack.aclose()
                        raise
                    self._stack, self._client = stack, client
        return self._client

    async def ensure_bucket(self) -> None:
        """Connect and create the bucket if it does not exist (done on first use anyway)."""
        await self._s3()

    async def _create_bucket_if_missing(self, client: Any) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if not _is_missing(error):
                raise
        extra: dict[str, Any] = {}
        if self._region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        try:
            await client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as error:
            # Another process won the race: fine. A bucket owned by someone else is not.
            if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise

    def _presign_client(self) -> Any:
        # aiobotocore only presigns asynchronously; presigning is local computation, so a plain
        # botocore client (which never sends a request here) keeps download_url synchronous.
        with self._presigner_lock:
            if self._presigner is None:
                self._presigner = botocore.session.get_session().create_client(
                    "s3", config=botocore.config.Config(**self._config_args), **self._client_args
                )
            return self._presigner

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, media_type: str) -> None:
        validate_key(key)
        client = await self._s3()
        iterator = aiter(chunks)
        buffer = bytearray()
        async for chunk in iterator:
            buffer += chunk
            if len(buffer) >= self._part_size:
                break
        else:
            # Small object: one request, atomic by nature.
            await client.put_object(
                Bucket=self.bucket, Key=key, Body=bytes(buffer), ContentType=media_type
            )
            return
        await self._put_multipart(client, key, buffer, iterator, media_type)

    async def _put_multipart(
        self,
        client: Any,
        key: str,
        buffer: bytearray,
        iterator: AsyncIterator[bytes],
        media_type: str,
    ) -> None:
        # Memory stays at about one part whatever the object size.
        upload = await client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=media_type
        )
        upload_id: str = upload["UploadId"]
        parts: list[dict[str, Any]] = []

        async def send(data: bytes) -> None:
            number = len(parts) + 1
            response = await client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            parts.append({"PartNumber": number, "ETag": response["ETag"]})

        try:
            while True:
                while len(buffer) >= self._part_size:
                    await send(bytes(buffer[: self._part_size]))
                    del buffer[: self._part_size]
                chunk = await anext(iterator, None)
                if chunk is None:
                    break
                buffer += chunk
            if buffer:
                await send(bytes(buffer))
            await client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            # Shielded: the abort must finish even when this task is being cancelled, otherwise
            # the parts stay stored (and billed) without being visible anywhere.
            task = asyncio.create_task(self._abort(client, key, upload_id))
            self._aborts.add(task)
            task.add_done_callback(self._aborts.discard)
            await asyncio.shield(task)
            raise

    async def _abort(self, client: Any, key: str, upload_id: str) -> None:
        try:
            await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception:
            logger.warning(
                "could not abort multipart upload %s of %s", upload_id, key, exc_info=True
            )

    def open(self, key: str) -> AsyncIterator[bytes]:
        # Not itself a generator, so a bad key raises here rather than on first iteration.
        return self._stream(validate_key(key))

    async def _stream(self, key: str) -> AsyncIterator[bytes]:
        response = await self._get(key)
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(READ_CHUNK_SIZE):
                yield chunk

    async def _get(self, key: str) -> Any:
        client = await self._s3()
        try:
            return await client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                raise StoredObjectMissing("The file is no longer available.") from None
            raise

    async def read(self, key: str) -> bytes:
        response = await self._get(validate_key(key))
        async with response["Body"] as body:
            data: bytes = await body.read()
            return data

    async def delete(self, key: str) -> None:
        client = await self._s3()
        await client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    async def exists(self, key: str) -> bool:
        client = await self._s3()
        try:
            await client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as error:
            if _is_missing(error):
                return False
            raise
        return True

    async def keys(self, prefix: str = "") -> list[str]:
        client = await self._s3()
        found: list[str] = []
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    async def purge_incomplete_uploads(self, older_than_seconds: float = 24 * 3600.0) -> int:
        """Abort multipart uploads a crashed process left behind; returns how many."""
        client = await self._s3()
        cutoff = time.time() - older_than_seconds
        aborted = 0
        paginator = client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", []):
                if upload["Initiated"].timestamp() < cutoff:
                    await self._abort(client, upload["Key"], upload["UploadId"])
                    aborted += 1
        return aborted

    async def close(self) -> None:
        if self._aborts:
            await asyncio.gather(*self._aborts, return_exceptions=True)
        if self._stack is not None:
            await self._stack.aclose()
            self._stack, self._client = None, None
        if self._presigner is not None:
            self._presigner.close()
            self._presigner = None

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
        """A presigned GET; S3 itself checks the expiry and sets the download headers."""
        url: str = self._presign_client().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": validate_key(key),
                "ResponseContentDisposition": content_disposition(filename),
                "ResponseContentType": media_type,
            },
            ExpiresIn=ttl_seconds,
        )
        return url
