from datetime import datetime
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import MessageStatus, Role, StreamStatus, ToolCallState


class AttachmentFields(BaseModel):
    id: str
    name: str
    media_type: str = Field(alias="mediaType")
    size: int
    sha_256: str = Field(alias="sha256")
    created_at: datetime = Field(alias="createdAt")
    conversation_id: Optional[str] = Field(alias="conversationId")
    message_id: Optional[str] = Field(alias="messageId")
    download_url: str = Field(alias="downloadUrl")


class StreamFields(BaseModel):
    id: str
    message_id: str = Field(alias="messageId")
    conversation_id: str = Field(alias="conversationId")
    status: StreamStatus
    model: Optional[str]
    last_seq: int = Field(alias="lastSeq")
    length: int
    error_code: Optional[str] = Field(alias="errorCode")
    error_message: Optional[str] = Field(alias="errorMessage")
    created_at: datetime = Field(alias="createdAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")


class ConversationFields(BaseModel):
    id: str
    title: str
    model: Optional[str]
    system_prompt: Optional[str] = Field(alias="systemPrompt")
    pinned: bool
    archived: bool
    draft: Optional[str]
    project_id: Optional[str] = Field(alias="projectId")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    current_leaf_id: Optional[str] = Field(alias="currentLeafId")
    active_stream: Optional["ConversationFieldsActiveStream"] = Field(
        alias="activeStream"
    )


class ConversationFieldsActiveStream(StreamFields):
    pass


class McpServerFields(BaseModel):
    name: str
    transport: str
    status: str
    last_error: Optional[str] = Field(alias="lastError")
    tools: list["McpServerFieldsTools"]


class McpServerFieldsTools(BaseModel):
    name: str
    description: str
    input_schema: Any = Field(alias="inputSchema")
    approval: str


class ToolCallFields(BaseModel):
    id: str
    name: str
    input: Any
    state: ToolCallState
    server: Optional[str]
    tool: str
    result: Optional[str]
    is_error: bool = Field(alias="isError")
    structured_content: Optional[Any] = Field(alias="structuredContent")
    images: list["ToolCallFieldsImages"]
    truncated: bool
    started_at: Optional[datetime] = Field(alias="startedAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")


class ToolCallFieldsImages(BaseModel):
    media_type: str = Field(alias="mediaType")
    data: str


class MessageFields(BaseModel):
    id: str
    conversation_id: str = Field(alias="conversationId")
    role: Role
    content: str
    status: MessageStatus
    model: Optional[str]
    usage: "MessageFieldsUsage"
    client_message_id: Optional[str] = Field(alias="clientMessageId")
    reply_to_id: Optional[str] = Field(alias="replyToId")
    parent_id: Optional[str] = Field(alias="parentId")
    siblings: "MessageFieldsSiblings"
    error_code: Optional[str] = Field(alias="errorCode")
    error_message: Optional[str] = Field(alias="errorMessage")
    created_at: datetime = Field(alias="createdAt")
    edited_at: Optional[datetime] = Field(alias="editedAt")
    parts: list[
        Annotated[
            Union["MessageFieldsPartsTextPart", "MessageFieldsPartsToolCallPart"],
            Field(discriminator="typename__"),
        ]
    ]
    attachments: list["MessageFieldsAttachments"]


class MessageFieldsUsage(BaseModel):
    input_tokens: int = Field(alias="inputTokens")
    output_tokens: int = Field(alias="outputTokens")


class MessageFieldsSiblings(BaseModel):
    index: int
    count: int
    ids: list[str]


class MessageFieldsPartsTextPart(BaseModel):
    typename__: Literal["TextPart"] = Field(alias="__typename")
    text: str


class MessageFieldsPartsToolCallPart(ToolCallFields):
    typename__: Literal["ToolCallPart"] = Field(alias="__typename")


class MessageFieldsAttachments(AttachmentFields):
    pass


class ProjectFields(BaseModel):
    id: str
    name: str
    conversation_count: int = Field(alias="conversationCount")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class ProviderKeyFields(BaseModel):
    id: str
    provider: str
    last_four: str = Field(alias="lastFour")
    base_url: Optional[str] = Field(alias="baseUrl")
    created_at: datetime = Field(alias="createdAt")
    last_used_at: Optional[datetime] = Field(alias="lastUsedAt")
    last_error: Optional[str] = Field(alias="lastError")
    last_error_at: Optional[datetime] = Field(alias="lastErrorAt")


class ShareLinkFields(BaseModel):
    id: str
    conversation_id: str = Field(alias="conversationId")
    up_to_message_id: str = Field(alias="upToMessageId")
    title: str
    created_at: datetime = Field(alias="createdAt")
    expires_at: Optional[datetime] = Field(alias="expiresAt")
    revoked_at: Optional[datetime] = Field(alias="revokedAt")
    active: bool


class UsageTotalsFields(BaseModel):
    input_tokens: int = Field(alias="inputTokens")
    output_tokens: int = Field(alias="outputTokens")
    cache_read_tokens: int = Field(alias="cacheReadTokens")
    cache_write_tokens: int = Field(alias="cacheWriteTokens")
    reasoning_tokens: int = Field(alias="reasoningTokens")
    cost_micros: float = Field(alias="costMicros")
    requests: int
    estimated_requests: int = Field(alias="estimatedRequests")


AttachmentFields.model_rebuild()
StreamFields.model_rebuild()
ConversationFields.model_rebuild()
McpServerFields.model_rebuild()
ToolCallFields.model_rebuild()
MessageFields.model_rebuild()
ProjectFields.model_rebuild()
ProviderKeyFields.model_rebuild()
ShareLinkFields.model_rebuild()
UsageTotalsFields.model_rebuild()
