from pydantic import Field

from .base_model import BaseModel


class DeleteConversation(BaseModel):
    delete_conversation: "DeleteConversationDeleteConversation" = Field(
        alias="deleteConversation"
    )


class DeleteConversationDeleteConversation(BaseModel):
    id: str


DeleteConversation.model_rebuild()
