"""Opaque keyset cursors: base64 of a small JSON list of the sort key values."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from gql_api.errors import InvalidInput

T = TypeVar("T")
# Far more than any cursor this module makes (a few sort key values).
MAX_CURSOR_CHARS = 1024


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    cursors: list[str]


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, dt.datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[Any]:
    """Decode and type-check a cursor; anything malformed is BAD_USER_INPUT."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        # orjson: bounded nesting, and strict UTF-8 (no lone surrogates)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError
        out: list[Any] = []
        for value, kind in zip(values, types, strict=True):
            if kind is dt.datetime:
                parsed = dt.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError
                out.append(parsed)
            elif kind is bool:
                if not isinstance(value, bool):
                    raise ValueError
                out.append(value)
            elif not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError
            else:
                out.append(value)
        return out
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid", field="after") from exc
