from .base_model import BaseModel
from .fragments import AttachmentFields


class Attachment(BaseModel):
    attachment: "AttachmentAttachment"


AttachmentAttachment = AttachmentFields
Attachment.model_rebuild()
