"""`chatgql serve | migrate | token | rotate-keys`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import sys
from types import FrameType
from typing import Any

import uvicorn

from gql_api import logs
from gql_api.db import Database
from gql_api.migrate import upgrade
from gql_api.settings import Settings

# How uvicorn serves chatgql (the bench and the tests serve it the same way). No
# permessage-deflate: its state costs ~43 KB per websocket and slows large snapshots (make bench).
SERVER_OPTIONS: dict[str, Any] = {"ws": "websockets-sansio", "ws_per_message_deflate": False}


async def _migrate(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    asyncio.run(_migrate(settings))
    print(f"database is up to date ({settings.database_url.split('@')[-1]})")
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from gql_api.auth import mint_token

    token = mint_token(
        settings,
        args.user,
        email=args.email,
        name=args.name,
        ttl=dt.timedelta(hours=args.hours),
    )
    print(token)
    return 0


async def _rotate(settings: Settings) -> tuple[int, int]:
    from gql_api.domain.provider_keys import rotate_keys
    from gql_api.secrets_box import SecretBox

    box = SecretBox(settings.resolved_encryption_key(), settings.encryption_old_keys)
    db = Database(settings.database_url)
    try:
        return await rotate_keys(db, box)
    finally:
        await db.dispose()


def cmd_rotate_keys(settings: Settings, _args: argparse.Namespace) -> int:
    """Seal every stored secret under the current CHATGQL_ENCRYPTION_KEY."""
    done, failed = asyncio.run(_rotate(settings))
    print(f"re-encrypted {done} provider key(s) under the current encryption key")
    if failed:
        print(
            f"{failed} key(s) were sealed under a key not listed in CHATGQL_ENCRYPTION_OLD_KEYS; "
            "they stay as they are",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from gql_api.app import create_app, with_cross_origin
    from gql_api.auth import mint_token

    asyncio.run(_migrate(settings))
    host = args.host or settings.host
    port = args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    where = "GraphiQL at" if settings.graphiql_enabled else "serving"
    print(f"chatgql: {where} http://{host}:{port}/graphql")
    if settings.chat_page_enabled:
        print(f"chatgql: chat page at http://{host}:{port}/chat/")
    if settings.env != "production" and not settings.jwt_jwks_url:
        token = mint_token(settings, args.dev_user, name=args.dev_user)
        print(f"development token for '{args.dev_user}' (valid 7 days):\n{token}")
        print("send it as 'Authorization: Bearer <token>' (GraphiQL: the Headers tab)")
    sys.stdout.flush()
    app = create_app(settings)
    config = uvicorn.Config(
        with_cross_origin(app, settings),
        host=host,
        port=port,
        workers=1,
        # chatgql's own access line (gql_api/observe.py) carries the request id and the
        # GraphQL error codes; the logging set up by main() formats uvicorn's lines too.
        log_config=None,
        access_log=False,
        **SERVER_OPTIONS,
    )
    DrainingServer(config, app, grace=settings.drain_grace_seconds).run()
    return 0


class DrainingServer(uvicorn.Server):
    """uvicorn, except that SIGTERM drains first (gql_api.runtime.drain): new answers are
    refused, running ones finish or are handed off, their watchers get their end events, and
    only then does uvicorn close connections. A second SIGTERM, or SIGINT, stops at once."""

    def __init__(self, config: uvicorn.Config, app: Any, *, grace: float) -> None:
        super().__init__(config)
        self._app = app
        self._grace = grace
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        services = getattr(self._app.state, "services", None)
        if sig != signal.SIGTERM or self._draining is not None or services is None:
            super().handle_exit(sig, frame)
            return
        # A signal handler runs between two bytecodes of the loop's thread: schedule, don't run.
        loop = asyncio.get_running_loop()
        self._draining = loop.create_task(self._drain(services))

    async def _drain(self, services: Any) -> None:
        from gql_api.runtime import drain

        try:
            await drain(services, grace=self._grace)
        except Exception:
            logging.getLogger("chatgql").exception("drain failed")
        finally:
            self.should_exit = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chatgql", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, then serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--dev-user", default="dev", help="subject of the printed dev token")
    serve.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), help="CHATGQL_LOG_LEVEL"
    )
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="bring the database to the newest schema")
    migrate.set_defaults(func=cmd_migrate)
    token = sub.add_parser("token", help="mint a development token (HS256)")
    token.add_argument("--user", required=True, help="the token's subject")
    token.add_argument("--email")
    token.add_argument("--name")
    token.add_argument("--hours", type=float, default=24 * 7)
    token.set_defaults(func=cmd_token)
    rotate = sub.add_parser(
        "rotate-keys",
        help="re-encrypt stored secrets under CHATGQL_ENCRYPTION_KEY (old keys listed in "
        "CHATGQL_ENCRYPTION_OLD_KEYS)",
    )
    rotate.set_defaults(func=cmd_rotate_keys)
    args = parser.parse_args(argv)
    settings = Settings()
    if getattr(args, "log_level", None):
        settings = settings.model_copy(update={"log_level": args.log_level})
    logs.configure(settings.log_format, settings.log_level)
    result: int = args.func(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
