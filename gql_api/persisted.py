"""Persisted documents: Apollo's automatic persisted queries, and trusted documents.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` instead of (or with) the
query text. Hash only: the text comes from the cache, or the answer is PERSISTED_QUERY_NOT_FOUND
and the client sends both; text and hash: the hash is checked, then the text is cached.

With a trusted documents manifest (`CHATGQL_TRUSTED_DOCUMENTS`), only the documents it lists
run, by hash or by text; nothing is learned from clients.

The cache is bounded in bytes: in this process, or in Redis (shared by every process) when the
broker is Redis, where entries also expire after a time-to-live.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from gql_api.errors import ChatError, InvalidInput
from gql_api.settings import Settings

HASH = re.compile(r"[0-9a-f]{64}")
log = logging.getLogger("chatgql.persisted")


class PersistedQueryNotFound(ChatError):
    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryNotInList(ChatError):
    code = "PERSISTED_QUERY_NOT_IN_LIST"


class PersistedQueriesNotSupported(ChatError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentCache(Protocol):
    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, text: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """Least recently used documents of this process, up to `max_bytes` of text."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._texts: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        text = self._texts.get(digest)
        if text is not None:
            self._texts.move_to_end(digest)
        return text

    async def put(self, digest: str, text: str) -> None:
        size = len(text.encode())
        if size > self.max_bytes or digest in self._texts:
            return
        self._texts[digest] = text
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, dropped = self._texts.popitem(last=False)
            self.bytes -= len(dropped.encode())

    async def close(self) -> None:
        self._texts.clear()


# KEYS: index (sorted set: digest -> last use), total bytes, entry prefix.
# ARGV: digest, text, now, ttl, max bytes. Drops expired entries, then the least recently used
# ones until the total fits: one atomic step, whichever process runs it.
_PUT = """
local index, total, prefix = KEYS[1], KEYS[2], KEYS[3]
local digest, text, now, ttl, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5])
local function drop(d)
  local size = redis.call('STRLEN', prefix .. d)
  redis.call('DEL', prefix .. d)
  redis.call('ZREM', index, d)
  redis.call('DECRBY', total, size)
end
for _, d in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now - ttl)) do drop(d) end
if redis.call('EXISTS', prefix .. digest) == 1 then
  redis.call('ZADD', index, now, digest)
  return 0
end
redis.call('SET', prefix .. digest, text)
redis.call('ZADD', index, now, digest)
redis.call('INCRBY', total, string.len(text))
while tonumber(redis.call('GET', total)) > max do
  local oldest = redis.call('ZRANGE', index, 0, 0)[1]
  if not oldest then break end
  drop(oldest)
end
return 1
"""


class RedisCache:
    """Documents in Redis, shared by every process: least recently used out first past
    `max_bytes`, and unused ones out after `ttl_seconds`."""

    def __init__(self, url: str, *, max_bytes: int, ttl_seconds: int, prefix: str) -> None:
        self._redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._keys = [f"{prefix}index", f"{prefix}bytes", f"{prefix}doc:"]
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._put = self._redis.register_script(_PUT)

    # Without Redis the cache is empty, not broken: clients send the text, which still runs.

    async def get(self, digest: str) -> str | None:
        try:
            text = await self._redis.get(self._keys[2] + digest)
            if text is not None:
                await self._redis.zadd(self._keys[0], {digest: time.time()}, xx=True)
        except RedisError as exc:
            log.warning("persisted documents: redis unavailable (%r)", exc)
            return None
        return text if isinstance(text, str) else None

    async def put(self, digest: str, text: str) -> None:
        if len(text.encode()) > self.max_bytes:
            return
        try:
            await self._put(
                keys=self._keys, args=[digest, text, time.time(), self.ttl_seconds, self.max_bytes]
            )
        except RedisError as exc:
            log.warning("persisted documents: redis unavailable (%r)", exc)

    async def close(self) -> None:
        await self._redis.aclose()


def load_manifest(path: Path) -> dict[str, str]:
    """Hash -> text from Apollo's persisted query manifest (`{"operations": [{"id", "body"}]}`)
    or a plain `{"<sha256>": "<text>"}` object (GraphQL Code Generator's persisted documents).
    Every hash is checked against its text: a wrong manifest stops the server at start."""
    data: Any = json.loads(path.read_text())
    pairs: list[tuple[Any, Any]]
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        pairs = [(op.get("id"), op.get("body")) for op in data["operations"]]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ValueError(f"{path}: not a persisted documents manifest")
    documents: dict[str, str] = {}
    for digest, text in pairs:
        digest = digest.removeprefix("sha256:") if isinstance(digest, str) else digest
        if not isinstance(text, str) or digest != sha256_hex(text):
            raise ValueError(f"{path}: the entry {digest!r} is not the sha256 of its text")
        documents[digest] = text
    return documents


class PersistedDocuments:
    """Turns a request's query and extensions into the query text to run."""

    def __init__(
        self,
        *,
        cache: DocumentCache | None,
        trusted: Mapping[str, str] | None = None,
    ) -> None:
        self.cache = cache
        self.trusted = trusted

    async def resolve(self, query: object, extensions: object) -> object:
        """The query text to run; `query` unchanged when the request names no persisted
        document (Strawberry then answers a missing or non-text query as it always does)."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self.trusted is not None and isinstance(query, str):
                return self._trusted_text(query)
            return query
        digest = _requested_hash(persisted)
        if self.trusted is not None:
            text = self.trusted.get(digest)
            if text is None or (isinstance(query, str) and query != text):
                raise PersistedQueryNotInList("PersistedQueryNotInList")
            return text
        if self.cache is None:
            raise PersistedQueriesNotSupported("PersistedQueryNotSupported")
        if query is None:
            cached = await self.cache.get(digest)
            if cached is None:
                # The message is what Apollo's link looks for, with the code, to resend the text.
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            return cached
        if not isinstance(query, str) or sha256_hex(query) != digest:
            raise InvalidInput("The query's sha256 hash is not extensions.persistedQuery's.")
        await self.cache.put(digest, query)
        return query

    def _trusted_text(self, query: str) -> str:
        assert self.trusted is not None
        if sha256_hex(query) not in self.trusted:
            raise PersistedQueryNotInList("Only trusted documents run on this server.")
        return query

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()


def _requested_hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise InvalidInput("extensions.persistedQuery must be {version: 1, sha256Hash}.")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not HASH.fullmatch(digest):
        raise InvalidInput("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits.")
    return digest


async def resolve_document(payload: Mapping[str, Any], documents: PersistedDocuments) -> object:
    """The query text of a GraphQL request payload (HTTP body or websocket `subscribe`
    payload), from `query` and `extensions.persistedQuery`; raises a ChatError with the code."""
    return await documents.resolve(payload.get("query"), payload.get("extensions"))


def make_persisted_documents(settings: Settings) -> PersistedDocuments:
    trusted = load_manifest(settings.trusted_documents) if settings.trusted_documents else None
    cache: DocumentCache | None = None
    if trusted is None and settings.persisted_queries:
        if settings.broker_url.startswith(("redis://", "rediss://")):
            cache = RedisCache(
                settings.broker_url,
                max_bytes=settings.persisted_queries_max_bytes,
                ttl_seconds=settings.persisted_queries_ttl_seconds,
                prefix="chatgql:apq:",
            )
        else:
            cache = MemoryCache(settings.persisted_queries_max_bytes)
    return PersistedDocuments(cache=cache, trusted=trusted)
