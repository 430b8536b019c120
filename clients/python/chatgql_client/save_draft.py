from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class SaveDraft(BaseModel):
    save_draft: "SaveDraftSaveDraft" = Field(alias="saveDraft")


SaveDraftSaveDraft = ConversationFields
SaveDraft.model_rebuild()
