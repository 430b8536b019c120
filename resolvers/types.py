"""GraphQL object types, each built from an ORM row with `from_model`."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from gql_api.context import Info
from models.attachments import Attachment as AttachmentRow
from models.conversations import Conversation as ConversationRow
from models.messages import Message as MessageRow
from models.projects import Project as ProjectRow
from models.streams import Stream as StreamRow
from models.users import User as UserRow


@strawberry.enum
class Theme(Enum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@strawberry.enum
class Role(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@strawberry.enum(description="Who chose a conversation's title.")
class TitleSource(Enum):
    DEFAULT = "default"
    USER = "user"
    GENERATED = "generated"


@strawberry.enum(description="Feedback on an answer.")
class Rating(Enum):
    UP = "up"
    DOWN = "down"


@strawberry.type(description="The owner's feedback on an answer.")
class Feedback:
    rating: Rating
    comment: str | None
    rated_at: dt.datetime


@strawberry.enum
class MessageStatus(Enum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@strawberry.enum
class StreamStatus(Enum):
    PENDING = "pending"
    STREAMING = "streaming"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@strawberry.type
class Preferences:
    default_model: str | None
    theme: Theme
    tools_enabled: list[str]


@strawberry.type
class User:
    id: strawberry.ID
    email: str | None
    name: str | None
    created_at: dt.datetime
    preferences: Preferences

    @classmethod
    def from_model(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(row.id),
            email=row.email,
            name=row.name,
            created_at=row.created_at,
            preferences=Preferences(
                default_model=row.default_model,
                theme=Theme(row.theme),
                tools_enabled=list(row.tools_enabled),
            ),
        )


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    conversation_count: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_model(cls, row: ProjectRow) -> Project:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            conversation_count=row.conversation_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class TextPart:
    text: str


@strawberry.enum
class ToolCallState(Enum):
    RUNNING = "running"
    PENDING_APPROVAL = "pending_approval"
    DONE = "done"
    DENIED = "denied"
    CANCELLED = "cancelled"


@strawberry.type
class ToolImage:
    media_type: str
    data: str = strawberry.field(description="The image bytes, base64.")


@strawberry.type
class ToolCallPart:
    id: str
    name: str = strawberry.field(description="The tool's name as the model called it.")
    input: JSON
    state: ToolCallState
    server: str | None = strawberry.field(description="The MCP server; null for a built-in.")
    tool: str = strawberry.field(description="The tool's own name (on its server).")
    result: str | None = strawberry.field(description="Text of the result, as the model read it.")
    is_error: bool
    structured_content: JSON | None
    images: list[ToolImage]
    truncated: bool = strawberry.field(description="The result was cut at the size limit.")
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


MessagePart = Annotated[TextPart | ToolCallPart, strawberry.union("MessagePart")]


def part_from_json(part: dict[str, Any]) -> TextPart | ToolCallPart:
    if part.get("type") == "tool_call":
        started, finished = part.get("started_at"), part.get("finished_at")
        state = part.get("state") or ("done" if "result" in part else "running")
        return ToolCallPart(
            id=part.get("id", ""),
            name=part.get("name", ""),
            input=part.get("input", {}),
            state=ToolCallState(state),
            server=part.get("server"),
            tool=part.get("tool") or part.get("name", ""),
            result=part.get("result"),
            is_error=bool(part.get("is_error", False)),
            structured_content=part.get("structured"),
            images=[
                ToolImage(media_type=i.get("media_type", ""), data=i.get("data", ""))
                for i in part.get("images") or []
            ],
            truncated=bool(part.get("truncated", False)),
            started_at=dt.datetime.fromisoformat(started) if started else None,
            finished_at=dt.datetime.fromisoformat(finished) if finished else None,
        )
    return TextPart(text=part.get("text", ""))


def interleave(content: str, tool_parts: list[dict[str, Any]]) -> list[TextPart | ToolCallPart]:
    """Split the text at each tool call's offset: tool calls are stored with where they occurred."""
    out: list[TextPart | ToolCallPart] = []
    position = 0
    for part in sorted(tool_parts, key=lambda p: int(p.get("offset", 0))):
        cut = min(max(int(part.get("offset", 0)), position), len(content))
        if cut > position:
            out.append(TextPart(text=content[position:cut]))
            position = cut
        out.append(part_from_json(part))
    if position < len(content) or not out:
        out.append(TextPart(text=content[position:]))
    return out


@strawberry.type
class TokenUsage:
    input_tokens: int
    output_tokens: int


@strawberry.type
class Attachment:
    id: strawberry.ID
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: dt.datetime
    conversation_id: strawberry.ID | None
    message_id: strawberry.ID | None
    owner_id: strawberry.Private[str]
    storage_key: strawberry.Private[str]

    @strawberry.field(
        description="A link that downloads the file without a token until it expires "
        "(signedUrlTtlSeconds, default 15 minutes). Fetch a fresh one when needed."
    )
    def download_url(self, info: Info) -> str:
        s = info.context.services
        return s.store.download_url(
            self.storage_key,
            attachment_id=self.id,
            user_id=self.owner_id,
            filename=self.name,
            media_type=self.media_type,
            ttl_seconds=s.settings.signed_url_ttl_seconds,
        )

    @classmethod
    def from_model(cls, row: AttachmentRow) -> Attachment:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            media_type=row.media_type,
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
            conversation_id=strawberry.ID(row.conversation_id) if row.conversation_id else None,
            message_id=strawberry.ID(row.message_id) if row.message_id else None,
            owner_id=row.owner_id,
            storage_key=row.storage_key,
        )


@strawberry.type(
    description="The alternatives at a message's place in the tree (an edited "
    "prompt, a regenerated answer), oldest first, this message included."
)
class Siblings:
    index: int = strawberry.field(description="This message's position in `ids`, from 0.")
    count: int
    ids: list[strawberry.ID]


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    role: Role
    content: str
    status: MessageStatus
    model: str | None
    usage: TokenUsage
    client_message_id: str | None
    reply_to_id: strawberry.ID | None
    parent_id: strawberry.ID | None = strawberry.field(
        description="The message this one follows in the tree; null for a first turn."
    )
    error_code: str | None
    error_message: str | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    feedback: Feedback | None = strawberry.field(
        description="The owner's rating of this answer (rateMessage); null when unrated."
    )
    raw_parts: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field(description="Text and tool calls in the order the model produced them.")
    def parts(self) -> list[MessagePart]:
        return interleave(self.content, self.raw_parts)

    @strawberry.field(description="Alternatives to this message; `selectBranch` shows one.")
    async def siblings(self, info: Info) -> Siblings:
        ids = await info.context.loaders.siblings.load(
            (str(self.conversation_id), str(self.parent_id) if self.parent_id else None)
        )
        if self.id not in ids:  # e.g. an event about a message deleted since
            ids = [*ids, self.id]
        return Siblings(
            index=ids.index(self.id), count=len(ids), ids=[strawberry.ID(i) for i in ids]
        )

    @strawberry.field
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await info.context.loaders.message_attachments.load(self.id)
        return [Attachment.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: MessageRow) -> Message:
        return cls(
            id=strawberry.ID(row.id),
            conversation_id=strawberry.ID(row.conversation_id),
            role=Role(row.role),
            content=row.content or "",
            status=MessageStatus(row.status),
            model=row.model,
            usage=TokenUsage(
                input_tokens=row.input_tokens or 0, output_tokens=row.output_tokens or 0
            ),
            client_message_id=row.client_message_id,
            reply_to_id=strawberry.ID(row.reply_to_id) if row.reply_to_id else None,
            parent_id=strawberry.ID(row.parent_id) if row.parent_id else None,
            error_code=row.error_code,
            error_message=row.error_message,
            created_at=row.created_at,
            edited_at=row.edited_at,
            feedback=Feedback(
                rating=Rating(row.rating),
                comment=row.rating_comment,
                rated_at=row.rated_at,
            )
            if row.rating and row.rated_at
            else None,
            raw_parts=list(row.parts or []),
        )


@strawberry.type
class Stream:
    id: strawberry.ID
    message_id: strawberry.ID
    conversation_id: strawberry.ID
    status: StreamStatus
    model: str | None
    last_seq: int
    length: int
    error_code: str | None
    error_message: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: StreamRow) -> Stream:
        return cls(
            id=strawberry.ID(row.id),
            message_id=strawberry.ID(row.message_id),
            conversation_id=strawberry.ID(row.conversation_id),
            status=StreamStatus(row.status),
            model=row.model,
            last_seq=row.last_seq,
            length=row.length,
            error_code=row.error_code,
            error_message=row.error_message,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.type
class Conversation:
    id: strawberry.ID
    title: str
    title_source: TitleSource = strawberry.field(
        description="DEFAULT until a title is generated after the first answer (GENERATED) or "
        "set by renameConversation (USER); a USER title is never replaced automatically."
    )
    model: str | None
    system_prompt: str | None
    pinned: bool
    archived: bool
    draft: str | None
    project_id: strawberry.ID | None
    tools_enabled: list[str] | None = strawberry.field(
        description="The tools its answers may use; null follows your preference."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    last_message_id: strawberry.Private[str | None]

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        if self.project_id is None:
            return None
        row = await info.context.loaders.project.load(self.project_id)
        return Project.from_model(row) if row else None

    @strawberry.field(
        description="The last message of the current path (the branch every tab shows)."
    )
    def current_leaf_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.last_message_id) if self.last_message_id else None

    @strawberry.field
    async def last_message(self, info: Info) -> Message | None:
        if self.last_message_id is None:
            return None
        row = await info.context.loaders.message.load(self.last_message_id)
        return Message.from_model(row) if row else None

    @strawberry.field(description="The answer being generated in this conversation, if any.")
    async def active_stream(self, info: Info) -> Stream | None:
        row = await info.context.loaders.active_stream.load(self.id)
        return Stream.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: ConversationRow) -> Conversation:
        return cls(
            id=strawberry.ID(row.id),
            title=row.title,
            title_source=TitleSource(row.title_source or "user"),
            model=row.model,
            system_prompt=row.system_prompt,
            pinned=bool(row.pinned),
            archived=bool(row.archived),
            draft=row.draft,
            project_id=strawberry.ID(row.project_id) if row.project_id else None,
            tools_enabled=None if row.tools_enabled is None else list(row.tools_enabled),
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_message_id=row.last_message_id,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type
class ConversationEdge:
    cursor: str
    node: Conversation


@strawberry.type
class ConversationConnection:
    edges: list[ConversationEdge]
    page_info: PageInfo


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo


@strawberry.type
class Deleted:
    id: strawberry.ID
