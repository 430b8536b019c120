"""The Anthropic Messages API behind the `ModelProvider` interface."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator
from typing import Any, Literal, cast

import anthropic
import httpx
import httpx2
from anthropic.types import (
    ContentBlockParam,
    DocumentBlockParam,
    ImageBlockParam,
    MessageParam,
    TextBlockParam,
    ToolParam,
)

from gql_api.errors import (
    PROVIDER_AUTH,
    PROVIDER_BAD_REQUEST,
    PROVIDER_CONNECTION_LOST,
    PROVIDER_ERROR,
    PROVIDER_OVERLOADED,
    PROVIDER_RATE_LIMITED,
    ProviderError,
)
from gql_api.providers.base import (
    Block,
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
    split_prefill,
)

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ImageMediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]

# The SDK surfaces a drop mid-body as the raw transport error of its HTTP library (httpx2); plain
# httpx is listed too so an `http_client` built on it cannot slip through untranslated.
_TRANSPORT_ERRORS = (httpx2.TransportError, httpx.TransportError)


def make_anthropic_client(
    api_key: str,
    base_url: str | None = None,
    timeout: float = 600.0,
    max_retries: int = 2,
    headers: dict[str, str] | None = None,
) -> anthropic.AsyncAnthropic:
    """The SDK retries only the opening request; errors mid-stream reach the provider."""
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        default_headers=headers or None,
    )


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        self._client = client

    async def close(self) -> None:
        await self._client.close()

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        kwargs: dict[str, Any] = {}
        if request.tools:
            kwargs["tools"] = [
                ToolParam(name=t.name, description=t.description, input_schema=t.input_schema)
                for t in request.tools
            ]
        if request.system:
            kwargs["system"] = request.system
        history = request.messages
        prefill, skip_space = split_prefill(request.continue_from)
        if prefill:
            # Assistant prefill: the model writes on from the end of the saved answer.
            history = [*history, ModelMessage(role="assistant", content=[TextBlock(prefill)])]
        tool_json: dict[int, list[str]] = {}
        tool_heads: dict[int, tuple[str, str]] = {}
        input_tokens = output_tokens = cache_read = cache_write = 0
        stop_reason: str | None = None
        stopped = False
        try:
            # `async with` closes the HTTP response on any exit, cancellation included.
            async with self._client.messages.stream(
                model=request.model,
                max_tokens=request.max_tokens,
                messages=to_anthropic_messages(history),
                **kwargs,
            ) as stream:
                async for event in stream:
                    # The SDK also emits derived events ("text", "input_json", ...) that repeat
                    # the raw deltas; only the raw ones are read here so nothing is doubled.
                    if event.type == "message_start":
                        input_tokens = _input_total(event.message.usage)
                        cache_read, cache_write = _cache_counts(event.message.usage)
                        output_tokens = event.message.usage.output_tokens
                    elif event.type == "content_block_start":
                        block = event.content_block
                        if block.type == "tool_use":
                            tool_heads[event.index] = (block.id, block.name)
                            tool_json[event.index] = []
                        elif block.type == "text" and block.text:
                            text, skip_space = _continued(block.text, skip_space)
                            if text:
                                yield TextDelta(text)
                    elif event.type == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta" and delta.text:
                            text, skip_space = _continued(delta.text, skip_space)
                            if text:
                                yield TextDelta(text)
                        elif delta.type == "input_json_delta" and event.index in tool_json:
                            tool_json[event.index].append(delta.partial_json)
                    elif event.type == "content_block_stop" and event.index in tool_heads:
                        tool_id, tool_name = tool_heads.pop(event.index)
                        raw = "".join(tool_json.pop(event.index))
                        yield ToolCall(tool_id, tool_name, _parse_tool_input(raw))
                    elif event.type == "message_delta":
                        stop_reason = event.delta.stop_reason
                        output_tokens = event.usage.output_tokens
                        if event.usage.input_tokens is not None:
                            # message_delta usage holds cumulative totals, not increments.
                            input_tokens = _input_total(event.usage)
                            cache_read, cache_write = _cache_counts(event.usage)
                    elif event.type == "message_stop":
                        stopped = True
        except anthropic.APIError as err:
            raise translate_error(err) from err
        except _TRANSPORT_ERRORS as err:
            raise ProviderError(
                "The connection to the model provider was lost mid-answer.",
                code=PROVIDER_CONNECTION_LOST,
                retryable=True,
            ) from err
        except ValueError as err:
            # The SDK parses tool input JSON as it arrives and raises ValueError when it is broken.
            raise ProviderError(
                "The model returned malformed tool input.", code=PROVIDER_ERROR, retryable=True
            ) from err
        if not stopped:
            # A body that ends cleanly but early (a proxy closing it) is as bad as a reset.
            raise ProviderError(
                "The model provider ended the answer before it was complete.",
                code=PROVIDER_CONNECTION_LOST,
                retryable=True,
            )
        yield Usage(
            input_tokens,
            output_tokens,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
        yield Finished(stop_reason or "end_turn")


def _continued(text: str, skip_space: bool) -> tuple[str, bool]:
    """The prefill lost its trailing whitespace, which the saved text keeps: the model's first
    words bring their own, so it is dropped once instead of doubled."""
    if not skip_space:
        return text, False
    rest = text.lstrip()
    return rest, not rest


def _input_total(usage: Any) -> int:
    """Input tokens including prompt-cache reads and writes, as the API documents the total."""
    return int(
        (usage.input_tokens or 0)
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )


def _cache_counts(usage: Any) -> tuple[int, int]:
    """(read, written) prompt-cache tokens."""
    return (
        int(getattr(usage, "cache_read_input_tokens", None) or 0),
        int(getattr(usage, "cache_creation_input_tokens", None) or 0),
    )


def _parse_tool_input(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise ProviderError(
            "The model returned malformed tool input.", code=PROVIDER_ERROR, retryable=True
        ) from err
    if not isinstance(value, dict):
        raise ProviderError(
            "The model returned tool input that is not an object.", code=PROVIDER_ERROR
        )
    return value


def to_anthropic_messages(messages: list[ModelMessage]) -> list[MessageParam]:
    """History in the API's shape; turns left empty are dropped, as the API rejects them."""
    out: list[MessageParam] = []
    for message in messages:
        blocks = [b for block in message.content if (b := _to_block(block)) is not None]
        if blocks:
            out.append(cast(MessageParam, {"role": message.role, "content": blocks}))
    return out


def _to_block(block: Block) -> ContentBlockParam | None:
    if isinstance(block, TextBlock):
        # The API refuses empty text blocks (an answer that failed before its first token).
        return TextBlockParam(type="text", text=block.text) if block.text else None
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, ToolResultBlock):
        return {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": block.content,
            "is_error": block.is_error,
        }
    return _media_block(block)


def _media_block(block: MediaBlock) -> ContentBlockParam:
    data = base64.b64encode(block.data).decode("ascii")
    if block.media_type in IMAGE_TYPES:
        media_type = cast(ImageMediaType, block.media_type)
        return ImageBlockParam(
            type="image", source={"type": "base64", "media_type": media_type, "data": data}
        )
    if block.media_type == "application/pdf":
        return DocumentBlockParam(
            type="document",
            source={"type": "base64", "media_type": "application/pdf", "data": data},
            title=block.name,
        )
    if block.media_type.startswith("text/"):
        text = block.data.decode("utf-8", errors="replace")
        return TextBlockParam(type="text", text=f'<file name="{block.name}">\n{text}\n</file>')
    # Uploads are filtered by media type; an odd stored one should not fail the whole turn.
    return TextBlockParam(
        type="text", text=f"[Attachment {block.name} ({block.media_type}) cannot be shown.]"
    )


# Error `type` values the API sends in an SSE `error` event, and what they become.
_MIDSTREAM_CODES: dict[str, tuple[str, bool, str]] = {
    "overloaded_error": (PROVIDER_OVERLOADED, True, "The model provider is overloaded."),
    "rate_limit_error": (PROVIDER_RATE_LIMITED, True, "The model provider's rate limit was hit."),
    "invalid_request_error": (PROVIDER_BAD_REQUEST, False, "The provider refused the request."),
    "authentication_error": (PROVIDER_AUTH, False, "The model provider refused the credentials."),
    "permission_error": (PROVIDER_AUTH, False, "The model provider refused access."),
}


def translate_error(err: anthropic.APIError) -> ProviderError:
    """An SDK error as a `ProviderError` whose message is safe to show."""
    if isinstance(err, anthropic.APIConnectionError):  # includes APITimeoutError
        return ProviderError(
            "Could not reach the model provider, or it stopped answering.",
            code=PROVIDER_CONNECTION_LOST,
            retryable=True,
        )
    if not isinstance(err, anthropic.APIStatusError):
        return ProviderError("The model provider sent an unexpected response.", code=PROVIDER_ERROR)
    status = err.status_code
    if status < 400:
        # An SSE `error` event on a 200 stream: only the error type in the event says what broke.
        code, retryable, message = _MIDSTREAM_CODES.get(
            err.type or "",
            (PROVIDER_CONNECTION_LOST, True, "The model provider failed mid-answer."),
        )
        return ProviderError(
            message + (" Try again." if retryable else ""), code=code, retryable=retryable
        )
    if isinstance(err, anthropic.RateLimitError):
        return ProviderError(
            "The model provider's rate limit was hit. Try again shortly.",
            code=PROVIDER_RATE_LIMITED,
            retryable=True,
        )
    if isinstance(err, anthropic.InternalServerError) or status == 529:
        return ProviderError(
            "The model provider is overloaded or failing. Try again shortly.",
            code=PROVIDER_OVERLOADED,
            retryable=True,
        )
    if status in (400, 413, 422):
        detail = _api_message(err)
        return ProviderError(
            "The model provider rejected the request" + (f": {detail}" if detail else "."),
            code=PROVIDER_BAD_REQUEST,
        )
    if status in (401, 403):
        return ProviderError(
            "The model provider refused the configured credentials.", code=PROVIDER_AUTH
        )
    return ProviderError(
        f"The model provider returned an error (HTTP {status}).",
        code=PROVIDER_ERROR,
        retryable=status in (408, 409),
    )


def _api_message(err: anthropic.APIStatusError) -> str:
    """The API's own explanation (never contains the key), kept short."""
    message = (err.api_message or "").strip()
    return message if len(message) <= 300 else message[:297] + "..."
