from typing import Optional

from .base_model import BaseModel
from .fragments import (
    ConversationFields,
    ConversationFieldsActiveStream,  # noqa: F401
    ProjectFields,
)


class Conversation(BaseModel):
    conversation: "ConversationConversation"


class ConversationConversation(ConversationFields):
    project: Optional["ConversationConversationProject"]


ConversationConversationProject = ProjectFields
Conversation.model_rebuild()
ConversationConversation.model_rebuild()
