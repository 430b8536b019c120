from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Theme


class Me(BaseModel):
    me: "MeMe"


class MeMe(BaseModel):
    id: str
    email: Optional[str]
    name: Optional[str]
    created_at: datetime = Field(alias="createdAt")
    preferences: "MeMePreferences"


class MeMePreferences(BaseModel):
    default_model: Optional[str] = Field(alias="defaultModel")
    theme: Theme
    tools_enabled: list[str] = Field(alias="toolsEnabled")


Me.model_rebuild()
MeMe.model_rebuild()
