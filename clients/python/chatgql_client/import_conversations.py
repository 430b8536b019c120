from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class ImportConversations(BaseModel):
    import_conversations: "ImportConversationsImportConversations" = Field(
        alias="importConversations"
    )


class ImportConversationsImportConversations(BaseModel):
    conversations_created: int = Field(alias="conversationsCreated")
    messages_created: int = Field(alias="messagesCreated")
    conversations: list["ImportConversationsImportConversationsConversations"]


ImportConversationsImportConversationsConversations = ConversationFields
ImportConversations.model_rebuild()
ImportConversationsImportConversations.model_rebuild()
