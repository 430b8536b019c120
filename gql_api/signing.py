"""Signed, expiring download links for attachments served by this app (the local store)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

from gql_api.settings import Settings

_PURPOSE = b"chatgql download link v1"
_DIGITS = re.compile(r"[0-9]{1,15}")


def download_signing_key(settings: Settings) -> bytes:
    """The HMAC key for download links, derived from the JWT secret.

    Derived rather than reused so a link signature can never double as anything signed with the
    JWT secret itself; every process derives the same key, so any process can verify a link.
    """
    secret = settings.resolved_jwt_secret()
    if not secret:
        raise RuntimeError("signed download links need CHATGQL_JWT_SECRET to be set")
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _message(attachment_id: str, user_id: str, expires_at: int) -> bytes:
    # JSON keeps the fields unambiguous whatever characters the ids contain.
    return json.dumps([attachment_id, user_id, expires_at], separators=(",", ":")).encode()


def sign_download(secret: bytes, attachment_id: str, user_id: str, expires_at: int) -> str:
    """URL-safe signature over (attachment, user, expiry)."""
    digest = hmac.new(secret, _message(attachment_id, user_id, int(expires_at)), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def verify_download(
    secret: bytes,
    attachment_id: str,
    user_id: str,
    expires_at: int | str,
    sig: str,
    now: float | None = None,
) -> bool:
    """True if `sig` was made by `sign_download` for these fields and has not expired.

    `expires_at` may be the raw query-string value: anything but plain digits is refused.
    """
    # Strict: int() alone would also take " 12", "+12" and "1_2".
    if isinstance(expires_at, str) and not _DIGITS.fullmatch(expires_at):
        return False
    expiry = int(expires_at)
    if (time.time() if now is None else now) >= expiry:
        return False
    expected = sign_download(secret, attachment_id, user_id, expiry).encode("ascii")
    # compare_digest needs equal types; "replace" keeps non-ASCII input from raising.
    return hmac.compare_digest(expected, sig.encode("utf-8", "replace"))
