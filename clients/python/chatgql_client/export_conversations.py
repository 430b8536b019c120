from typing import Any

from pydantic import Field

from .base_model import BaseModel


class ExportConversations(BaseModel):
    export_conversations: Any = Field(alias="exportConversations")
