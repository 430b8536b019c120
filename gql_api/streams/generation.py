"""One answer being generated: its state in this process, new or continued."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gql_api.db import Database
from gql_api.streams.flusher import StreamBuffer
from gql_api.streams.snapshots import Transcript
from models.messages import Message
from models.streams import ACTIVE, Stream

INTERRUPTED = ("INTERRUPTED", "Generation was interrupted before it finished")


class StreamGone(Exception):
    """The stream's rows were deleted or taken over: stop without writing anything."""


class HandedOff(Exception):
    """This process stops (drain past its grace): the text is saved and the stream left active
    for another process to continue."""


@dataclass
class Generation:
    stream_id: str
    buf: StreamBuffer
    conversation_id: str
    user_id: str
    task: asyncio.Task[None] | None = None
    model: str | None = None
    # "cancelled" (stop), "interrupted" (shutdown), "handoff" (drain), "gone" (taken over)
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    # A continued answer: the text it starts from, and the tokens counted before (usage is
    # added for what this generation costs, not again for the earlier part).
    prefill: str = ""
    counted_tokens: tuple[int, int] = (0, 0)
    drops: int = 0  # provider connections lost and continued
    finishing: bool = False  # its terminal state is being written: no more cancelling
    done: asyncio.Event = field(default_factory=asyncio.Event)
    transcript: Transcript = field(default_factory=Transcript)
    requested_at: float | None = None  # monotonic, for the model's time to first token
    first_text_at: float | None = None


async def continued_generation(db: Database, stream_id: str, node_id: str) -> Generation | None:
    """A generation that goes on from a stream's saved text, if `node_id` now generates it."""
    async with db.read() as session:
        stream = await session.get(Stream, stream_id)
        message = await session.get(Message, stream.message_id) if stream else None
    if stream is None or message is None:
        return None
    if stream.node_id != node_id or stream.status not in ACTIVE:
        return None
    text = message.content
    # The flusher writes the message's text and the stream's progress in one transaction.
    buf = StreamBuffer(
        stream_id=stream_id,
        message_id=message.id,
        seq=stream.last_seq,
        length=len(text),
        persisted_seq=stream.last_seq,
        persisted_length=len(text),
        parts=list(message.parts or []),
    )
    gen = Generation(
        stream_id,
        buf=buf,
        conversation_id=stream.conversation_id,
        user_id=stream.owner_id,
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        prefill=text,
        counted_tokens=(message.input_tokens, message.output_tokens),
    )
    gen.transcript.append(text)
    return gen
