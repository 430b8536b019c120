from pydantic import Field

from .base_model import BaseModel
from .fragments import MessageFields


class EditMessage(BaseModel):
    edit_message: "EditMessageEditMessage" = Field(alias="editMessage")


EditMessageEditMessage = MessageFields
EditMessage.model_rebuild()
