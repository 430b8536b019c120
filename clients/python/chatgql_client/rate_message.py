from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Rating


class RateMessage(BaseModel):
    rate_message: "RateMessageRateMessage" = Field(alias="rateMessage")


class RateMessageRateMessage(BaseModel):
    id: str
    feedback: Optional["RateMessageRateMessageFeedback"]


class RateMessageRateMessageFeedback(BaseModel):
    rating: Rating
    comment: Optional[str]
    rated_at: datetime = Field(alias="ratedAt")


RateMessage.model_rebuild()
RateMessageRateMessage.model_rebuild()
