from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class CreateConversation(BaseModel):
    create_conversation: "CreateConversationCreateConversation" = Field(
        alias="createConversation"
    )


CreateConversationCreateConversation = ConversationFields
CreateConversation.model_rebuild()
