from pydantic import Field

from .base_model import BaseModel
from .fragments import ConversationFields


class SelectBranch(BaseModel):
    select_branch: "SelectBranchSelectBranch" = Field(alias="selectBranch")


class SelectBranchSelectBranch(BaseModel):
    leaf_id: str = Field(alias="leafId")
    conversation: "SelectBranchSelectBranchConversation"


SelectBranchSelectBranchConversation = ConversationFields
SelectBranch.model_rebuild()
SelectBranchSelectBranch.model_rebuild()
