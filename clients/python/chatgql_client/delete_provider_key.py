from pydantic import Field

from .base_model import BaseModel


class DeleteProviderKey(BaseModel):
    delete_provider_key: "DeleteProviderKeyDeleteProviderKey" = Field(
        alias="deleteProviderKey"
    )


class DeleteProviderKeyDeleteProviderKey(BaseModel):
    id: str


DeleteProviderKey.model_rebuild()
