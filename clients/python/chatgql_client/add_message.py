from pydantic import Field

from .base_model import BaseModel
from .fragments import MessageFields


class AddMessage(BaseModel):
    add_message: "AddMessageAddMessage" = Field(alias="addMessage")


AddMessageAddMessage = MessageFields
AddMessage.model_rebuild()
