"""Fallback prices and context windows from `genai-prices` (its bundled table: no network).

Only a model whose provider the table can tell is priced: by the provider's id for the native
Anthropic provider, by its base URL for an openai-compatible one (api.openai.com, openrouter.ai,
...). A local model (Ollama, vLLM) matched by name alone would get some cloud host's price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from genai_prices import Usage, calc_price

# Priced on a small request, so a model with tiered prices shows its base tier.
_SAMPLE = 1000
_PER_MILLION = Decimal(1_000_000 // _SAMPLE)


@dataclass(frozen=True, slots=True)
class TableEntry:
    name: str | None
    context_window: int | None
    input_price: Decimal | None
    output_price: Decimal | None
    cache_read_price: Decimal | None
    cache_write_price: Decimal | None


@lru_cache(maxsize=1024)
def table_entry(
    model: str, *, provider_id: str | None = None, base_url: str | None = None
) -> TableEntry | None:
    """Per-million prices of `model`, or None when the table does not know it for sure."""
    if provider_id is None and base_url is None:
        return None
    try:
        if provider_id is not None:
            plain = calc_price(
                Usage(input_tokens=_SAMPLE, output_tokens=_SAMPLE), model, provider_id=provider_id
            )
        else:
            plain = calc_price(
                Usage(input_tokens=_SAMPLE, output_tokens=_SAMPLE), model, provider_api_url=base_url
            )
    except LookupError:
        return None
    price = plain.model_price
    provider = plain.provider.id

    def cached(**usage: int) -> Decimal | None:
        # The table counts cached tokens inside input_tokens; all of them cached gives their price.
        result = calc_price(Usage(input_tokens=_SAMPLE, **usage), model, provider_id=provider)
        return result.input_price * _PER_MILLION

    return TableEntry(
        name=plain.model.name,
        context_window=plain.model.context_window,
        input_price=plain.input_price * _PER_MILLION,
        output_price=plain.output_price * _PER_MILLION,
        cache_read_price=(
            cached(cache_read_tokens=_SAMPLE)
            if getattr(price, "cache_read_mtok", None) is not None
            else None
        ),
        cache_write_price=(
            cached(cache_write_tokens=_SAMPLE)
            if getattr(price, "cache_write_mtok", None) is not None
            else None
        ),
    )
