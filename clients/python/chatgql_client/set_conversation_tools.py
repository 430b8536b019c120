from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class SetConversationTools(BaseModel):
    set_conversation_tools: "SetConversationToolsSetConversationTools" = Field(
        alias="setConversationTools"
    )


class SetConversationToolsSetConversationTools(BaseModel):
    id: str
    tools_enabled: Optional[list[str]] = Field(alias="toolsEnabled")


SetConversationTools.model_rebuild()
