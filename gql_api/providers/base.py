"""Provider-neutral types at the model boundary: history in, events out."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    """A tool call the assistant made earlier in the conversation."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    """What a tool returned, sent back in a user turn."""

    tool_use_id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class MediaBlock:
    """An attachment: images and PDFs go to the model as such, text/* as labelled text."""

    media_type: str
    data: bytes
    name: str


Block: TypeAlias = TextBlock | ToolUseBlock | ToolResultBlock | MediaBlock


@dataclass(frozen=True, slots=True)
class ModelMessage:
    role: Literal["user", "assistant"]
    content: list[Block]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelRequest:
    model: str
    system: str
    messages: list[ModelMessage]
    max_tokens: int
    tools: list[ToolSpec] = field(default_factory=list)
    # The answer so far, when an interrupted answer is continued: the provider asks the model to
    # go on from it (assistant prefill where the API has it) and yields only what follows.
    continue_from: str = ""
    user_id: str | None = None  # whose answer: their own provider key is used when they have one
    # "answer": a turn of the conversation; "title": a short title for it (the demo model
    # answers each its own way; real models follow the system prompt)
    purpose: Literal["answer", "title"] = "answer"


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call: its input JSON has been fully received and parsed."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token totals for the whole request; yielded once, just before `Finished`.

    `input_tokens` counts cached ones too; the cache and reasoning figures say how many of the
    input and output tokens were of that sort. `estimated`: the provider sent no figures."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class Finished:
    """Always the last event: "end_turn", "tool_use", "max_tokens", "stop_sequence", ..."""

    stop_reason: str


ProviderEvent: TypeAlias = TextDelta | ToolCall | Usage | Finished


class ModelProvider(Protocol):
    """Streams one model turn.

    `stream` is an async generator: `TextDelta`s and `ToolCall`s in order, then one `Usage`, then
    one `Finished`. Failures raise `gql_api.errors.ProviderError`, possibly after some deltas.
    Cancelling the consuming task, or closing the generator (wrap it in `contextlib.aclosing`),
    closes the underlying request at once. With `request.continue_from`, the deltas continue that
    text and never repeat it.
    """

    name: str

    def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]: ...


def last_user_text(messages: list[ModelMessage]) -> str:
    """Text of the most recent user turn that has any text (tool-result turns have none)."""
    for message in reversed(messages):
        if message.role != "user":
            continue
        texts = [block.text for block in message.content if isinstance(block, TextBlock)]
        if texts:
            return "\n".join(texts)
    return ""


def split_prefill(continue_from: str) -> tuple[str, bool]:
    """An assistant prefill without trailing whitespace (APIs refuse it), and whether the
    model's continuation must lose its leading whitespace (the saved text already has it)."""
    stripped = continue_from.rstrip()
    return stripped, len(stripped) < len(continue_from)
