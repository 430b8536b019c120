"""The state a subscriber starts from: a stream's text after an offset, and its status.

Read from the database (`read_snapshot`), or, for a stream this process is generating, from the
generation itself (`LiveStreams`, implemented by the stream engine): no query, and it includes
text not flushed yet, so the subscriber needs no gap filled before its first live delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Integer, Select, bindparam, func, select

from gql_api.db import Database
from gql_api.streams import events
from models.messages import Message
from models.streams import TERMINAL, Stream


@dataclass
class Snapshot:
    stream_id: str
    message_id: str
    status: str
    seq: int
    offset: int  # where `text` starts (a client's offset: may be past `length`)
    text: str
    length: int  # the answer's length in code points: saved, or generated if live
    parts: list[dict[str, Any]] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    error_code: str | None = None
    error_message: str | None = None
    node_id: str | None = None  # the process generating it

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def end_event(self) -> dict[str, Any]:
        return events.end(
            status=self.status,
            seq=self.seq,
            length=self.length,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            error_code=self.error_code,
            error_message=self.error_message,
        )


def _snapshot_query(*, owned: bool, whole: bool) -> Select[Any]:
    start = bindparam("start", type_=Integer)
    text = Message.content if whole else func.substr(Message.content, start)
    query = (
        select(
            Stream.id,
            Stream.message_id,
            Stream.status,
            Stream.last_seq,
            Stream.error_code,
            Stream.error_message,
            Stream.node_id,
            Stream.length,
            text.label("text"),
            Message.parts,
            Message.input_tokens,
            Message.output_tokens,
        )
        .join(Message, Message.id == Stream.message_id)
        .where(Stream.id == bindparam("stream_id"))
    )
    return query.where(Stream.owner_id == bindparam("owner_id")) if owned else query


# Built once: constructing a statement cost more than executing it for a small snapshot.
SNAPSHOTS = {
    (owned, whole): _snapshot_query(owned=owned, whole=whole)
    for owned in (False, True)
    for whole in (False, True)
}


async def read_snapshot(
    db: Database, stream_id: str, offset: int, *, owner_id: str | None = None
) -> Snapshot | None:
    """The persisted state and the text from `offset` on (in code points, as SQL substr counts).

    With `owner_id`, None also when someone else owns it (no separate ownership query)."""
    # SQLite's substr walks the text code point by code point (1 ms a megabyte, 15 times the
    # cost of reading it whole); PostgreSQL's is cheap, and spares sending what the client has.
    whole = offset == 0 or db.dialect == "sqlite"
    params: dict[str, Any] = {"stream_id": stream_id}
    if not whole:
        params["start"] = offset + 1
    if owner_id is not None:
        params["owner_id"] = owner_id
    row = await db.read_one(SNAPSHOTS[owner_id is not None, whole], params)
    if row is None:
        return None
    # A finished stream's message holds the final text; a running one's holds what was flushed.
    text = row.text or ""
    if whole:
        length = len(text)
        text = text[offset:] if offset else text
    else:
        # Past the end, substr gives nothing: the stream row keeps the saved length (the flusher
        # writes both in one transaction).
        length = offset + len(text) if text else row.length
    return Snapshot(
        stream_id=row.id,
        message_id=row.message_id,
        status=row.status,
        seq=row.last_seq,
        offset=offset,
        text=text,
        length=length,
        parts=list(row.parts or []),
        input_tokens=row.input_tokens or 0,
        output_tokens=row.output_tokens or 0,
        error_code=row.error_code,
        error_message=row.error_message,
        node_id=row.node_id,
    )


class Transcript:
    """A generation's text so far, kept for live snapshots: a piece per delta, joined on read."""

    __slots__ = ("_pieces",)

    def __init__(self) -> None:
        self._pieces: list[str] = []

    def append(self, text: str) -> None:
        self._pieces.append(text)

    def text(self) -> str:
        if len(self._pieces) > 1:
            # kept joined: a read copies the text once, however many deltas it came in
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""


class LiveStreams(Protocol):
    def live_snapshot(
        self, stream_id: str, offset: int, *, owner_id: str | None = None
    ) -> Snapshot | None:
        """The snapshot of a stream this process is generating, or None (read the database)."""
        ...
