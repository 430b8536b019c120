from pydantic import Field

from .base_model import BaseModel
from .fragments import MessageFields, StreamFields


class SendMessage(BaseModel):
    send_message: "SendMessageSendMessage" = Field(alias="sendMessage")


class SendMessageSendMessage(BaseModel):
    user_message: "SendMessageSendMessageUserMessage" = Field(alias="userMessage")
    assistant_message: "SendMessageSendMessageAssistantMessage" = Field(
        alias="assistantMessage"
    )
    stream: "SendMessageSendMessageStream"


SendMessageSendMessageUserMessage = MessageFields
SendMessageSendMessageAssistantMessage = MessageFields
SendMessageSendMessageStream = StreamFields
SendMessage.model_rebuild()
SendMessageSendMessage.model_rebuild()
