from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class MoveConversation(BaseModel):
    move_conversation: "MoveConversationMoveConversation" = Field(
        alias="moveConversation"
    )


MoveConversationMoveConversation = ConversationFields
MoveConversation.model_rebuild()
