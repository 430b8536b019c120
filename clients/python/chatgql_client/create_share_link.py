from pydantic import Field

from .base_model import BaseModel
from .fragments import ShareLinkFields


class CreateShareLink(BaseModel):
    create_share_link: "CreateShareLinkCreateShareLink" = Field(alias="createShareLink")


class CreateShareLinkCreateShareLink(BaseModel):
    token: str
    link: "CreateShareLinkCreateShareLinkLink"


CreateShareLinkCreateShareLinkLink = ShareLinkFields
CreateShareLink.model_rebuild()
CreateShareLinkCreateShareLink.model_rebuild()
