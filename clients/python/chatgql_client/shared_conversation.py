from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Role


class SharedConversation(BaseModel):
    shared_conversation: "SharedConversationSharedConversation" = Field(
        alias="sharedConversation"
    )


class SharedConversationSharedConversation(BaseModel):
    title: str
    shared_at: datetime = Field(alias="sharedAt")
    messages: list["SharedConversationSharedConversationMessages"]


class SharedConversationSharedConversationMessages(BaseModel):
    role: Role
    content: str
    model: Optional[str]
    created_at: datetime = Field(alias="createdAt")
    attachments: list["SharedConversationSharedConversationMessagesAttachments"]


class SharedConversationSharedConversationMessagesAttachments(BaseModel):
    name: str
    media_type: str = Field(alias="mediaType")
    size: int
    download_url: str = Field(alias="downloadUrl")


SharedConversation.model_rebuild()
SharedConversationSharedConversation.model_rebuild()
SharedConversationSharedConversationMessages.model_rebuild()
