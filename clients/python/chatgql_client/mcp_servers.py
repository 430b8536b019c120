from pydantic import Field

from .base_model import BaseModel
from .fragments import McpServerFields


class McpServers(BaseModel):
    mcp_servers: list["McpServersMcpServers"] = Field(alias="mcpServers")


McpServersMcpServers = McpServerFields
McpServers.model_rebuild()
