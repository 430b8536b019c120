from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import MessageFields


class Messages(BaseModel):
    messages: "MessagesMessages"


class MessagesMessages(BaseModel):
    edges: list["MessagesMessagesEdges"]
    page_info: "MessagesMessagesPageInfo" = Field(alias="pageInfo")


class MessagesMessagesEdges(BaseModel):
    cursor: str
    node: "MessagesMessagesEdgesNode"


MessagesMessagesEdgesNode = MessageFields


class MessagesMessagesPageInfo(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    has_previous_page: bool = Field(alias="hasPreviousPage")
    start_cursor: Optional[str] = Field(alias="startCursor")
    end_cursor: Optional[str] = Field(alias="endCursor")


Messages.model_rebuild()
MessagesMessages.model_rebuild()
MessagesMessagesEdges.model_rebuild()
