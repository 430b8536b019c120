from enum import Enum


class AuthorRole(str, Enum):
    USER = "USER"
    SYSTEM = "SYSTEM"


class Change(str, Enum):
    CREATED = "CREATED"
    RENAMED = "RENAMED"
    PINNED = "PINNED"
    ARCHIVED = "ARCHIVED"
    MOVED = "MOVED"
    DRAFT_SAVED = "DRAFT_SAVED"
    TOOLS_CHOSEN = "TOOLS_CHOSEN"
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    STARTED = "STARTED"
    FINISHED = "FINISHED"


class MessageStatus(str, Enum):
    COMPLETE = "COMPLETE"
    STREAMING = "STREAMING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"


class Rating(str, Enum):
    UP = "UP"
    DOWN = "DOWN"


class Role(str, Enum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"
    SYSTEM = "SYSTEM"


class StreamStatus(str, Enum):
    PENDING = "PENDING"
    STREAMING = "STREAMING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"


class Theme(str, Enum):
    SYSTEM = "SYSTEM"
    LIGHT = "LIGHT"
    DARK = "DARK"


class TitleSource(str, Enum):
    DEFAULT = "DEFAULT"
    USER = "USER"
    GENERATED = "GENERATED"


class ToolCallState(str, Enum):
    RUNNING = "RUNNING"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    DONE = "DONE"
    DENIED = "DENIED"
    CANCELLED = "CANCELLED"


class UsageGranularity(str, Enum):
    DAY = "DAY"
    HOUR = "HOUR"
