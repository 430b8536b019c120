from pydantic import Field

from .base_model import BaseModel
from .fragments import StreamFields


class StopStream(BaseModel):
    stop_stream: "StopStreamStopStream" = Field(alias="stopStream")


StopStreamStopStream = StreamFields
StopStream.model_rebuild()
