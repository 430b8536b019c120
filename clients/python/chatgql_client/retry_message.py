from pydantic import Field

from .base_model import BaseModel
from .fragments import MessageFields, StreamFields


class RetryMessage(BaseModel):
    retry_message: "RetryMessageRetryMessage" = Field(alias="retryMessage")


class RetryMessageRetryMessage(BaseModel):
    user_message: "RetryMessageRetryMessageUserMessage" = Field(alias="userMessage")
    assistant_message: "RetryMessageRetryMessageAssistantMessage" = Field(
        alias="assistantMessage"
    )
    stream: "RetryMessageRetryMessageStream"


RetryMessageRetryMessageUserMessage = MessageFields
RetryMessageRetryMessageAssistantMessage = MessageFields
RetryMessageRetryMessageStream = StreamFields
RetryMessage.model_rebuild()
RetryMessageRetryMessage.model_rebuild()
