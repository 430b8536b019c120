from datetime import date

from pydantic import Field

from .base_model import BaseModel


class Usage(BaseModel):
    usage: list["UsageUsage"]


class UsageUsage(BaseModel):
    day: date
    model: str
    input_tokens: int = Field(alias="inputTokens")
    output_tokens: int = Field(alias="outputTokens")
    requests: int


Usage.model_rebuild()
