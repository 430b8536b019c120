from pydantic import Field

from .base_model import BaseModel


class AttachmentStorage(BaseModel):
    attachment_storage: "AttachmentStorageAttachmentStorage" = Field(
        alias="attachmentStorage"
    )


class AttachmentStorageAttachmentStorage(BaseModel):
    used_bytes: int = Field(alias="usedBytes")
    quota_bytes: int = Field(alias="quotaBytes")
    max_upload_bytes: int = Field(alias="maxUploadBytes")
    allowed_media_types: list[str] = Field(alias="allowedMediaTypes")


AttachmentStorage.model_rebuild()
