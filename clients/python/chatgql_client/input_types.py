from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import AuthorRole, Theme


class AddMessageInput(BaseModel):
    conversation_id: str = Field(alias="conversationId")
    content: str
    role: AuthorRole = AuthorRole.USER
    client_message_id: Optional[str] = Field(alias="clientMessageId", default=None)
    "Idempotency key: the same id again returns the same message."


class CreateConversationInput(BaseModel):
    title: Optional[str] = None
    model: Optional[str] = None
    project_id: Optional[str] = Field(alias="projectId", default=None)
    system_prompt: Optional[str] = Field(alias="systemPrompt", default=None)


class EditAndResendInput(BaseModel):
    message_id: str = Field(alias="messageId")
    "The user message to edit."
    content: str
    client_message_id: Optional[str] = Field(alias="clientMessageId", default=None)
    "Idempotency key: the same id again returns the same rows."
    model: Optional[str] = None


class PreferencesInput(BaseModel):
    default_model: Optional[str] = Field(alias="defaultModel", default=None)
    theme: Optional[Theme] = None
    tools_enabled: Optional[list[str]] = Field(alias="toolsEnabled", default=None)


class SendMessageInput(BaseModel):
    conversation_id: str = Field(alias="conversationId")
    content: str
    client_message_id: Optional[str] = Field(alias="clientMessageId", default=None)
    "Idempotency key: sending the same id again returns the same rows."
    attachment_ids: Optional[list[str]] = Field(alias="attachmentIds", default=None)
    model: Optional[str] = None
