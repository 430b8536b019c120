from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class SetConversationPinned(BaseModel):
    set_conversation_pinned: "SetConversationPinnedSetConversationPinned" = Field(
        alias="setConversationPinned"
    )


SetConversationPinnedSetConversationPinned = ConversationFields
SetConversationPinned.model_rebuild()
