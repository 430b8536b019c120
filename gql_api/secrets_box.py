"""Envelope encryption of small secrets at rest (users' provider keys, MCP server headers).

Each secret gets a fresh data key; AES-GCM encrypts the secret under it, and the data key under
the key-encryption key (KEK) from settings. The sealed text names the KEK by id, so a KEK can be
replaced: the old one stays listed to open what it sealed until `rewrap` moves everything to the
new one (only the data key is encrypted again; the secret itself is not touched).

Sealed form: `v1.<kek id>.<base64 nonce+wrapped data key>.<base64 nonce+ciphertext>`. The caller's
`context` (say, owner and provider) is authenticated with both, so a sealed value copied onto
another row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
_NONCE = 12


class SecretBoxError(Exception):
    """A KEK is malformed, or a sealed value cannot be opened (unknown KEK, tampered, moved)."""


def parse_kek(value: str) -> bytes:
    """A KEK as configured: base64 (standard or URL-safe) of 32 random bytes."""
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError) as err:
        raise SecretBoxError("an encryption key must be base64 of 32 bytes") from err
    if len(raw) != 32:
        raise SecretBoxError("an encryption key must be base64 of 32 bytes")
    return raw


def kek_id(kek: bytes) -> str:
    """A short public name for a KEK, derived from it so the operator need not pick one."""
    return hashlib.sha256(b"chatgql-kek-id:" + kek).hexdigest()[:12]


class SecretBox:
    def __init__(self, current: str, old: list[str] | None = None) -> None:
        key = parse_kek(current)
        self.current_id = kek_id(key)
        self._keks = {self.current_id: AESGCM(key)}
        for value in old or []:
            older = parse_kek(value)
            self._keks.setdefault(kek_id(older), AESGCM(older))

    def seal(self, secret: str, context: str) -> str:
        aad = context.encode()
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        body = nonce + AESGCM(data_key).encrypt(nonce, secret.encode(), aad)
        return self._wrap(self.current_id, data_key, aad, body)

    def open(self, sealed: str, context: str) -> str:
        aad = context.encode()
        data_key, body = self._unwrap(sealed, aad)
        try:
            return AESGCM(data_key).decrypt(body[:_NONCE], body[_NONCE:], aad).decode()
        except InvalidTag as err:
            raise SecretBoxError("a sealed secret does not open (tampered or moved)") from err

    def kek_of(self, sealed: str) -> str:
        return sealed.split(".", 2)[1] if sealed.count(".") == 3 else ""

    def rewrap(self, sealed: str, context: str) -> str:
        """The same secret with its data key under the current KEK."""
        aad = context.encode()
        data_key, body = self._unwrap(sealed, aad)
        return self._wrap(self.current_id, data_key, aad, body)

    def _wrap(self, kid: str, data_key: bytes, aad: bytes, body: bytes) -> str:
        nonce = os.urandom(_NONCE)
        wrapped = nonce + self._keks[kid].encrypt(nonce, data_key, aad + b"|" + kid.encode())
        return ".".join((VERSION, kid, _b64(wrapped), _b64(body)))

    def _unwrap(self, sealed: str, aad: bytes) -> tuple[bytes, bytes]:
        parts = sealed.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise SecretBoxError("not a sealed secret")
        _, kid, wrapped_text, body_text = parts
        kek = self._keks.get(kid)
        if kek is None:
            raise SecretBoxError(f"sealed under encryption key {kid}, which is not configured")
        try:
            wrapped, body = _unb64(wrapped_text), _unb64(body_text)
            data_key = kek.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], aad + b"|" + kid.encode())
        except (InvalidTag, binascii.Error, ValueError) as err:
            raise SecretBoxError("a sealed secret does not open (tampered or moved)") from err
        return data_key, body


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
