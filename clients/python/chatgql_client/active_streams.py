from pydantic import Field

from .base_model import BaseModel
from .fragments import StreamFields


class ActiveStreams(BaseModel):
    active_streams: list["ActiveStreamsActiveStreams"] = Field(alias="activeStreams")


ActiveStreamsActiveStreams = StreamFields
ActiveStreams.model_rebuild()
