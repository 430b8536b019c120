"""Attachment bytes: a local folder (embedded) or an S3-compatible bucket (scale-out)."""

from __future__ import annotations

from gql_api.settings import Settings
from gql_api.signing import download_signing_key
from gql_api.storage.base import (
    ObjectStore,
    StoredObjectMissing,
    content_disposition,
    new_key,
    validate_key,
)

__all__ = [
    "ObjectStore",
    "StoredObjectMissing",
    "content_disposition",
    "make_store",
    "new_key",
    "validate_key",
]


def make_store(settings: Settings) -> ObjectStore:
    """The store `settings.storage_backend` names. Call `close()` on it at shutdown."""
    if settings.storage_backend == "s3":
        # Imported here so the embedded setup never loads botocore.
        from gql_api.storage.s3 import S3Store

        return S3Store(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    from gql_api.storage.local import LocalStore

    return LocalStore(
        settings.attachments_path,
        base_url=settings.base_url,
        signing_key=download_signing_key(settings),
    )
