"""Token counts guessed from text, for when a provider sends none (an answer stopped mid-way,
an endpoint without a usage chunk): about four characters a token."""

from __future__ import annotations

import math

from gql_api.providers.base import (
    MediaBlock,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)

CHARS_PER_TOKEN = 4
MEDIA_TOKENS = 1000  # a rough figure for an image or document


def estimate(request: ModelRequest, output_chars: int) -> Usage:
    chars = len(request.system)
    media = 0
    for message in request.messages:
        for block in message.content:
            if isinstance(block, TextBlock):
                chars += len(block.text)
            elif isinstance(block, ToolResultBlock):
                chars += len(block.content)
            elif isinstance(block, ToolUseBlock):
                chars += len(block.name) + len(str(block.input))
            elif isinstance(block, MediaBlock):
                media += 1
    return Usage(
        math.ceil(chars / CHARS_PER_TOKEN) + media * MEDIA_TOKENS,
        math.ceil(output_chars / CHARS_PER_TOKEN),
        estimated=True,
    )
