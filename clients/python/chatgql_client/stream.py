from .base_model import BaseModel
from .fragments import StreamFields


class Stream(BaseModel):
    stream: "StreamStream"


StreamStream = StreamFields
Stream.model_rebuild()
