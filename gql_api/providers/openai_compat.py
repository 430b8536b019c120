"""Any OpenAI-compatible chat completions endpoint (OpenAI, OpenRouter, Ollama, vLLM, LM Studio)
behind the `ModelProvider` interface, through the official `openai` SDK."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import openai

from gql_api.errors import (
    PROVIDER_AUTH,
    PROVIDER_BAD_REQUEST,
    PROVIDER_CONNECTION_LOST,
    PROVIDER_ERROR,
    PROVIDER_OVERLOADED,
    PROVIDER_RATE_LIMITED,
    ProviderError,
)
from gql_api.providers.anthropic import IMAGE_TYPES
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
)

_TRANSPORT_ERRORS = (httpx2.TransportError, httpx.TransportError)
# finish_reason values, in the neutral names the engine knows.
_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


CONTINUE_INSTRUCTION = (
    "Your previous reply was cut off. Continue it exactly where it stopped, without repeating "
    "any of it and without comment."
)


def make_openai_client(
    api_key: str | None,
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 600.0,
    max_retries: int = 2,
) -> openai.AsyncOpenAI:
    # A keyless local server (Ollama) still gets a placeholder: the SDK refuses to start without.
    return openai.AsyncOpenAI(
        api_key=api_key or "unused",
        base_url=base_url,
        default_headers=headers or None,
        timeout=timeout,
        max_retries=max_retries,
    )


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAICompatibleProvider:
    name = "openai-compatible"

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        include_usage: bool = True,
        drop_params: list[str] | None = None,
        max_tokens_field: str = "max_tokens",
    ) -> None:
        self._client = client
        self._include_usage = include_usage
        self._drop = set(drop_params or [])
        self._max_tokens_field = max_tokens_field

    async def close(self) -> None:
        await self._client.close()

    def params(self, request: ModelRequest) -> dict[str, Any]:
        """The request body, minus the fields the operator said this endpoint refuses."""
        messages = to_openai_messages(request.system, request.messages)
        if request.continue_from:
            # Chat completions have no assistant prefill: the cut answer goes back as the
            # assistant's turn, and an instruction asks for the rest of it only.
            messages += [
                {"role": "assistant", "content": request.continue_from},
                {"role": "user", "content": CONTINUE_INSTRUCTION},
            ]
        params: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "stream": True,
            self._max_tokens_field: request.max_tokens,
        }
        if self._include_usage:
            params["stream_options"] = {"include_usage": True}
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in request.tools
            ]
        return {k: v for k, v in params.items() if k not in self._drop or k in ("model", "stream")}

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        calls: dict[int, _PendingCall] = {}
        usage: Usage | None = None
        finish: str | None = None
        try:
            stream = await self._client.chat.completions.create(**self.params(request))
            # `async with` closes the HTTP response on any exit, cancellation included.
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage = _usage(chunk.usage)
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta is not None and delta.content:
                            yield TextDelta(delta.content)
                        for piece in (delta.tool_calls if delta is not None else None) or []:
                            call = calls.setdefault(piece.index, _PendingCall())
                            call.id = piece.id or call.id
                            if piece.function is not None:
                                call.name = piece.function.name or call.name
                                if piece.function.arguments:
                                    call.arguments.append(piece.function.arguments)
                        if choice.finish_reason:
                            finish = choice.finish_reason
        except openai.APIError as err:
            raise translate_error(err) from err
        except _TRANSPORT_ERRORS as err:
            raise ProviderError(
                "The connection to the model provider was lost mid-answer.",
                code=PROVIDER_CONNECTION_LOST,
                retryable=True,
            ) from err
        if finish is None:
            # A body that ends cleanly but without a finish reason was cut short (a proxy).
            raise ProviderError(
                "The model provider ended the answer before it was complete.",
                code=PROVIDER_CONNECTION_LOST,
                retryable=True,
            )
        for index in sorted(calls):
            call = calls[index]
            if not call.name:
                raise ProviderError("The model returned a tool call without a name.")
            yield ToolCall(call.id or f"call_{index}", call.name, _parse_arguments(call.arguments))
        stop = _STOP_REASONS.get(finish, finish)
        if calls and stop == "end_turn":
            stop = "tool_use"  # some servers say "stop" after tool calls
        # An endpoint that sends no usage chunk leaves the figures to an estimate.
        yield usage or Usage(0, 0, estimated=True)
        yield Finished(stop)


def _usage(raw: Any) -> Usage:
    prompt = getattr(raw, "prompt_tokens_details", None)
    completion = getattr(raw, "completion_tokens_details", None)
    return Usage(
        raw.prompt_tokens or 0,
        raw.completion_tokens or 0,
        cache_read_tokens=(getattr(prompt, "cached_tokens", None) or 0) if prompt else 0,
        reasoning_tokens=(getattr(completion, "reasoning_tokens", None) or 0) if completion else 0,
    )


def _parse_arguments(parts: list[str]) -> dict[str, Any]:
    raw = "".join(parts)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise ProviderError(
            "The model returned malformed tool input.", code=PROVIDER_ERROR, retryable=True
        ) from err
    if not isinstance(value, dict):
        raise ProviderError("The model returned tool input that is not an object.")
    return value


def to_openai_messages(system: str, messages: list[ModelMessage]) -> list[dict[str, Any]]:
    """History in chat-completions shape: tool results become `tool` messages of their own."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "assistant":
            text = "".join(b.text for b in message.content if isinstance(b, TextBlock))
            uses = [b for b in message.content if isinstance(b, ToolUseBlock)]
            if not text and not uses:
                continue  # an answer that failed before its first token
            turn: dict[str, Any] = {"role": "assistant", "content": text or None}
            if uses:
                turn["tool_calls"] = [
                    {
                        "id": u.id,
                        "type": "function",
                        "function": {"name": u.name, "arguments": json.dumps(u.input)},
                    }
                    for u in uses
                ]
            out.append(turn)
            continue
        parts: list[dict[str, Any]] = []
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                content = ("Error: " if block.is_error else "") + block.content
                out.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": content})
            elif isinstance(block, TextBlock):
                if block.text:
                    parts.append({"type": "text", "text": block.text})
            elif isinstance(block, MediaBlock):
                parts.append(_media_part(block))
        if parts:
            out.append({"role": "user", "content": parts})
    return out


def _media_part(block: MediaBlock) -> dict[str, Any]:
    data = base64.b64encode(block.data).decode("ascii")
    if block.media_type in IMAGE_TYPES:
        url = f"data:{block.media_type};base64,{data}"
        return {"type": "image_url", "image_url": {"url": url}}
    if block.media_type == "application/pdf":
        file_data = f"data:application/pdf;base64,{data}"
        return {"type": "file", "file": {"filename": block.name, "file_data": file_data}}
    if block.media_type.startswith("text/") or block.media_type == "application/json":
        text = block.data.decode("utf-8", errors="replace")
        return {"type": "text", "text": f'<file name="{block.name}">\n{text}\n</file>'}
    return {
        "type": "text",
        "text": f"[Attachment {block.name} ({block.media_type}) cannot be shown.]",
    }


def translate_error(err: openai.APIError) -> ProviderError:
    """An SDK error as a `ProviderError` whose message is safe to show (never the key)."""
    if isinstance(err, openai.APIConnectionError):  # includes APITimeoutError
        return ProviderError(
            "Could not reach the model provider, or it stopped answering.",
            code=PROVIDER_CONNECTION_LOST,
            retryable=True,
        )
    if not isinstance(err, openai.APIStatusError):
        # An `error` object in the stream of a 200 response: the answer failed mid-way.
        return ProviderError(
            "The model provider failed mid-answer. Try again.",
            code=PROVIDER_CONNECTION_LOST,
            retryable=True,
        )
    status = err.status_code
    if status in (401, 403):
        # Said plainly but without the provider's text: OpenAI echoes part of the key there.
        return ProviderError("The model provider refused the credentials.", code=PROVIDER_AUTH)
    if status == 429:
        return ProviderError(
            "The model provider's rate limit was hit. Try again shortly.",
            code=PROVIDER_RATE_LIMITED,
            retryable=True,
        )
    if status >= 500:
        return ProviderError(
            "The model provider is overloaded or failing. Try again shortly.",
            code=PROVIDER_OVERLOADED,
            retryable=True,
        )
    if status in (400, 404, 413, 422):
        return ProviderError(
            f"The model provider rejected the request (HTTP {status}).", code=PROVIDER_BAD_REQUEST
        )
    return ProviderError(
        f"The model provider returned an error (HTTP {status}).",
        code=PROVIDER_ERROR,
        retryable=status in (408, 409),
    )
