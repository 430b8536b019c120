from pydantic import Field

from .base_model import BaseModel
from .fragments import MessageFields, StreamFields


class EditAndResend(BaseModel):
    edit_and_resend: "EditAndResendEditAndResend" = Field(alias="editAndResend")


class EditAndResendEditAndResend(BaseModel):
    user_message: "EditAndResendEditAndResendUserMessage" = Field(alias="userMessage")
    assistant_message: "EditAndResendEditAndResendAssistantMessage" = Field(
        alias="assistantMessage"
    )
    stream: "EditAndResendEditAndResendStream"


EditAndResendEditAndResendUserMessage = MessageFields
EditAndResendEditAndResendAssistantMessage = MessageFields
EditAndResendEditAndResendStream = StreamFields
EditAndResend.model_rebuild()
EditAndResendEditAndResend.model_rebuild()
