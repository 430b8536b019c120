from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Theme


class UpdatePreferences(BaseModel):
    update_preferences: "UpdatePreferencesUpdatePreferences" = Field(
        alias="updatePreferences"
    )


class UpdatePreferencesUpdatePreferences(BaseModel):
    id: str
    preferences: "UpdatePreferencesUpdatePreferencesPreferences"


class UpdatePreferencesUpdatePreferencesPreferences(BaseModel):
    default_model: Optional[str] = Field(alias="defaultModel")
    theme: Theme
    tools_enabled: list[str] = Field(alias="toolsEnabled")


UpdatePreferences.model_rebuild()
UpdatePreferencesUpdatePreferences.model_rebuild()
