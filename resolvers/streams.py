"""Answers: send, watch (subscription with resume), stop, retry, active streams, usage."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from graphql.execution import Executor

from gql_api.context import Context, Info
from gql_api.domain import alternatives, continuation, streams
from gql_api.domain.validation import require_id
from gql_api.errors import InvalidInput
from gql_api.streams.snapshots import Snapshot
from gql_api.streams.watch import tool_key, watch
from resolvers import first_events
from resolvers.delivery import continued, delta_sink
from resolvers.types import (
    Message,
    Stream,
    StreamStatus,
    TokenUsage,
    ToolCallPart,
    part_from_json,
)


@strawberry.type
class StreamSnapshot:
    """First event of a subscription: the text after the client's offset, and the state."""

    stream_id: strawberry.ID
    message_id: strawberry.ID
    status: StreamStatus
    seq: int
    offset: int
    text: str
    length: int
    tool_calls: list[ToolCallPart]


@strawberry.type
class StreamDelta:
    seq: int
    offset: int = strawberry.field(description="Code points before this text in the answer.")
    text: str


@strawberry.type
class StreamToolCall:
    seq: int
    offset: int
    tool_call: ToolCallPart


@strawberry.type
class StreamEnd:
    """Last event: the final status, with usage or the error."""

    status: StreamStatus
    seq: int
    length: int = strawberry.field(
        description="Length of the saved answer in code points. It is the truth: after an "
        "INTERRUPTED end (the generating process died) a client may hold live text past it that "
        "was never saved, and should cut its copy back to `length`."
    )
    usage: TokenUsage
    error_code: str | None
    error_message: str | None


StreamEvent = Annotated[
    StreamSnapshot | StreamDelta | StreamToolCall | StreamEnd, strawberry.union("StreamEvent")
]


@dataclass(frozen=True)
class SentSnapshot:
    """What an early snapshot gave the client: text up to `position`, and these tool calls."""

    position: int
    tools: frozenset[tuple[str, str]]


@first_events.register("streamEvents", StreamDelta)
def early_snapshot(context: Context, arguments: dict[str, Any]) -> tuple[object, Any] | None:
    """streamEvents' first event, before its operation runs, for a stream this process
    generates (the snapshot comes from memory). The resolver's checks, in the same order."""
    user = context.user
    stream_id, offset = arguments.get("streamId"), arguments.get("offset", 0)
    if user is None or stream_id is None or arguments.get("messageId") is not None:
        return None
    if not isinstance(offset, int) or offset < 0:
        return None
    snap = context.services.engine.live_snapshot(str(stream_id), offset, owner_id=user.id)
    if snap is None:
        return None
    sent = SentSnapshot(max(offset, snap.length), frozenset(tool_key(p) for p in snap.parts))
    return to_event(snap), sent


def per_event_executor(base: type[Executor]) -> type[Executor]:
    """`base`, fixed so that a subscription's memory does not grow with its events.

    graphql-core 3.3 memoizes collected subfields in a dict keyed by the identity of each
    event's field lists, and every per-event executor of a subscription shares that dict; the
    lists are collected afresh for every event, so it never hits and keeps ~1.3 KB per event
    (each delta of each subscriber) until the subscription ends. Each event gets its own memo.
    """

    class PerEventExecutor(base):  # type: ignore[valid-type,misc]
        def build_per_event_executor(self, payload: Any) -> Executor:
            executor = super().build_per_event_executor(payload)
            executor._relevant_sub_fields = {}
            return executor

    return PerEventExecutor


def _tool(part: dict[str, Any]) -> ToolCallPart:
    made = part_from_json(part)
    assert isinstance(made, ToolCallPart)
    return made


def to_event(
    event: Snapshot | dict[str, Any],
) -> StreamSnapshot | StreamDelta | StreamToolCall | StreamEnd:
    if isinstance(event, Snapshot):
        return StreamSnapshot(
            stream_id=strawberry.ID(event.stream_id),
            message_id=strawberry.ID(event.message_id),
            status=StreamStatus(event.status),
            seq=event.seq,
            offset=event.offset,
            text=event.text,
            length=event.length,
            tool_calls=[_tool(p) for p in event.parts],
        )
    kind = event["type"]
    if kind == "delta":
        return StreamDelta(seq=event["seq"], offset=event["offset"], text=event["text"])
    if kind == "tool":
        return StreamToolCall(
            seq=event["seq"], offset=event["offset"], tool_call=_tool(event["part"])
        )
    return StreamEnd(
        status=StreamStatus(event["status"]),
        seq=event["seq"],
        length=event["length"],
        usage=TokenUsage(input_tokens=event["input_tokens"], output_tokens=event["output_tokens"]),
        error_code=event.get("error_code"),
        error_message=event.get("error_message"),
    )


@strawberry.input
class SendMessageInput:
    conversation_id: strawberry.ID
    content: str
    client_message_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key: sending the same id again returns the same rows.",
    )
    attachment_ids: list[strawberry.ID] | None = None
    model: str | None = None


@strawberry.type
class SendMessagePayload:
    user_message: Message
    assistant_message: Message
    stream: Stream


def _payload(sent: streams.Sent) -> SendMessagePayload:
    return SendMessagePayload(
        user_message=Message.from_model(sent.user_message),
        assistant_message=Message.from_model(sent.assistant_message),
        stream=Stream.from_model(sent.stream),
    )


@strawberry.type
class UsageDay:
    day: dt.date
    model: str
    input_tokens: int
    output_tokens: int
    requests: int


@strawberry.type
class Query:
    @strawberry.field
    async def stream(self, info: Info, id: strawberry.ID) -> Stream:
        user = await info.context.require_user()
        row = await streams.owned_stream(db=info.context.services.db, user=user, stream_id=id)
        return Stream.from_model(row)

    @strawberry.field(description="Answers being generated now, for recovery after a reload.")
    async def active_streams(self, info: Info) -> list[Stream]:
        user = await info.context.require_user()
        rows = await streams.active_streams(db=info.context.services.db, user=user)
        return [Stream.from_model(r) for r in rows]

    @strawberry.field(description="Token usage per day and model, `from` and `to` included.")
    async def usage(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
    ) -> list[UsageDay]:
        user = await info.context.require_user()
        rows = await streams.usage(db=info.context.services.db, user=user, start=from_, end=to)
        return [
            UsageDay(
                day=r.day,
                model=r.model,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
                requests=r.requests,
            )
            for r in rows
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Store the message and start the answer in the background; returns at once."
    )
    async def send_message(self, info: Info, input: SendMessageInput) -> SendMessagePayload:
        user = await info.context.require_user()
        sent = await streams.send_message(
            svc=info.context.services,
            user=user,
            conversation_id=input.conversation_id,
            content=input.content,
            client_message_id=input.client_message_id,
            attachment_ids=[str(a) for a in input.attachment_ids or []],
            model=input.model,
        )
        return _payload(sent)

    @strawberry.mutation(description="Stop an answer; its partial text is kept. Idempotent.")
    async def stop_stream(self, info: Info, id: strawberry.ID) -> Stream:
        user = await info.context.require_user()
        row = await streams.stop_stream(svc=info.context.services, user=user, stream_id=id)
        return Stream.from_model(row)

    @strawberry.mutation(
        description="Continue an interrupted or stopped answer from its saved text, on the "
        "same stream (its watchers see more deltas). CONFLICT when it is being generated or "
        "ended otherwise (completed, failed); UNAVAILABLE (with retryAfter) while this server "
        "drains."
    )
    async def continue_message(self, info: Info, id: strawberry.ID) -> Stream:
        user = await info.context.require_user()
        row = await continuation.continue_message(
            svc=info.context.services, user=user, message_id=id
        )
        return Stream.from_model(row)

    @strawberry.mutation(
        description="Generate an answer again from its prompt, as a new sibling answer that "
        "becomes the current branch; the earlier one keeps its text and following turns."
    )
    async def retry_message(
        self, info: Info, id: strawberry.ID, model: str | None = None
    ) -> SendMessagePayload:
        user = await info.context.require_user()
        sent = await alternatives.retry_message(
            svc=info.context.services, user=user, message_id=id, model=model
        )
        return _payload(sent)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="An answer as it is written: a snapshot from `offset` (code points the "
        "client already has), live deltas, then one end event. Pass `streamId` or `messageId`."
    )
    async def stream_events(
        self,
        info: Info,
        stream_id: strawberry.ID | None = None,
        message_id: strawberry.ID | None = None,
        offset: int = 0,
    ) -> AsyncGenerator[StreamEvent, None]:
        user = await info.context.require_user()
        svc = info.context.services
        if offset < 0:
            raise InvalidInput("offset must not be negative", field="offset")
        if (stream_id is None) == (message_id is None):
            raise InvalidInput("pass exactly one of streamId and messageId", field="streamId")
        if stream_id is not None:
            # one query fewer before the first event: the snapshot read checks the owner
            target, owner = require_id(str(stream_id), "streamId"), user.id
        else:
            row = await streams.latest_stream_of_message(
                db=svc.db, user=user, message_id=str(message_id)
            )
            target, owner = row.id, None
        # On a websocket, live deltas go out from the broker's fan-out loop (resolvers.delivery).
        resumed = continued()
        sent_tools = None
        if resumed is None:
            sink = delta_sink(StreamDelta)
        else:  # the snapshot went out before this operation ran: go on from its end
            sent, sink = resumed
            offset, sent_tools = sent.position, sent.tools
        answer = watch(
            svc.db,
            svc.broker,
            target,
            offset,
            owner_id=owner,
            sink=sink,
            live=svc.engine,
            sent_tools=sent_tools,
        )
        async for event in answer:
            if sink is not None:
                if isinstance(event, Snapshot) and sink.send_event(to_event(event)):
                    # Not kept (here or in watch) while the subscriber waits for what follows.
                    del event
                    continue
                await sink.drain()  # what the sink has taken on goes out first
            yield to_event(event)
