"""The reference chat page at /chat: plain HTML and ES modules from gql_api/chat/, no build step.

Served when `chat_page_enabled` (development by default). In development it also hands the page
a development token at /chat/dev-token, so that `make run` opens onto a working chat.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from gql_api.auth import mint_token
from gql_api.settings import Settings

CHAT_DIR = Path(__file__).parent / "chat"
CHAT_PATH = "/chat"
DEV_USER = "dev"


def mount_chat_page(app: FastAPI, settings: Settings) -> None:
    router = APIRouter()

    @router.get(CHAT_PATH, include_in_schema=False)
    async def chat_slash() -> RedirectResponse:
        # Relative module imports in the page resolve against /chat/.
        return RedirectResponse(f"{CHAT_PATH}/")

    @router.get(f"{CHAT_PATH}/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(CHAT_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @router.get(f"{CHAT_PATH}/dev-token", include_in_schema=False)
    async def dev_token() -> JSONResponse:
        if settings.env != "development" or settings.jwt_jwks_url:
            return JSONResponse({"token": None}, status_code=404)
        return JSONResponse({"token": mint_token(settings, DEV_USER, name=DEV_USER)})

    app.include_router(router)
    app.mount(f"{CHAT_PATH}/assets", StaticFiles(directory=CHAT_DIR / "assets"), name="chat")
