from pydantic import Field

from .base_model import BaseModel
from .fragments import ProviderKeyFields


class ProviderKeys(BaseModel):
    provider_keys: list["ProviderKeysProviderKeys"] = Field(alias="providerKeys")


ProviderKeysProviderKeys = ProviderKeyFields
ProviderKeys.model_rebuild()
