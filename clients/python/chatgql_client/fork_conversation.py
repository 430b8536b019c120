from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class ForkConversation(BaseModel):
    fork_conversation: "ForkConversationForkConversation" = Field(
        alias="forkConversation"
    )


ForkConversationForkConversation = ConversationFields
ForkConversation.model_rebuild()
