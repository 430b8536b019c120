from pydantic import Field

from .base_model import BaseModel
from .fragments import StreamFields


class ContinueMessage(BaseModel):
    continue_message: "ContinueMessageContinueMessage" = Field(alias="continueMessage")


ContinueMessageContinueMessage = StreamFields
ContinueMessage.model_rebuild()
