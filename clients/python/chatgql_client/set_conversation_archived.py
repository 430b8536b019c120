from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class SetConversationArchived(BaseModel):
    set_conversation_archived: "SetConversationArchivedSetConversationArchived" = Field(
        alias="setConversationArchived"
    )


SetConversationArchivedSetConversationArchived = ConversationFields
SetConversationArchived.model_rebuild()
