"""Process logging: one format (JSON lines or text) for chatgql's and uvicorn's loggers.

Structured fields travel in a log record's `fields` (`log.info("...", extra={"fields": {...}})`);
the JSON format writes them as top-level keys, the text format as `key=value` after the message.
What goes into them is chosen by the caller: ids, names, codes and durations, never tokens or
the text of messages.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

import orjson

# The LogRecord attribute that carries a line's structured fields.
FIELDS = "fields"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict) and fields:
            pairs = " ".join(f"{key}={_text(value)}" for key, value in fields.items())
            head, _, rest = text.partition("\n")  # a traceback stays below the line
            text = f"{head} {pairs}" + (f"\n{rest}" if rest else "")
        return text


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


# Loggers of this project; CHATGQL_LOG_LEVEL=debug opens these only. Libraries stay at info
# and above: at debug they dump what passes through them (aiosqlite and asyncpg the statements'
# parameters, the anthropic SDK its request bodies, websockets its frames), message text
# included.
OWN_LOGGERS = ("chatgql", "gql_api", "resolvers", "models")


class _Handler(logging.StreamHandler):
    """The handler `configure` installs (and replaces when called again)."""


def configure(log_format: str, level: str) -> None:
    """The root logger writes to stderr in `log_format`; uvicorn's loggers go through it."""
    handler = _Handler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    own = logging.getLevelNamesMapping()[level.upper()]
    root.setLevel(max(own, logging.INFO))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
