"""Which models exist, who serves each, what it can do and what it costs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from gql_api.errors import InvalidInput
from gql_api.providers.config import ModelConfig, ProviderConfig, load_provider_file
from gql_api.providers.prices import TableEntry, table_entry
from gql_api.settings import Settings

DEMO_MODEL = "demo"
_LISTED_IN_ERRORS = 20


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    provider: str
    upstream_id: str
    display_name: str
    context_window: int | None
    max_output_tokens: int
    tools: bool
    vision: bool
    reasoning: bool
    prompt_caching: bool
    # USD per million tokens; None where neither the operator nor the price table knows
    input_price: Decimal | None
    output_price: Decimal | None
    cache_read_price: Decimal | None
    cache_write_price: Decimal | None


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    config: ProviderConfig
    # The server's own key; None when the endpoint needs none or the operator gave none.
    server_key: str | None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def needs_key(self) -> bool:
        return self.config.kind != "demo" and (
            self.config.api_key_env is not None or self.config.kind == "anthropic"
        )

    @property
    def server_available(self) -> bool:
        """Usable by everyone, without a key of their own."""
        return not self.needs_key or bool(self.server_key)

    @property
    def accepts_user_keys(self) -> bool:
        return self.config.kind != "demo" and self.config.user_keys


def configured_providers(settings: Settings) -> list[ProviderEntry]:
    """The operator's list; without one, Anthropic when its key is set, else the demo model."""
    listed = list(settings.providers)
    if settings.providers_file is not None:
        listed += load_provider_file(settings.providers_file)
    if listed:
        return [
            ProviderEntry(p, os.environ.get(p.api_key_env) or None if p.api_key_env else None)
            for p in listed
        ]
    if settings.anthropic_api_key:
        names = list(settings.anthropic_models)
        if settings.default_model and settings.default_model not in names:
            names.insert(0, settings.default_model)
        implicit = ProviderConfig(
            name="anthropic",
            kind="anthropic",
            base_url=settings.anthropic_base_url,
            models=[ModelConfig(id=name) for name in names],
            timeout_seconds=settings.anthropic_timeout_seconds,
            max_retries=settings.anthropic_max_retries,
        )
        return [ProviderEntry(implicit, settings.anthropic_api_key)]
    names = [DEMO_MODEL]
    if settings.default_model and settings.default_model != DEMO_MODEL:
        names.append(settings.default_model)
    demo = ProviderConfig(name="demo", kind="demo", models=[ModelConfig(id=n) for n in names])
    return [ProviderEntry(demo, None)]


class ModelCatalog:
    """Every configured model by id, and the default one."""

    def __init__(self, providers: list[ProviderEntry], settings: Settings) -> None:
        self.providers = {p.name: p for p in providers}
        if len(self.providers) != len(providers):
            raise ValueError("two providers share a name")
        self.models: dict[str, ModelInfo] = {}
        for entry in providers:
            configs = entry.config.models or [ModelConfig(id=DEMO_MODEL)]
            for config in configs:
                if config.id in self.models:
                    raise ValueError(f"model {config.id} is offered by two providers")
                self.models[config.id] = _model_info(entry.config, config, settings)
        if not self.models:
            raise ValueError("no model is configured")
        default = settings.default_model or next(iter(self.models))
        if default not in self.models:
            raise ValueError(f"CHATGQL_DEFAULT_MODEL {default} is not offered by any provider")
        self.default_model = default

    def usable(self, key_providers: Iterable[str] = ()) -> list[ModelInfo]:
        """Models served with the server's keys, and those of providers the user has a key for."""
        own = set(key_providers)
        return [
            m
            for m in self.models.values()
            if self.providers[m.provider].server_available or m.provider in own
        ]

    def check(self, model: str, key_providers: Iterable[str] = (), *, field: str = "model") -> str:
        """`model` when the user may use it; otherwise BAD_USER_INPUT naming the ones they may."""
        usable = [m.id for m in self.usable(key_providers)]
        if model in usable:
            return model
        shown = ", ".join(usable[:_LISTED_IN_ERRORS])
        more = len(usable) - _LISTED_IN_ERRORS
        if more > 0:
            shown += f" and {more} more (see the `models` query)"
        reason = "needs a key of your own" if model in self.models else "is not offered"
        raise InvalidInput(f"model {model} {reason}; available: {shown}", field=field)


def _model_info(provider: ProviderConfig, config: ModelConfig, settings: Settings) -> ModelInfo:
    upstream = config.upstream_id or config.id
    table: TableEntry | None = None
    if provider.kind == "anthropic":
        table = table_entry(upstream, provider_id="anthropic")
    elif provider.kind == "openai-compatible":
        table = table_entry(upstream, base_url=provider.base_url)
    native = provider.kind == "anthropic"
    demo = provider.kind == "demo"
    free = Decimal(0) if demo else None

    def price(own: Decimal | None, listed: Decimal | None) -> Decimal | None:
        value = own if own is not None else listed if listed is not None else free
        return None if value is None else value.normalize()

    return ModelInfo(
        id=config.id,
        provider=provider.name,
        upstream_id=upstream,
        display_name=config.display_name
        or (table.name if table and table.name else None)
        or ("Demo (offline)" if demo else config.id),
        context_window=config.context_window or (table.context_window if table else None),
        max_output_tokens=min(
            config.max_output_tokens or settings.max_output_tokens, settings.max_output_tokens
        ),
        tools=config.tools if config.tools is not None else True,
        vision=config.vision if config.vision is not None else native,
        reasoning=bool(config.reasoning),
        prompt_caching=config.prompt_caching if config.prompt_caching is not None else native,
        input_price=price(config.input_price, table.input_price if table else None),
        output_price=price(config.output_price, table.output_price if table else None),
        cache_read_price=price(config.cache_read_price, table.cache_read_price if table else None),
        cache_write_price=price(
            config.cache_write_price, table.cache_write_price if table else None
        ),
    )
