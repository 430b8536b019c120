from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import MessageStatus, Role
from .fragments import (
    ConversationFields,
    ConversationFieldsActiveStream,  # noqa: F401
)


class Conversations(BaseModel):
    conversations: "ConversationsConversations"


class ConversationsConversations(BaseModel):
    edges: list["ConversationsConversationsEdges"]
    page_info: "ConversationsConversationsPageInfo" = Field(alias="pageInfo")


class ConversationsConversationsEdges(BaseModel):
    cursor: str
    node: "ConversationsConversationsEdgesNode"


class ConversationsConversationsEdgesNode(ConversationFields):
    last_message: Optional["ConversationsConversationsEdgesNodeLastMessage"] = Field(
        alias="lastMessage"
    )


class ConversationsConversationsEdgesNodeLastMessage(BaseModel):
    id: str
    role: Role
    content: str
    status: MessageStatus
    created_at: datetime = Field(alias="createdAt")


class ConversationsConversationsPageInfo(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    has_previous_page: bool = Field(alias="hasPreviousPage")
    start_cursor: Optional[str] = Field(alias="startCursor")
    end_cursor: Optional[str] = Field(alias="endCursor")


Conversations.model_rebuild()
ConversationsConversations.model_rebuild()
ConversationsConversationsEdges.model_rebuild()
ConversationsConversationsEdgesNode.model_rebuild()
