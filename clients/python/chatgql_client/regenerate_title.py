from pydantic import Field

from .base_model import BaseModel
from .enums import TitleSource
from .fragments import (
    ConversationFields,
    ConversationFieldsActiveStream,  # noqa: F401
)


class RegenerateTitle(BaseModel):
    regenerate_title: "RegenerateTitleRegenerateTitle" = Field(alias="regenerateTitle")


class RegenerateTitleRegenerateTitle(ConversationFields):
    title_source: TitleSource = Field(alias="titleSource")


RegenerateTitle.model_rebuild()
