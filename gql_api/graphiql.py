"""GraphiQL, served with its own files (gql_api/static/graphiql/, refreshed by
scripts/vendor_graphiql.py): it works with no network beyond this server.

It opens on two tabs that show what chatgql does (send a message, watch its answer stream),
and in development with a token already in its Headers tab.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gql_api.auth import mint_token
from gql_api.settings import Settings

STATIC = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql/assets"
DEV_USER = "dev"  # the subject `chatgql serve` prints a token for, by default

SEND_MESSAGE = """\
# Start here: create a conversation, then send a message in it.
# Run an operation with the play button (or Ctrl-Enter with the cursor inside it).
# sendMessage returns at once; the answer is written in the background.
# Copy assistantMessage.id into the "Watch the answer" tab's variables.

mutation CreateConversation {
  createConversation(input: { title: "Hello from GraphiQL" }) {
    id
    title
  }
}

mutation SendMessage($conversationId: ID!) {
  sendMessage(input: { conversationId: $conversationId, content: "Write a haiku about rivers." }) {
    assistantMessage {
      id
    }
    stream {
      id
      status
    }
  }
}
"""

WATCH_ANSWER = """\
# The answer as it is written: what is already saved, then live pieces, then one end event.
# Subscribe again at any time (even after it finished): nothing is missed, nothing repeated.

subscription WatchAnswer($messageId: ID!) {
  streamEvents(messageId: $messageId) {
    __typename
    ... on StreamSnapshot {
      status
      text
    }
    ... on StreamDelta {
      offset
      text
    }
    ... on StreamEnd {
      status
      length
    }
  }
}
"""


@cache
def assets() -> tuple[dict[str, Any], ...]:
    listed: list[dict[str, Any]] = json.loads((STATIC / "assets.json").read_text())
    return tuple(listed)


@cache
def _template() -> Template:
    return Template((STATIC / "index.html").read_text())


def _tag(asset: dict[str, Any]) -> str:
    src = f"{ASSETS_PATH}/{asset['name']}"
    if asset["name"].endswith(".css"):
        return f'    <link rel="stylesheet" href="{src}" integrity="{asset["integrity"]}" />'
    return f'    <script src="{src}" integrity="{asset["integrity"]}"></script>'


def development_headers(settings: Settings) -> str:
    """The Headers tab's first content: a fresh token in development, placeholders elsewhere."""
    if settings.env == "development" and not settings.jwt_jwks_url:
        token = mint_token(settings, DEV_USER, name=DEV_USER)
        return json.dumps({"Authorization": f"Bearer {token}"}, indent=2)
    return json.dumps({"Authorization": "Bearer <your token>"}, indent=2)


def page(settings: Settings, graphql_path: str) -> HTMLResponse:
    headers = development_headers(settings)
    config = {
        "path": graphql_path,
        "headers": headers,
        "tabs": [
            {"query": SEND_MESSAGE, "variables": '{\n  "conversationId": ""\n}'},
            {"query": WATCH_ANSWER, "variables": '{\n  "messageId": ""\n}'},
        ],
    }
    # JSON in a <script> element: "<" escaped so no string can close the element.
    encoded = json.dumps(config).replace("<", "\\u003c")
    body = _template().substitute(
        styles="\n".join(_tag(a) for a in assets() if a["name"].endswith(".css")),
        scripts="\n".join(_tag(a) for a in assets() if not a["name"].endswith(".css")),
        config=encoded,
    )
    # The page may carry a token: never cached, never framed by another site.
    return HTMLResponse(
        body,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


@cache
def _asset_bytes(name: str) -> bytes:
    return (STATIC / f"{name}.gz").read_bytes()


router = APIRouter()


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str, request: Request) -> Response:
    if name not in {a["name"] for a in assets()}:
        raise HTTPException(404)
    media_type = "text/css" if name.endswith(".css") else "text/javascript"
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
    compressed = _asset_bytes(name)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(compressed, media_type=media_type, headers=headers)
    return Response(gzip.decompress(compressed), media_type=media_type, headers=headers)
