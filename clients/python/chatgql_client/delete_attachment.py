from pydantic import Field

from .base_model import BaseModel


class DeleteAttachment(BaseModel):
    delete_attachment: "DeleteAttachmentDeleteAttachment" = Field(
        alias="deleteAttachment"
    )


class DeleteAttachmentDeleteAttachment(BaseModel):
    id: str


DeleteAttachment.model_rebuild()
