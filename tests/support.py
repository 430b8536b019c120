"""Test helpers: run the real app under uvicorn, and talk GraphQL to it over HTTP and websockets."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from gql_api.app import create_server_app
from gql_api.auth import mint_token
from gql_api.cli import SERVER_OPTIONS
from gql_api.db import Database
from gql_api.migrate import upgrade
from gql_api.services import Services
from gql_api.settings import Settings


class GraphQLErrors(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0].get("message"))
        self.errors = errors

    @property
    def code(self) -> str | None:
        return self.errors[0].get("extensions", {}).get("code")


@dataclass
class ApiServer:
    settings: Settings
    url: str
    services: Services
    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def token(self, user: str = "alice") -> str:
        if user not in self.tokens:
            self.tokens[user] = mint_token(self.settings, user, name=user.title())
        return self.tokens[user]

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, *, user: str | None = "alice"
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, user: str | None = "alice"
    ) -> dict[str, Any]:
        """Run a query; raise GraphQLErrors when the response has errors."""
        body = await self.raw(query, variables, user=user)
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    def ws(self, user: str = "alice") -> AbstractAsyncContextManager[Any]:
        return graphql_ws(self.ws_url, self.token(user))


@asynccontextmanager
async def graphql_ws(url: str, token: str) -> AsyncIterator[Any]:
    """A gql session over graphql-transport-ws, the token in `connection_init`."""
    transport = WebsocketsTransport(
        url=url,
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        connect_timeout=10,
        close_timeout=2,
    )
    async with Client(transport=transport) as session:
        yield session


async def subscribe_all(
    session: Any, query: str, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    """Collect a subscription's events until the server completes it."""
    request = GraphQLRequest(query, variable_values=variables)
    return [event async for event in session.subscribe(request)]


@asynccontextmanager
async def start_api(
    settings: Settings, *, migrate: bool = True, **app_options: Any
) -> AsyncIterator[ApiServer]:
    """Migrate (unless the database is known to be at the newest schema), then serve the real
    app (`create_app(settings, **app_options)`) under uvicorn on a free loopback port."""
    if migrate:
        db = Database(settings.database_url)
        await upgrade(db)
        await db.dispose()
    app = create_server_app(settings, **app_options)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        **SERVER_OPTIONS,  # as `chatgql serve` runs it
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped during startup")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        services: Services = server.lifespan.state["services"]  # type: ignore[attr-defined]
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield ApiServer(settings=settings, url=url, services=services, http=http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
