"""An offline model for development and tests: no network, same answer for the same question
(and, asked for a title, the first question's first six words).

The answer is seeded by the last user text, refers to it, and streams word by word with
`token_delay` seconds between pieces. Markers in the last user text (removed before it is quoted)
make it misbehave on purpose:

- `[demo:fail]`: after a few deltas, raise `ProviderError` with code `PROVIDER_OVERLOADED`.
- `[demo:long]`: a much longer answer, about 2000 words.
- `[demo:words=N]`: exactly N text deltas (word pieces) in a plain answer (not a tool turn).
- `[demo:drop]`: after a few deltas, raise `PROVIDER_CONNECTION_LOST`, as a dropped connection
  mid-answer does (only in a first attempt: a continuation goes on to the end).

Continuing (`request.continue_from`): the same answer from the offset where that text ends, so
an interrupted answer continued is the answer it would have been.

When tools are offered it uses them like a real model would: an arithmetic expression
("calculate 2+3*4") calls `calculator`, the word "time" calls `current_time`; the turn then ends
with `Finished("tool_use")`. When the last message holds tool results, it answers from them.
Any offered tool (an MCP server's too) is called by a marker:

- `[demo:tool=NAME {"json": "arguments"}]`: call NAME with these arguments (`{}` when left
  out); several markers make several calls in one turn.
- `[demo:again]`: call the marked tools again after their results, round after round, for as
  long as tools are offered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections.abc import AsyncGenerator
from typing import Any

from gql_api.errors import PROVIDER_CONNECTION_LOST, PROVIDER_OVERLOADED, ProviderError
from gql_api.providers.base import (
    Finished,
    MediaBlock,
    ModelMessage,
    ModelRequest,
    ProviderEvent,
    TextBlock,
    TextDelta,
    ToolCall,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
    last_user_text,
)

FAIL_AFTER_DELTAS = 3
_MARKER = re.compile(r"\[demo:(fail|drop|long|again|words=(\d+))\]", re.IGNORECASE)
_TOOL_MARKER = re.compile(r"\[demo:tool=([A-Za-z0-9_-]+)(?:\s+(\{.*?\}))?\]", re.DOTALL)
_ARITHMETIC = re.compile(r"[-+(]*\d[\d.\s()*/%+-]*")
_HAS_OPERATOR = re.compile(r"\d\s*\)*\s*(\*\*|[-+*/%])\s*[-+(]*\s*\d")
_TIME = re.compile(r"\btime\b", re.IGNORECASE)

_OPENINGS = [
    'You asked about "{topic}". Here is how I would think about it.',
    'Good question: "{topic}". Let me walk through it step by step.',
    'Thanks for asking about "{topic}". There are a few angles worth separating.',
    'On "{topic}": the short answer depends on what you need, so here is the longer one.',
]
_SENTENCES = [
    "The first thing to settle is what a good outcome looks like for you.",
    "Most of the difficulty comes from the details rather than the big picture.",
    "A small, concrete example usually makes the trade-offs obvious.",
    "It helps to write down the constraints before choosing an approach.",
    "Start with the simplest version that works, then measure before adding more.",
    "There is rarely one right answer, but some answers are clearly easier to maintain.",
    "If something feels complicated, it is often two separate problems in disguise.",
    "Keep the feedback loop short so that mistakes stay cheap.",
    "The boring option is often the right one, because it fails in well-known ways.",
    "Whatever you pick, leave a note explaining why, for whoever comes next.",
]
_POINTS = [
    "**Scope**: decide what is in and what is out.",
    "**Risks**: name the one thing most likely to go wrong.",
    "**Evidence**: check the assumption that everything else rests on.",
    "**Timing**: some steps are cheap now and expensive later.",
    "**People**: someone else has probably solved half of this already.",
    "**Exit**: know how you would undo the decision.",
]
_CLOSINGS = [
    "I hope that helps; tell me more about your situation and I can be more specific.",
    "If you share a bit more context, I can turn this into a concrete plan.",
    "That is the gist of it. Ask away if any part needs more detail.",
]


class DemoProvider:
    name = "demo"

    def __init__(self, token_delay: float = 0.0) -> None:
        self._token_delay = token_delay

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        if request.purpose == "title":
            title = demo_title(request.messages)
            yield TextDelta(title)
            yield Usage(_count_input(request), len(title.split()))
            yield Finished("end_turn")
            return
        raw = last_user_text(request.messages)
        text = " ".join(_TOOL_MARKER.sub(" ", _MARKER.sub(" ", raw)).split())
        markers = {m.group(1).lower() for m in _MARKER.finditer(raw)}
        words = next((int(m.group(2)) for m in _MARKER.finditer(raw) if m.group(2)), None)
        rng = random.Random(hashlib.sha256(raw.encode()).digest())

        has_results = _holds_tool_results(request.messages)
        marked = _marked_calls(request, raw) if not has_results or "again" in markers else []
        call = None if has_results or marked else _pick_tool(request, text)
        calls = marked or ([call] if call is not None else [])
        if calls:
            named = ", ".join(f"`{c.name}`" for c in calls)
            answer = f"Let me use {named} for that."
        elif has_results:
            answer = _answer_from_results(request.messages, rng)
        else:
            target = 2000 if "long" in markers else rng.randint(45, 120)
            # Every word is one piece, so composing at least N words and cutting gives N pieces.
            answer = _compose(text, rng, target if words is None else words)
        pieces = _pieces(answer)
        if words is not None and not calls and not has_results:
            pieces = pieces[:words]
        if request.continue_from:
            pieces = _pieces("".join(pieces)[len(request.continue_from) :])
        fails = "fail" in markers or ("drop" in markers and not request.continue_from)
        fail_at = min(FAIL_AFTER_DELTAS, len(pieces)) if fails else -1
        error = _overloaded if "fail" in markers else _dropped

        for count, piece in enumerate(pieces):
            if count == fail_at:
                raise error()
            await asyncio.sleep(self._token_delay)
            yield TextDelta(piece)
        if fail_at == len(pieces):
            raise error()
        for tool_call in calls:
            yield tool_call
        yield Usage(_count_input(request), len(pieces))
        yield Finished("tool_use" if calls else "end_turn")


def demo_title(messages: list[ModelMessage]) -> str:
    """The first question's first six words, capitalized: the same title for the same question."""
    first = next((m for m in messages if m.role == "user"), None)
    texts = [b.text for b in first.content if isinstance(b, TextBlock)] if first else []
    words = " ".join(_MARKER.sub(" ", " ".join(texts)).split()).split(" ")[:6]
    title = " ".join(words).strip(" .,:;!?\"'")
    return (title[:1].upper() + title[1:]) if title else "Conversation"


def _overloaded() -> ProviderError:
    return ProviderError(
        "The demo model is overloaded (asked for by [demo:fail]). Try again.",
        code=PROVIDER_OVERLOADED,
        retryable=True,
    )


def _dropped() -> ProviderError:
    return ProviderError(
        "The connection to the demo model dropped (asked for by [demo:drop]).",
        code=PROVIDER_CONNECTION_LOST,
        retryable=True,
    )


def _holds_tool_results(messages: list[ModelMessage]) -> bool:
    return bool(messages) and any(isinstance(b, ToolResultBlock) for b in messages[-1].content)


def _pick_tool(request: ModelRequest, text: str) -> ToolCall | None:
    offered = {tool.name for tool in request.tools}
    name: str | None = None
    tool_input: dict[str, Any] = {}
    expression = _find_expression(text)
    if "calculator" in offered and expression is not None:
        name, tool_input = "calculator", {"expression": expression}
    elif "current_time" in offered and _TIME.search(text):
        name = "current_time"
    if name is None:
        return None
    # Unique within a conversation and stable for a given request.
    digest = hashlib.sha256(f"{len(request.messages)}:{name}:{text}".encode()).hexdigest()
    return ToolCall(f"toolu_demo_{digest[:20]}", name, tool_input)


def _marked_calls(request: ModelRequest, raw: str) -> list[ToolCall]:
    offered = {tool.name for tool in request.tools}
    calls = []
    for index, match in enumerate(_TOOL_MARKER.finditer(raw)):
        name, arguments = match.group(1), match.group(2)
        if name not in offered:
            continue
        try:
            tool_input = json.loads(arguments) if arguments else {}
        except json.JSONDecodeError:
            tool_input = {"unparsed": arguments}
        if not isinstance(tool_input, dict):
            tool_input = {"value": tool_input}
        digest = hashlib.sha256(f"{len(request.messages)}:{index}:{name}:{raw}".encode())
        calls.append(ToolCall(f"toolu_demo_{digest.hexdigest()[:20]}", name, tool_input))
    return calls


def _find_expression(text: str) -> str | None:
    for match in _ARITHMETIC.finditer(text):
        candidate = match.group().strip().rstrip(".")
        if _HAS_OPERATOR.search(candidate) and candidate.count("(") == candidate.count(")"):
            return candidate
    return None


def _answer_from_results(messages: list[ModelMessage], rng: random.Random) -> str:
    calls = {
        b.id: b
        for m in messages
        if m.role == "assistant"
        for b in m.content
        if isinstance(b, ToolUseBlock)
    }
    lines = []
    for block in messages[-1].content:
        if not isinstance(block, ToolResultBlock):
            continue
        call = calls.get(block.tool_use_id)
        name = call.name if call else "tool"
        if block.is_error:
            lines.append(f"The `{name}` tool could not help: {block.content}")
        elif name == "calculator" and call is not None:
            expression = call.input.get("expression", "that")
            lines.append(f"The calculator says `{expression}` = **{block.content}**.")
        elif name == "current_time":
            lines.append(f"It is currently **{block.content}** (UTC).")
        else:
            lines.append(f"The `{name}` tool returned: {block.content}")
    lines.append(rng.choice(_CLOSINGS))
    return "\n\n".join(lines)


def _compose(topic_text: str, rng: random.Random, target_words: int) -> str:
    """An opening that quotes the user, paragraphs until `target_words`, a closing line."""
    words = topic_text.split()
    topic = " ".join(words[:12]).rstrip("?!.,;:") + ("..." if len(words) > 12 else "")
    topic = topic or "your message"
    deck: list[str] = []

    def sentences(n: int) -> str:
        # Drawn without replacement, so a sentence repeats only after all others were used.
        picked = []
        for _ in range(n):
            if not deck:
                deck.extend(rng.sample(_SENTENCES, len(_SENTENCES)))
            picked.append(deck.pop())
        return " ".join(picked)

    parts = [rng.choice(_OPENINGS).format(topic=topic) + " " + sentences(2)]
    written = len(parts[0].split())
    while written < target_words:
        if rng.random() < 0.3:
            part = "\n".join(f"- {point}" for point in rng.sample(_POINTS, 3))
        else:
            part = sentences(rng.randint(2, 3))
        parts.append(part)
        written += len(part.split())
    parts.append(rng.choice(_CLOSINGS))
    return "\n\n".join(parts)


def _pieces(text: str) -> list[str]:
    """Word pieces that join back into `text`: each word with the whitespace before it."""
    return re.findall(r"\s*\S+", text)


def _count_input(request: ModelRequest) -> int:
    """Roughly one token per word, plus a flat cost per attachment."""
    total = len(request.system.split())
    for message in request.messages:
        for block in message.content:
            if isinstance(block, TextBlock):
                total += len(block.text.split())
            elif isinstance(block, ToolResultBlock):
                total += len(block.content.split())
            elif isinstance(block, ToolUseBlock):
                total += 10
            elif isinstance(block, MediaBlock):
                total += 500
    return total
