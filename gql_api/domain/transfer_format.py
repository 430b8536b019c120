"""The export document (version 1), as pydantic models: what export writes, what import reads.

docs/export-format.md describes it for people; these models are the definition.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from gql_api.errors import InvalidInput

FORMAT = "chatgql-export"
VERSION = 1
ID_PATTERN = r"^[0-9a-f]{32}$"

Id = Field(pattern=ID_PATTERN)


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ToolCallPart(BaseModel):
    """A tool call of an answer, at `offset` code points into its text."""

    model_config = ConfigDict(extra="allow")

    type: Literal["tool_call"]
    id: str = Field(max_length=200)
    name: str = Field(max_length=200)
    input: dict[str, Any]
    offset: int = Field(ge=0)
    result: Any = None
    is_error: bool = False
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class Usage(_Model):
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class AttachmentInfo(_Model):
    """Metadata only; `url` is a signed link that expires (`urlExpiresAt`)."""

    id: str = Id
    name: str
    media_type: str
    size: int = Field(ge=0)
    sha256: str
    created_at: dt.datetime
    url: str | None = None
    url_expires_at: dt.datetime | None = None


class MessageDoc(_Model):
    id: str = Id
    parent_id: str | None = Field(default=None, pattern=ID_PATTERN)
    reply_to_id: str | None = Field(default=None, pattern=ID_PATTERN)
    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=10_000_000)
    parts: list[ToolCallPart] = []
    status: Literal["complete", "streaming", "cancelled", "failed", "interrupted"]
    model: str | None = Field(default=None, max_length=100)
    usage: Usage = Usage(input_tokens=0, output_tokens=0)
    client_message_id: str | None = Field(default=None, max_length=100)
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = None
    created_at: dt.datetime
    edited_at: dt.datetime | None = None
    attachments: list[AttachmentInfo] = []


class ConversationDoc(_Model):
    id: str = Id
    title: str = Field(min_length=1, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    system_prompt: str | None = None
    pinned: bool = False
    archived: bool = False
    created_at: dt.datetime
    updated_at: dt.datetime
    current_leaf_id: str | None = Field(default=None, pattern=ID_PATTERN)
    messages: list[MessageDoc]


class ExportDocument(_Model):
    format: Literal["chatgql-export"]
    version: Literal[1]
    exported_at: dt.datetime
    conversations: list[ConversationDoc]


def json_path(loc: tuple[int | str, ...]) -> str:
    """`conversations[0].messages[2].role` from pydantic's location tuple."""
    out = ""
    for item in loc:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out


def parse_document(document: Any) -> ExportDocument:
    """The document, or InvalidInput naming the path of the first error."""
    if not isinstance(document, dict):
        raise InvalidInput("the document must be a JSON object", path="")
    try:
        return ExportDocument.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = json_path(tuple(first["loc"]))
        raise InvalidInput(f"{path or 'document'}: {first['msg']}", path=path) from None


def check_tree(doc: ExportDocument) -> None:
    """Each parent a message of the same conversation, given before its children (so no cycle);
    ids unique in the document; the current leaf one of the conversation's messages."""
    seen: set[str] = set()
    for c, conversation in enumerate(doc.conversations):
        if conversation.id in seen:
            raise _bad(f"conversations[{c}].id", "appears twice in the document")
        seen.add(conversation.id)
        here: set[str] = set()
        for m, message in enumerate(conversation.messages):
            at = f"conversations[{c}].messages[{m}]"
            if message.id in seen:
                raise _bad(f"{at}.id", "appears twice in the document")
            for name, ref in (("parentId", message.parent_id), ("replyToId", message.reply_to_id)):
                if ref is not None and ref not in here:
                    raise _bad(
                        f"{at}.{name}",
                        "must name an earlier message of the same conversation "
                        "(parents come before their children; no cycles)",
                    )
            seen.add(message.id)
            here.add(message.id)
        leaf = conversation.current_leaf_id
        if leaf is not None and leaf not in here:
            raise _bad(f"conversations[{c}].currentLeafId", "must name a message of it")


def _bad(path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{path}: {problem}", path=path)
