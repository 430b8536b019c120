"""JWT verification (HS256 secret or RS256/ES256 from JWKS) and development token minting."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import jwt

from gql_api.errors import Unauthenticated
from gql_api.settings import Settings

ASYMMETRIC = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str | None = None
    name: str | None = None


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when absent."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._jwks: jwt.PyJWKClient | None = None
        self._secret: str | None = None
        if settings.jwt_jwks_url:
            # Asymmetric algorithms only: an HMAC "secret" must never be a public key.
            self._algorithms = [a for a in settings.jwt_algorithms if a in ASYMMETRIC] or [
                "RS256",
                "ES256",
            ]
            self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
        else:
            self._algorithms = ["HS256"]
            self._secret = settings.resolved_jwt_secret()
            if not self._secret:
                raise ValueError("no JWT secret configured")

    async def verify(self, token: str) -> Identity:
        try:
            key: Any
            if self._jwks is not None:
                # PyJWKClient fetches over blocking HTTP (then caches): keep it off the loop.
                # Pass the PyJWK itself, not `.key`: PyJWT then refuses a token whose `alg` does
                # not match the key's type (ES256 naming an RSA key) instead of a TypeError.
                key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            else:
                key = self._secret
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("Token has expired") from exc
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated("Token signing key could not be found") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"Invalid token: {exc}") from exc
        except jwt.PyJWTError as exc:  # e.g. InvalidKeyError: still the token's fault
            raise Unauthenticated("Invalid token") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise Unauthenticated("Invalid token: bad subject")
        email, name = claims.get("email"), claims.get("name")
        return Identity(
            subject=subject,
            email=email[:320] if isinstance(email, str) else None,
            name=name[:200] if isinstance(name, str) else None,
        )


def mint_token(
    settings: Settings,
    subject: str,
    *,
    email: str | None = None,
    name: str | None = None,
    ttl: dt.timedelta = dt.timedelta(days=7),
) -> str:
    """A development HS256 token for `subject`."""
    secret = settings.resolved_jwt_secret()
    if not secret:
        raise ValueError("minting needs an HS256 secret (CHATGQL_JWT_SECRET)")
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + ttl}
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, secret, algorithm="HS256")
