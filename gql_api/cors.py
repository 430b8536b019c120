"""Cross-origin access: CORS for HTTP, and an Origin check for websocket and SSE handshakes.

Browsers apply CORS to `fetch`, but not to websockets, and an `EventSource` is a plain GET
whose answer a disallowed page merely cannot read: both would run a subscription for any
page. So those handshakes are refused here, before the app, unless they come from the same
origin, from an allowed origin, or from no browser at all (no `Origin` header).

`CHATGQL_CORS_ORIGINS` lists exact origins (`https://chat.example.com`) and patterns, where
`*` stands for one or more host labels (`https://*.example.com`) or a port
(`http://localhost:*`); a lone `*` allows every origin. Empty: same origin only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

ALLOWED_METHODS = ("GET", "POST")
# What a browser client sends besides the CORS-safelisted headers: the bearer token, the
# upload's file name (POST /uploads), a request id, and the headers Apollo Client adds.
ALLOWED_HEADERS = (
    "Authorization",
    "X-Filename",
    "X-Request-ID",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
)
EXPOSED_HEADERS = ("X-Request-ID",)
PREFLIGHT_MAX_AGE = 600

_HOST_LABELS = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"


def origin_pattern(entry: str) -> str | None:
    """The regular expression of a pattern entry, or None for an exact origin."""
    if "*" not in entry or entry == "*":
        return None
    parts = re.split(r"(:\*$|\*)", entry.lower().rstrip("/"))
    regex = []
    for part in parts:
        if part == ":*":
            regex.append(r":[0-9]{1,5}")
        elif part == "*":
            regex.append(_HOST_LABELS)
        else:
            regex.append(re.escape(part))
    return "".join(regex)


class OriginPolicy:
    """Which origins may use the API from a browser."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.allow_all = "*" in entries
        self.exact = frozenset(e.lower().rstrip("/") for e in entries if "*" not in e)
        patterns = [p for e in entries if (p := origin_pattern(e)) is not None]
        self.regex = "|".join(f"(?:{p})" for p in patterns) if patterns else None
        self._compiled = re.compile(self.regex) if self.regex else None

    def allows(self, origin: str) -> bool:
        if self.allow_all:
            return True
        origin = origin.lower()
        return origin in self.exact or bool(self._compiled and self._compiled.fullmatch(origin))


def same_origin(origin: str, host: str | None) -> bool:
    """The page's origin names the host the request went to (its scheme is left out: behind a
    TLS-terminating proxy the server sees http and ws where the page saw https)."""
    if host is None or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


def _wants_event_stream(headers: Headers) -> bool:
    return "text/event-stream" in headers.get("accept", "")


class CrossOrigin:
    """The outermost layer of the app: Starlette's CORSMiddleware for HTTP, and a refusal of
    websocket and event-stream handshakes from origins that are neither the server's own nor
    allowed."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str], credentials: bool) -> None:
        if credentials and "*" in origins:
            raise ValueError("CORS credentials cannot be allowed for every origin ('*')")
        self.app = app
        self.policy = OriginPolicy(origins)
        self.http = CORSMiddleware(
            app,
            allow_origins=["*"] if self.policy.allow_all else sorted(self.policy.exact),
            allow_origin_regex=self.policy.regex,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=credentials,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE,
        )

    def handshake_allowed(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is None:  # not a browser: it has no ambient credentials to misuse
            return True
        return same_origin(origin, headers.get("host")) or self.policy.allows(origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            if not self.handshake_allowed(Headers(scope=scope)):
                # Refused before it is accepted: the browser sees a failed handshake (403).
                await send({"type": "websocket.close", "code": 1008, "reason": ""})
                return
            await self.app(scope, receive, send)
        elif kind == "http":
            headers = Headers(scope=scope)
            if _wants_event_stream(headers) and not self.handshake_allowed(headers):
                response = PlainTextResponse("This origin is not allowed.", status_code=403)
                await response(scope, receive, send)
                return
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)
