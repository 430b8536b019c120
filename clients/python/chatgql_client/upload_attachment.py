from pydantic import Field

from .base_model import BaseModel
from .fragments import AttachmentFields


class UploadAttachment(BaseModel):
    upload_attachment: "UploadAttachmentUploadAttachment" = Field(
        alias="uploadAttachment"
    )


UploadAttachmentUploadAttachment = AttachmentFields
UploadAttachment.model_rebuild()
