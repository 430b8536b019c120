from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class Models(BaseModel):
    models: list["ModelsModels"]


class ModelsModels(BaseModel):
    id: str
    provider: str
    display_name: str = Field(alias="displayName")
    context_window: Optional[int] = Field(alias="contextWindow")
    max_output_tokens: int = Field(alias="maxOutputTokens")
    capabilities: "ModelsModelsCapabilities"
    pricing: "ModelsModelsPricing"


class ModelsModelsCapabilities(BaseModel):
    tools: bool
    vision: bool
    reasoning: bool
    prompt_caching: bool = Field(alias="promptCaching")


class ModelsModelsPricing(BaseModel):
    input: Optional[float]
    output: Optional[float]
    cache_read: Optional[float] = Field(alias="cacheRead")
    cache_write: Optional[float] = Field(alias="cacheWrite")


Models.model_rebuild()
ModelsModels.model_rebuild()
