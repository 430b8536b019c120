from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Role
from .fragments import ConversationFields


class Search(BaseModel):
    search: "SearchSearch"


class SearchSearch(BaseModel):
    edges: list["SearchSearchEdges"]
    page_info: "SearchSearchPageInfo" = Field(alias="pageInfo")


class SearchSearchEdges(BaseModel):
    cursor: str
    node: "SearchSearchEdgesNode"


class SearchSearchEdgesNode(BaseModel):
    snippet: str
    score: float
    conversation: "SearchSearchEdgesNodeConversation"
    message: Optional["SearchSearchEdgesNodeMessage"]


SearchSearchEdgesNodeConversation = ConversationFields


class SearchSearchEdgesNodeMessage(BaseModel):
    id: str
    role: Role
    content: str
    created_at: datetime = Field(alias="createdAt")


class SearchSearchPageInfo(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: Optional[str] = Field(alias="endCursor")


Search.model_rebuild()
SearchSearch.model_rebuild()
SearchSearchEdges.model_rebuild()
SearchSearchEdgesNode.model_rebuild()
