"""Users' own provider keys: set (write-only), list without the key, delete, and use.

A key is checked, sealed (gql_api.secrets_box) and stored; only its last four characters are
ever shown again. Nothing here puts a key into a message, an exception or a log line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update

from gql_api.db import Database
from gql_api.domain.validation import require_id
from gql_api.errors import PROVIDER_AUTH, InvalidInput, NotFound, ProviderError
from gql_api.providers.catalog import ModelCatalog
from gql_api.secrets_box import SecretBox, SecretBoxError
from models.base import utcnow
from models.provider_keys import ProviderKey, key_for, keys_of, sealing_context

if TYPE_CHECKING:  # domain.users imports this module (preferences check models)
    from gql_api.domain.users import CurrentUser

MAX_KEY_CHARS = 512
MAX_URL_CHARS = 500
_KEY_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII: it goes into an HTTP header


@dataclass(frozen=True, slots=True)
class UserKey:
    """A user's key, opened for one request. `repr` leaves the key out."""

    id: str
    provider: str
    api_key: str
    base_url: str | None

    def __repr__(self) -> str:
        return f"UserKey(id={self.id!r}, provider={self.provider!r})"


async def check_base_url(url: str, *, allowed_hosts: list[str]) -> str:
    """An http(s) URL whose host resolves to public addresses only, unless the operator allows
    the host: a user's URL must not reach into the server's own network."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"baseUrl is longer than {MAX_URL_CHARS} characters", field="baseUrl")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise InvalidInput("baseUrl is not a valid URL", field="baseUrl") from err
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput("baseUrl must be an http or https URL with a host", field="baseUrl")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidInput(
            "baseUrl must not hold credentials, a query or a fragment", field="baseUrl"
        )
    if host.lower() in {h.lower() for h in allowed_hosts}:
        return url.strip().rstrip("/")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as err:
        raise InvalidInput("baseUrl: the host does not resolve", field="baseUrl") from err
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise InvalidInput(
                "baseUrl points at a loopback, private or link-local address", field="baseUrl"
            )
    return url.strip().rstrip("/")


def _clean_key(api_key: str) -> str:
    key = api_key.strip()
    if not key:
        raise InvalidInput("apiKey must not be empty", field="apiKey")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidInput(f"apiKey is longer than {MAX_KEY_CHARS} characters", field="apiKey")
    if not _KEY_RE.match(key):
        raise InvalidInput("apiKey may hold printable ASCII characters only", field="apiKey")
    return key


def _check_provider(catalog: ModelCatalog, provider: str) -> None:
    entry = catalog.providers.get(provider)
    if entry is None or not entry.accepts_user_keys:
        names = sorted(p.name for p in catalog.providers.values() if p.accepts_user_keys)
        offered = ", ".join(names) if names else "none on this server"
        raise InvalidInput(
            f"provider {provider[:40]} takes no keys; providers that do: {offered}",
            field="provider",
        )


async def set_provider_key(
    *,
    db: Database,
    box: SecretBox | None,
    catalog: ModelCatalog,
    user: CurrentUser,
    provider: str,
    api_key: str,
    base_url: str | None,
    allowed_hosts: list[str],
) -> ProviderKey:
    """Store (or replace) the user's key for `provider`; everything is checked first."""
    _check_provider(catalog, provider)
    assert box is not None  # there is one wherever a provider takes users' keys
    key = _clean_key(api_key)
    url = None if base_url is None else await check_base_url(base_url, allowed_hosts=allowed_hosts)
    sealed = box.seal(key, sealing_context(user.id, provider))
    async with db.write() as session:
        row = await key_for(session, user.id, provider)
        if row is None:
            row = ProviderKey(owner_id=user.id, provider=provider)
            session.add(row)
        row.sealed_key, row.kek_id = sealed, box.current_id
        row.last_four, row.base_url = key[-4:], url
        row.created_at, row.last_used_at = utcnow(), None
        row.last_error = row.last_error_at = None
    return row


async def list_provider_keys(*, db: Database, user: CurrentUser) -> list[ProviderKey]:
    async with db.read() as session:
        return await keys_of(session, user.id)


async def delete_provider_key(*, db: Database, user: CurrentUser, key_id: str) -> str:
    require_id(key_id, "id")
    async with db.write() as session:
        result = await session.execute(
            delete(ProviderKey).where(ProviderKey.id == key_id, ProviderKey.owner_id == user.id)
        )
    if not getattr(result, "rowcount", 0):
        raise NotFound("Provider key not found")
    return key_id


async def key_providers(db: Database, user_id: str) -> set[str]:
    """The providers a user has a key for (which models they may use beyond the server's)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(ProviderKey.provider).where(ProviderKey.owner_id == user_id)
        )
        return set(rows)


class UserKeys:
    """What the model router needs: a user's opened key, and a note of how it went."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self._db, self._box = db, box

    async def lookup(self, user_id: str, provider: str) -> UserKey | None:
        async with self._db.read() as session:
            row = await key_for(session, user_id, provider)
        if row is None:
            return None
        try:
            api_key = self._box.open(row.sealed_key, sealing_context(user_id, provider))
        except SecretBoxError:
            # Sealed under a KEK no longer configured: the user must set the key again.
            message = "Your stored key cannot be decrypted; set it again."
            await self.rejected(row.id, message)
            raise ProviderError(message, code=PROVIDER_AUTH) from None
        return UserKey(row.id, provider, api_key, row.base_url)

    async def used(self, key_id: str) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(ProviderKey).where(ProviderKey.id == key_id).values(last_used_at=utcnow())
            )

    async def rejected(self, key_id: str, message: str) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(ProviderKey)
                .where(ProviderKey.id == key_id)
                .values(last_error=message[:500], last_error_at=utcnow())
            )


async def rotate_keys(db: Database, box: SecretBox) -> tuple[int, int]:
    """Rewrap every key sealed under an older KEK; (rewrapped, left as they were)."""
    done = failed = 0
    async with db.read() as session:
        stale = list(
            await session.execute(
                select(ProviderKey.id, ProviderKey.owner_id, ProviderKey.provider).where(
                    ProviderKey.kek_id != box.current_id
                )
            )
        )
    for key_id, owner_id, provider in stale:
        async with db.write() as session:
            row = await session.get(ProviderKey, key_id)
            if row is None or row.kek_id == box.current_id:
                continue
            try:
                row.sealed_key = box.rewrap(row.sealed_key, sealing_context(owner_id, provider))
            except SecretBoxError:
                failed += 1
                continue
            row.kek_id = box.current_id
            done += 1
    return done, failed
