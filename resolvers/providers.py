"""Models a user may use, and the provider keys they bring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from gql_api.context import Info
from gql_api.domain import models, provider_keys
from gql_api.providers.catalog import ModelInfo
from models.provider_keys import ProviderKey as ProviderKeyRow
from resolvers.types import Deleted


@strawberry.type
class ModelCapabilities:
    tools: bool
    vision: bool
    reasoning: bool
    prompt_caching: bool


@strawberry.type(description="USD per million tokens; null where the price is not known.")
class ModelPricing:
    input: float | None
    output: float | None
    cache_read: float | None
    cache_write: float | None


@strawberry.type
class Model:
    id: str
    provider: str
    display_name: str
    context_window: int | None
    max_output_tokens: int = strawberry.field(
        description="The most one answer from this model may hold on this server."
    )
    capabilities: ModelCapabilities
    pricing: ModelPricing

    @classmethod
    def from_info(cls, info: ModelInfo) -> Model:
        return cls(
            id=info.id,
            provider=info.provider,
            display_name=info.display_name,
            context_window=info.context_window,
            max_output_tokens=info.max_output_tokens,
            capabilities=ModelCapabilities(
                tools=info.tools,
                vision=info.vision,
                reasoning=info.reasoning,
                prompt_caching=info.prompt_caching,
            ),
            pricing=ModelPricing(
                input=_money(info.input_price),
                output=_money(info.output_price),
                cache_read=_money(info.cache_read_price),
                cache_write=_money(info.cache_write_price),
            ),
        )


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="A key the user brought; the key itself is never returned.")
class ProviderKey:
    id: strawberry.ID
    provider: str
    last_four: str
    base_url: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: ProviderKeyRow) -> ProviderKey:
        return cls(
            id=strawberry.ID(row.id),
            provider=row.provider,
            last_four=row.last_four,
            base_url=row.base_url,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
        )


@strawberry.type
class Query:
    @strawberry.field(description="Every model the caller may use, default first.")
    async def models(self, info: Info) -> list[Model]:
        user = await info.context.require_user()
        s = info.context.services
        rows = await models.list_models(db=s.db, catalog=s.models, user=user)
        rows.sort(key=lambda m: m.id != s.models.default_model)
        return [Model.from_info(m) for m in rows]

    @strawberry.field(description="The caller's own provider keys (never the keys themselves).")
    async def provider_keys(self, info: Info) -> list[ProviderKey]:
        user = await info.context.require_user()
        rows = await provider_keys.list_provider_keys(db=info.context.services.db, user=user)
        return [ProviderKey.from_model(r) for r in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Use your own key for a provider (replacing any you set before). `baseUrl` "
        "points the provider elsewhere, e.g. your own OpenAI-compatible server."
    )
    async def set_provider_key(
        self, info: Info, provider: str, api_key: str, base_url: str | None = None
    ) -> ProviderKey:
        user = await info.context.require_user()
        s = info.context.services
        row = await provider_keys.set_provider_key(
            db=s.db,
            box=s.secrets_box,
            catalog=s.models,
            user=user,
            provider=provider,
            api_key=api_key,
            base_url=base_url,
            allowed_hosts=s.settings.user_base_url_allowed_hosts,
        )
        return ProviderKey.from_model(row)

    @strawberry.mutation(description="Forget one of your provider keys.")
    async def delete_provider_key(self, info: Info, id: strawberry.ID) -> Deleted:
        user = await info.context.require_user()
        deleted = await provider_keys.delete_provider_key(
            db=info.context.services.db, user=user, key_id=id
        )
        return Deleted(id=strawberry.ID(deleted))
