from pydantic import Field

from .base_model import BaseModel
from .fragments import McpServerFields


class RefreshMcpServer(BaseModel):
    refresh_mcp_server: "RefreshMcpServerRefreshMcpServer" = Field(
        alias="refreshMcpServer"
    )


RefreshMcpServerRefreshMcpServer = McpServerFields
RefreshMcpServer.model_rebuild()
