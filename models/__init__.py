"""SQLAlchemy ORM tables and the queries on them. Importing this registers every table."""

from models.attachments import Attachment
from models.base import Base
from models.conversations import Conversation
from models.feed_events import FeedCursor, FeedEvent
from models.messages import Message
from models.nodes import Node
from models.projects import Project
from models.provider_keys import ProviderKey
from models.sharing import SharedMessage, ShareLink
from models.streams import Stream, StreamChunk
from models.tool_approvals import ToolApproval
from models.usage import UsageDay
from models.usage_hours import UsageHour
from models.users import User

__all__ = [
    "Attachment",
    "Base",
    "Conversation",
    "FeedCursor",
    "FeedEvent",
    "Message",
    "Node",
    "Project",
    "ProviderKey",
    "ShareLink",
    "SharedMessage",
    "Stream",
    "StreamChunk",
    "ToolApproval",
    "UsageDay",
    "UsageHour",
    "User",
]
