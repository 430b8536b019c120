"""Model providers: one neutral interface, an Anthropic implementation and an offline demo."""

from gql_api.providers.base import (
    Block,
    Finished,
    MediaBlock,
    ModelMessage,
    ModelProvider,
    ModelRequest,
    ProviderEvent,
    TextBlock,
    TextDelta,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
    last_user_text,
)

__all__ = [
    "Block",
    "Finished",
    "MediaBlock",
    "ModelMessage",
    "ModelProvider",
    "ModelRequest",
    "ProviderEvent",
    "TextBlock",
    "TextDelta",
    "ToolCall",
    "ToolResultBlock",
    "ToolSpec",
    "ToolUseBlock",
    "Usage",
    "last_user_text",
]
