from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import MessageStatus
from .fragments import (  # noqa: F401
    MessageFields,
    MessageFieldsAttachments,
    MessageFieldsPartsTextPart,
    MessageFieldsPartsToolCallPart,
    MessageFieldsUsage,
)


class Message(BaseModel):
    message: "MessageMessage"


class MessageMessage(MessageFields):
    versions: list["MessageMessageVersions"]


class MessageMessageVersions(BaseModel):
    version: int
    content: str
    status: MessageStatus
    model: Optional[str]
    created_at: datetime = Field(alias="createdAt")


Message.model_rebuild()
MessageMessage.model_rebuild()
