"""The JSON events on a stream's channel, and how queued deltas merge for a slow subscriber."""

from __future__ import annotations

from typing import Any

VERSION = 1


def delta(seq: int, offset: int, text: str) -> dict[str, Any]:
    return {"v": VERSION, "type": "delta", "seq": seq, "offset": offset, "text": text}


def tool(seq: int, offset: int, part: dict[str, Any]) -> dict[str, Any]:
    return {"v": VERSION, "type": "tool", "seq": seq, "offset": offset, "part": part}


def end(
    *,
    status: str,
    seq: int,
    length: int,
    input_tokens: int = 0,
    output_tokens: int = 0,
    error_code: str | None = None,
    error_message: str | None = None,
) -> dict[str, Any]:
    return {
        "v": VERSION,
        "type": "end",
        "status": status,
        "seq": seq,
        "length": length,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "error_code": error_code,
        "error_message": error_message,
    }


def gone() -> dict[str, Any]:
    """The generating process stopped without an end of its own: the stream's rows were deleted
    or taken over (marked interrupted by a sweeper). Subscribers read the database's state."""
    return {"v": VERSION, "type": "gone"}


def merge(queued: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """Two contiguous deltas become one; anything else cannot merge (the broker then RESYNCs)."""
    if queued.get("type") != "delta" or new.get("type") != "delta":
        return None
    if queued["offset"] + len(queued["text"]) != new["offset"]:
        return None
    return delta(new["seq"], queued["offset"], queued["text"] + new["text"])
