from .base_model import BaseModel
from .fragments import MessageFields


class Message(BaseModel):
    message: "MessageMessage"


MessageMessage = MessageFields
Message.model_rebuild()
