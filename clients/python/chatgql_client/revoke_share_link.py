from pydantic import Field

from .base_model import BaseModel
from .fragments import ShareLinkFields


class RevokeShareLink(BaseModel):
    revoke_share_link: "RevokeShareLinkRevokeShareLink" = Field(alias="revokeShareLink")


RevokeShareLinkRevokeShareLink = ShareLinkFields
RevokeShareLink.model_rebuild()
