from pydantic import Field

from .base_model import BaseModel


class DecideToolCall(BaseModel):
    decide_tool_call: "DecideToolCallDecideToolCall" = Field(alias="decideToolCall")


class DecideToolCallDecideToolCall(BaseModel):
    stream_id: str = Field(alias="streamId")
    tool_call_id: str = Field(alias="toolCallId")
    approved: bool
    remembered: bool


DecideToolCall.model_rebuild()
