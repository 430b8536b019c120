"""The caller and their preferences."""

from __future__ import annotations

import strawberry

from gql_api.context import Info
from gql_api.domain import users
from resolvers.types import Theme, User


@strawberry.input
class PreferencesInput:
    default_model: str | None = strawberry.UNSET
    theme: Theme | None = strawberry.UNSET
    tools_enabled: list[str] | None = strawberry.UNSET


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated user.")
    async def me(self, info: Info) -> User:
        user = await info.context.require_user()
        return User.from_model(await users.get_user(db=info.context.services.db, user=user))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Change preferences; omitted fields are left as they are.")
    async def update_preferences(self, info: Info, input: PreferencesInput) -> User:
        user = await info.context.require_user()
        services = info.context.services
        model = input.default_model  # UNSET: leave it; null: clear it; a string: validate it
        row = await users.update_preferences(
            db=services.db,
            user=user,
            known_tools=services.tools.names(),
            default_model=model if isinstance(model, str) else None,
            clear_default_model=model is None,
            theme=input.theme.value if input.theme else None,
            tools_enabled=input.tools_enabled if isinstance(input.tools_enabled, list) else None,
            catalog=services.models,
        )
        return User.from_model(row)
