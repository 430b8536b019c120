"""Checks on user input shared by the domain functions."""

from __future__ import annotations

import re

from gql_api.errors import InvalidInput, PayloadTooLarge
from models.base import is_valid_id

_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$")
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def require_id(value: str, what: str = "id") -> str:
    if not isinstance(value, str) or not is_valid_id(value):
        raise InvalidInput(f"{what} is not a valid id", field=what)
    return value


def optional_id(value: str | None, what: str) -> str | None:
    return None if value is None else require_id(value, what)


def refuse_nul(value: str, what: str) -> str:
    """Refuses what no database can store as text: NUL (PostgreSQL) and lone surrogates
    (not UTF-8 at all; JSON and GraphQL escapes such as "\\ud800" can produce them)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} must not contain NUL characters", field=what)
    if _SURROGATE_RE.search(value):
        raise InvalidInput(f"{what} must not contain lone surrogates", field=what)
    return value


def clean_title(value: str, *, max_chars: int, what: str = "title") -> str:
    title = " ".join(refuse_nul(value, what).split())
    if not title:
        raise InvalidInput(f"{what} must not be empty", field=what)
    if len(title) > max_chars:
        raise InvalidInput(f"{what} is longer than {max_chars} characters", field=what)
    return title


def clean_text(value: str, *, max_chars: int, what: str = "content") -> str:
    refuse_nul(value, what)
    if not value.strip():
        raise InvalidInput(f"{what} must not be empty", field=what)
    if len(value) > max_chars:
        raise PayloadTooLarge(f"{what} is longer than {max_chars} characters", field=what)
    return value


def clean_model(value: str | None, field: str = "model") -> str | None:
    if value is None:
        return None
    if not _MODEL_RE.match(value):
        raise InvalidInput(f"{field} is not a valid model name", field=field)
    return value


def clean_client_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not _CLIENT_ID_RE.match(value):
        raise InvalidInput(
            "clientMessageId must be 1-100 characters of letters, digits and ._:-",
            field="clientMessageId",
        )
    return value


def page_size(value: int, *, maximum: int) -> int:
    if value < 1 or value > maximum:
        raise InvalidInput(f"page size must be between 1 and {maximum}", field="first")
    return value
