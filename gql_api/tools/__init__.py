"""Tools the model may call: built-ins and MCP servers, offered through one registry."""

from gql_api.tools.registry import OfferedTool, ToolRegistry, Toolset
from gql_api.tools.results import ToolOutcome

__all__ = ["OfferedTool", "ToolOutcome", "ToolRegistry", "Toolset"]
