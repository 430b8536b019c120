"""Attachment bytes in a local folder: one file per key, written atomically."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from gql_api.signing import sign_download
from gql_api.storage.base import StoredObjectMissing, validate_key

# Partial writes live here until renamed into place. The leading dot keeps them out of `keys()`
# (a key segment never starts with a dot), and being under the root keeps `os.replace` atomic
# (same filesystem).
TEMP_DIR = ".tmp"
CHUNK_SIZE = 64 * 1024
_MISSING_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class LocalStore:
    def __init__(
        self, root: Path, *, base_url: str, signing_key: bytes, chunk_size: int = CHUNK_SIZE
    ) -> None:
        self.root = Path(root).resolve()
        self._base_url = base_url.rstrip("/")
        self._signing_key = signing_key
        self._chunk_size = chunk_size

    def file_path(self, key: str) -> Path:
        """Where the object for `key` lives (for a FileResponse); the key is validated first."""
        return self.root / validate_key(key)

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, media_type: str) -> None:
        path = self.file_path(key)
        tmp_path, file = await asyncio.to_thread(self._open_temp)
        try:
            # Batch small chunks so each hop to a worker thread writes a useful amount.
            pending: list[bytes] = []
            pending_size = 0
            async for chunk in chunks:
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= self._chunk_size:
                    await asyncio.to_thread(file.write, b"".join(pending))
                    pending, pending_size = [], 0
            if pending:
                await asyncio.to_thread(file.write, b"".join(pending))
        except BaseException:
            # Synchronous on purpose: this also runs on cancellation, where awaiting is unsafe.
            _discard(file, tmp_path)
            raise
        # The commit cleans up after itself. If this task is cancelled meanwhile, the thread still
        # finishes: the object may then exist although put() raised, so callers delete on error.
        await asyncio.to_thread(self._commit, file, tmp_path, path)

    def _open_temp(self) -> tuple[Path, BinaryIO]:
        tmp_dir = self.root / TEMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        return Path(name), os.fdopen(fd, "wb")

    @staticmethod
    def _commit(file: BinaryIO, tmp_path: Path, path: Path) -> None:
        try:
            # fsync before the rename so a crash can't leave a complete-looking empty file.
            file.flush()
            os.fsync(file.fileno())
            file.close()
            # Empty directories are never pruned: a concurrent prune could remove the directory
            # between this mkdir and the rename.
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, path)
        except BaseException:
            _discard(file, tmp_path)
            raise

    def open(self, key: str) -> AsyncIterator[bytes]:
        # Not itself a generator, so a bad key raises here rather than on first iteration.
        return self._stream(self.file_path(key))

    async def _stream(self, path: Path) -> AsyncIterator[bytes]:
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except _MISSING_ERRORS:
            raise StoredObjectMissing("The file is no longer available.") from None
        try:
            while chunk := await asyncio.to_thread(file.read, self._chunk_size):
                yield chunk
        finally:
            file.close()

    async def read(self, key: str) -> bytes:
        path = self.file_path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except _MISSING_ERRORS:
            raise StoredObjectMissing("The file is no longer available.") from None

    async def delete(self, key: str) -> None:
        path = self.file_path(key)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            pass  # a directory (or a path through a file) is not an object: nothing to delete

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.file_path(key).is_file)

    async def keys(self, prefix: str = "") -> list[str]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[str]:
        start = self.root
        directory = prefix.rpartition("/")[0]
        if directory:
            try:
                # Only walk the prefix's own folder when it is a valid key path: a prefix such
                # as "../" must never move the walk outside the root.
                start = self.file_path(directory)
            except ValueError:
                return []
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix) and _is_valid_key(key):
                    found.append(key)
        return sorted(found)

    async def purge_temp_files(self, older_than_seconds: float = 3600.0) -> int:
        """Remove partial writes left by a crashed process; returns how many were removed."""
        return await asyncio.to_thread(self._purge_temp, time.time() - older_than_seconds)

    def _purge_temp(self, cutoff: float) -> int:
        removed = 0
        for path in (self.root / TEMP_DIR).glob("put-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # finished or removed concurrently
        return removed

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
        """A link to this app's `/files/{attachment_id}` route, signed for `user_id`.

        The route looks the attachment up again, so the name and type come from the database.
        """
        validate_key(key)
        expires_at = int(time.time()) + ttl_seconds
        sig = sign_download(self._signing_key, attachment_id, user_id, expires_at)
        query = urlencode({"user": user_id, "exp": expires_at, "sig": sig})
        return f"{self._base_url}/files/{quote(attachment_id, safe='')}?{query}"


def _discard(file: BinaryIO, tmp_path: Path) -> None:
    file.close()
    tmp_path.unlink(missing_ok=True)


def _is_valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except ValueError:
        return False
    return True
