from pydantic import Field

from .base_model import BaseModel
from .fragments import ShareLinkFields


class ShareLinks(BaseModel):
    share_links: list["ShareLinksShareLinks"] = Field(alias="shareLinks")


ShareLinksShareLinks = ShareLinkFields
ShareLinks.model_rebuild()
