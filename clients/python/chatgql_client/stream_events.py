from typing import Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import StreamStatus
from .fragments import ToolCallFields


class StreamEvents(BaseModel):
    stream_events: Union[
        "StreamEventsStreamEventsStreamSnapshot",
        "StreamEventsStreamEventsStreamDelta",
        "StreamEventsStreamEventsStreamToolCall",
        "StreamEventsStreamEventsStreamEnd",
    ] = Field(alias="streamEvents", discriminator="typename__")


class StreamEventsStreamEventsStreamSnapshot(BaseModel):
    typename__: Literal["StreamSnapshot"] = Field(alias="__typename")
    stream_id: str = Field(alias="streamId")
    message_id: str = Field(alias="messageId")
    status: StreamStatus
    seq: int
    offset: int
    text: str
    length: int
    tool_calls: list["StreamEventsStreamEventsStreamSnapshotToolCalls"] = Field(
        alias="toolCalls"
    )


StreamEventsStreamEventsStreamSnapshotToolCalls = ToolCallFields


class StreamEventsStreamEventsStreamDelta(BaseModel):
    typename__: Literal["StreamDelta"] = Field(alias="__typename")
    seq: int
    offset: int
    text: str


class StreamEventsStreamEventsStreamToolCall(BaseModel):
    typename__: Literal["StreamToolCall"] = Field(alias="__typename")
    seq: int
    offset: int
    tool_call: "StreamEventsStreamEventsStreamToolCallToolCall" = Field(
        alias="toolCall"
    )


StreamEventsStreamEventsStreamToolCallToolCall = ToolCallFields


class StreamEventsStreamEventsStreamEnd(BaseModel):
    typename__: Literal["StreamEnd"] = Field(alias="__typename")
    status: StreamStatus
    seq: int
    length: int
    usage: "StreamEventsStreamEventsStreamEndUsage"
    error_code: Optional[str] = Field(alias="errorCode")
    error_message: Optional[str] = Field(alias="errorMessage")


class StreamEventsStreamEventsStreamEndUsage(BaseModel):
    input_tokens: int = Field(alias="inputTokens")
    output_tokens: int = Field(alias="outputTokens")


StreamEvents.model_rebuild()
StreamEventsStreamEventsStreamSnapshot.model_rebuild()
StreamEventsStreamEventsStreamToolCall.model_rebuild()
StreamEventsStreamEventsStreamEnd.model_rebuild()
