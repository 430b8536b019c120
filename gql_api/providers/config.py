"""The operator's list of providers and the models each offers (settings or a JSON/TOML file)."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

ProviderKind = Literal["anthropic", "openai-compatible", "demo"]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$"


class ModelConfig(BaseModel):
    """One model a provider offers. What is left unset comes from the price table, or defaults."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=MODEL_PATTERN)  # what users choose; unique over all providers
    upstream_id: str | None = None  # the name the provider knows it by, when it differs
    display_name: str | None = None
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    tools: bool | None = None
    vision: bool | None = None
    reasoning: bool | None = None
    prompt_caching: bool | None = None
    # USD per million tokens
    input_price: Decimal | None = Field(default=None, ge=0)
    output_price: Decimal | None = Field(default=None, ge=0)
    cache_read_price: Decimal | None = Field(default=None, ge=0)
    cache_write_price: Decimal | None = Field(default=None, ge=0)


class ProviderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    kind: ProviderKind
    base_url: str | None = None
    # The name of the environment variable holding the server's key, never the key itself.
    # Unset: the endpoint needs no key (a local Ollama); set but empty: only users' own keys.
    api_key_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    models: list[ModelConfig] = Field(default_factory=list)
    drop_params: list[str] = Field(default_factory=list)  # request fields this endpoint refuses
    include_usage: bool = True  # stream_options.include_usage (openai-compatible only)
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    user_keys: bool = True  # users may bring their own key for this provider
    timeout_seconds: float = Field(default=600.0, gt=0)
    max_retries: int = Field(default=2, ge=0)

    @field_validator("models", mode="before")
    @classmethod
    def _plain_ids(cls, value: Any) -> Any:
        """`"models": ["llama3.2"]` is short for `[{"id": "llama3.2"}]`."""
        if isinstance(value, list):
            return [{"id": item} if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _check(self) -> ProviderConfig:
        if self.kind == "openai-compatible" and not self.base_url:
            raise ValueError(f"provider {self.name}: an openai-compatible provider needs base_url")
        if self.kind != "demo" and not self.models:
            raise ValueError(f"provider {self.name}: list the models it offers")
        return self


_PROVIDER_LIST = TypeAdapter(list[ProviderConfig])


def load_provider_file(path: Path) -> list[ProviderConfig]:
    """A JSON list, or TOML with `[[providers]]` tables (`[[providers.models]]` inside)."""
    raw = path.read_bytes()
    if path.suffix.lower() == ".toml":
        data: Any = tomllib.loads(raw.decode("utf-8")).get("providers", [])
    else:
        data = json.loads(raw)
        if isinstance(data, dict):
            data = data.get("providers", [])
    return _PROVIDER_LIST.validate_python(data)
