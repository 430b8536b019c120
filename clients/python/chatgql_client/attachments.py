from .base_model import BaseModel
from .fragments import AttachmentFields


class Attachments(BaseModel):
    attachments: list["AttachmentsAttachments"]


AttachmentsAttachments = AttachmentFields
Attachments.model_rebuild()
