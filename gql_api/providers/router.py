"""The one `ModelProvider` the engine talks to: it sends each request to the provider serving
its model, with the user's own key when they set one (a client per key, a bounded few kept)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Protocol

from gql_api.errors import PROVIDER_AUTH, PROVIDER_BAD_REQUEST, ProviderError

# Imported here, not on first use: importing an SDK takes long enough to stall the event loop
# (and with it the heartbeats of every running answer) in the middle of serving.
from gql_api.providers.anthropic import AnthropicProvider, make_anthropic_client
from gql_api.providers.base import (
    ModelProvider,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    Usage,
)
from gql_api.providers.catalog import ModelCatalog, ModelInfo, ProviderEntry
from gql_api.providers.config import ProviderConfig
from gql_api.providers.demo import DemoProvider
from gql_api.providers.estimate import estimate
from gql_api.providers.openai_compat import OpenAICompatibleProvider, make_openai_client

log = logging.getLogger(__name__)


class UsageSink(Protocol):
    """gql_api.domain.usage.UsageLedger, as the router sees it."""

    def record(self, *, user_id: str, model: ModelInfo, usage: Usage) -> None: ...


class KeyLookup(Protocol):
    """gql_api.domain.provider_keys.UserKeys, as the router sees it."""

    async def lookup(self, user_id: str, provider: str) -> Any: ...
    async def used(self, key_id: str) -> None: ...
    async def rejected(self, key_id: str, message: str) -> None: ...


def build_provider(
    config: ProviderConfig, api_key: str | None, base_url: str | None, demo_delay: float
) -> ModelProvider:
    """An SDK-backed provider for one endpoint and key."""
    url = base_url or config.base_url
    if config.kind == "anthropic":
        client = make_anthropic_client(
            api_key or "unused",
            base_url=url,
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
            headers=config.headers,
        )
        return AnthropicProvider(client)
    if config.kind == "openai-compatible":
        assert url is not None  # checked when the config was read
        return OpenAICompatibleProvider(
            make_openai_client(
                api_key,
                url,
                headers=config.headers,
                timeout=config.timeout_seconds,
                max_retries=config.max_retries,
            ),
            include_usage=config.include_usage,
            drop_params=config.drop_params,
            max_tokens_field=config.max_tokens_field,
        )
    return DemoProvider(token_delay=demo_delay)


@dataclasses.dataclass
class _Cached:
    provider: ModelProvider
    in_use: int = 0
    evicted: bool = False


class ModelRouter:
    name = "router"

    def __init__(
        self,
        catalog: ModelCatalog,
        *,
        keys: KeyLookup | None = None,
        usage: UsageSink | None = None,
        check_url: Callable[[str], Awaitable[str]] | None = None,
        cache_size: int = 64,
        demo_delay: float = 0.0,
        build: Callable[..., ModelProvider] = build_provider,
    ) -> None:
        self.catalog = catalog
        self._keys, self._check_url, self._usage = keys, check_url, usage
        self._build, self._demo_delay = build, demo_delay
        self._server: dict[str, ModelProvider] = {}
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_size = cache_size
        for entry in catalog.providers.values():
            if entry.server_available:
                self.server_provider(entry)  # clients made at startup, not mid-answer

    def server_provider(self, entry: ProviderEntry) -> ModelProvider:
        provider = self._server.get(entry.name)
        if provider is None:
            provider = self._build(entry.config, entry.server_key, None, self._demo_delay)
            self._server[entry.name] = provider
        return provider

    async def close(self) -> None:
        providers = [*self._server.values(), *(c.provider for c in self._cache.values())]
        self._server.clear()
        self._cache.clear()
        for provider in providers:
            await _close(provider)
        await _close(self._usage)  # its writes still pending, before the database goes

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        info = self.catalog.models.get(request.model)
        if info is None:
            raise ProviderError(
                f"The model {request.model} is no longer offered; choose another.",
                code=PROVIDER_BAD_REQUEST,
            )
        entry = self.catalog.providers[info.provider]
        upstream = dataclasses.replace(
            request,
            model=info.upstream_id,
            max_tokens=min(request.max_tokens, info.max_output_tokens),
        )
        user_key = None
        if self._keys is not None and request.user_id and entry.accepts_user_keys:
            user_key = await self._keys.lookup(request.user_id, entry.name)
        if user_key is None:
            if not entry.server_available:
                raise ProviderError(
                    f"The model {info.id} needs a key of your own for {entry.name}.",
                    code=PROVIDER_AUTH,
                )
            metered = self._metered(info, upstream, self.server_provider(entry))
            async with contextlib.aclosing(metered) as events:
                async for event in events:
                    yield event
            return
        cached = await self._client_for(entry, user_key)
        cached.in_use += 1
        try:
            await self._keys.used(user_key.id)  # type: ignore[union-attr]
            async with contextlib.aclosing(
                self._metered(info, upstream, cached.provider)
            ) as events:
                async for event in events:
                    yield event
        except ProviderError as err:
            if user_key.api_key in err.message:  # a provider echoing the key back
                err.message = "The model provider refused the request."
                err.args = (err.message,)
            if err.code == PROVIDER_AUTH:
                err.message = f"The model provider refused your key for {entry.name}."
                err.args = (err.message,)
                await self._keys.rejected(user_key.id, err.message)  # type: ignore[union-attr]
            raise
        finally:
            cached.in_use -= 1
            if cached.evicted and cached.in_use == 0:
                await _close(cached.provider)

    async def _metered(
        self, info: ModelInfo, request: ModelRequest, provider: ModelProvider
    ) -> AsyncGenerator[ProviderEvent, None]:
        """The provider's events, with what the request used recorded however it ends (an
        estimate where the provider says nothing, as when the answer is stopped)."""
        output_chars = 0
        used: Usage | None = None
        try:
            async with contextlib.aclosing(provider.stream(request)) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        output_chars += len(event.text)
                    elif isinstance(event, Usage):
                        if event.estimated:
                            event = estimate(request, output_chars)
                        used = event
                    yield event
        finally:
            if used is None and output_chars:
                used = estimate(request, output_chars)
            if used is not None and self._usage is not None and request.user_id:
                self._usage.record(user_id=request.user_id, model=info, usage=used)

    async def _client_for(self, entry: ProviderEntry, user_key: Any) -> _Cached:
        digest = hashlib.sha256(
            f"{entry.name}\0{user_key.base_url or ''}\0{user_key.api_key}".encode()
        ).hexdigest()
        cached = self._cache.get(digest)
        if cached is not None:
            self._cache.move_to_end(digest)
            return cached
        if user_key.base_url is not None and self._check_url is not None:
            # Checked again when the client is made: the name may resolve elsewhere by now.
            try:
                await self._check_url(user_key.base_url)
            except Exception as err:
                raise ProviderError(
                    f"Your base URL for {entry.name} is no longer allowed; set the key again.",
                    code=PROVIDER_BAD_REQUEST,
                ) from err
        cached = self._cache.get(digest)  # another request may have made it meanwhile
        if cached is not None:
            return cached
        provider = self._build(entry.config, user_key.api_key, user_key.base_url, self._demo_delay)
        cached = self._cache[digest] = _Cached(provider)
        while len(self._cache) > self._cache_size:
            _, old = self._cache.popitem(last=False)
            old.evicted = True
            if old.in_use == 0:
                await _close(old.provider)
        return cached


async def _close(provider: object) -> None:
    close = getattr(provider, "close", None)
    if close is None:
        return
    try:
        await close()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("closing a provider client failed", exc_info=True)
