"""What a tool returned, as stored in the message's part and as sent back to the model."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from mcp import types

TRUNCATED_NOTE = "\n[The result was cut at {limit} characters.]"


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    content: str  # the text the model reads
    is_error: bool = False
    structured: dict[str, Any] | None = None
    images: list[dict[str, str]] = field(default_factory=list)  # {media_type, data: base64}
    truncated: bool = False

    def part_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"result": self.content, "is_error": self.is_error}
        if self.structured is not None:
            fields["structured"] = self.structured
        if self.images:
            fields["images"] = self.images
        if self.truncated:
            fields["truncated"] = True
        return fields


def from_mcp(result: types.CallToolResult, *, max_chars: int) -> ToolOutcome:
    """Text, structured content and images of a call result, all of it within `max_chars`.

    Text comes first; images are kept while they fit in what is left (their base64 counts), and
    an image that does not fit is named in the text instead. Structured content counts as JSON.
    """
    texts: list[str] = []
    images: list[dict[str, str]] = []
    pending_images: list[types.ImageContent] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            texts.append(block.text)
        elif isinstance(block, types.ImageContent):
            pending_images.append(block)
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, types.TextResourceContents):
                texts.append(resource.text)
            else:
                texts.append(f"[resource {resource.uri} ({resource.mimeType or 'binary'})]")
        elif isinstance(block, types.ResourceLink):
            texts.append(f"[resource link {block.uri}]")
        else:
            texts.append(f"[{block.type} content]")
    structured = result.structuredContent
    if not texts and structured is not None:
        texts.append(json.dumps(structured, ensure_ascii=False))
    text, truncated = _cut("\n".join(texts), max_chars)
    budget = max_chars - len(text)
    if structured is not None:
        size = len(json.dumps(structured, ensure_ascii=False))
        if size > budget:
            structured, truncated = None, True
        else:
            budget -= size
    for image in pending_images:
        if _valid_base64(image.data) and len(image.data) <= budget:
            images.append({"media_type": image.mimeType, "data": image.data})
            budget -= len(image.data)
            text += f"\n[image {image.mimeType}, shown to the user]"
        else:
            truncated = True
            text += f"\n[image {image.mimeType} left out: over the result size limit]"
    return ToolOutcome(
        content=text.lstrip("\n"),
        is_error=result.isError,
        structured=structured,
        images=images,
        truncated=truncated,
    )


def _cut(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) <= max_chars:
        return text, False
    note = TRUNCATED_NOTE.format(limit=max_chars)
    return text[: max(0, max_chars - len(note))] + note, True


def _valid_base64(data: str) -> bool:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
