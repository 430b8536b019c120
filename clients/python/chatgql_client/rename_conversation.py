from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class RenameConversation(BaseModel):
    rename_conversation: "RenameConversationRenameConversation" = Field(
        alias="renameConversation"
    )


RenameConversationRenameConversation = ConversationFields
RenameConversation.model_rebuild()
