"""Per-request (HTTP) and per-connection (websocket) GraphQL context."""

from __future__ import annotations

from functools import cached_property

from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from gql_api.auth import bearer_token
from gql_api.domain.users import CurrentUser
from gql_api.errors import Unauthenticated
from gql_api.services import Services
from resolvers.loaders import Loaders


class Context(BaseContext):
    """Holds the services and the caller. Built once per HTTP request or per websocket.

    On a websocket every operation shares this object, so it carries only the session *factory*
    (inside services) and loaders that batch without caching (nothing stale across operations).
    """

    def __init__(self, services: Services, *, websocket: bool = False) -> None:
        super().__init__()
        self.services = services
        self.user: CurrentUser | None = None
        self._websocket = websocket

    @cached_property
    def loaders(self) -> Loaders:
        # made on first use: a websocket that only streams answers never needs them
        return Loaders(self.services.db, cache=not self._websocket)

    async def require_user(self) -> CurrentUser:
        if self.user is None:
            header = None if self.request is None else self.request.headers.get("authorization")
            token = bearer_token(header)
            if token is None:
                raise Unauthenticated("Authentication required: send 'Authorization: Bearer'")
            identity = await self.services.verifier.verify(token)
            self.user = await self.services.users.resolve(identity)
        return self.user


Info = StrawberryInfo[Context, None]
