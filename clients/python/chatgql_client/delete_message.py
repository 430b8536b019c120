from pydantic import Field

from .base_model import BaseModel


class DeleteMessage(BaseModel):
    delete_message: "DeleteMessageDeleteMessage" = Field(alias="deleteMessage")


class DeleteMessageDeleteMessage(BaseModel):
    id: str


DeleteMessage.model_rebuild()
