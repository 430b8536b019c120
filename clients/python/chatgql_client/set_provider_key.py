from pydantic import Field

from .base_model import BaseModel
from .fragments import ProviderKeyFields


class SetProviderKey(BaseModel):
    set_provider_key: "SetProviderKeySetProviderKey" = Field(alias="setProviderKey")


SetProviderKeySetProviderKey = ProviderKeyFields
SetProviderKey.model_rebuild()
