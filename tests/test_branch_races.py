"""Branch operations racing with streaming, on purpose, with randomized timing, repeated."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from sqlalchemy import func, select

from models.messages import Message
from models.streams import ACTIVE, Stream
from tests.streaming import new_conversation, send, stored_answer, wait_finished
from tests.support import ApiServer, GraphQLErrors
from tests.test_branches import EDIT, PATH, RETRY, SELECT, path, two_turns

pytestmark = pytest.mark.slow
ROUNDS = 6


async def outcome(api: ApiServer, query: str, variables: dict[str, Any], delay: float) -> Any:
    """The data, or the error code."""
    await asyncio.sleep(delay)
    try:
        return await api.gql(query, variables)
    except GraphQLErrors as exc:
        return exc.code


async def message_count(api: ApiServer, conversation: str) -> int:
    async with api.services.db.read() as session:
        count = await session.scalar(
            select(func.count()).where(Message.conversation_id == conversation)
        )
    return int(count or 0)


async def active_streams(api: ApiServer, conversation: str) -> int:
    async with api.services.db.read() as session:
        count = await session.scalar(
            select(func.count()).where(
                Stream.conversation_id == conversation, Stream.status.in_(ACTIVE)
            )
        )
    return int(count or 0)


async def test_retry_twice_at_once_one_wins_the_other_is_conflict(api: ApiServer) -> None:
    rng = random.Random(14)
    conversation = await new_conversation(api)
    answers = []
    for text in ("one [demo:words=200]", "two [demo:words=200]"):
        sent = await send(api, conversation, text)  # long enough to outlast the gap
        await wait_finished(api, sent["stream"]["id"])
        answers.append(sent["assistantMessage"]["id"])
    for _ in range(ROUNDS):
        before = await message_count(api, conversation)
        target = rng.choice(answers)
        results = await asyncio.gather(
            outcome(api, RETRY, {"m": target}, rng.uniform(0, 0.01)),
            outcome(api, RETRY, {"m": target}, rng.uniform(0, 0.01)),
        )
        won = [r for r in results if isinstance(r, dict)]
        assert len(won) == 1, results
        assert [r for r in results if not isinstance(r, dict)] == ["CONFLICT"]
        assert await message_count(api, conversation) == before + 1
        await wait_finished(api, won[0]["retryMessage"]["stream"]["id"])


async def test_edit_and_resend_while_an_answer_streams_is_conflict(api: ApiServer) -> None:
    rng = random.Random(7)
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    for _ in range(ROUNDS):
        await api.gql(SELECT, {"m": a2})
        sent = await send(api, conversation, "go on [demo:words=300]")
        before = await message_count(api, conversation)
        leaf = sent["assistantMessage"]["id"]
        # Edit the prompt that streams, or an earlier one, at a random moment of the answer.
        target = rng.choice([sent["userMessage"]["id"], p1, p2])
        got = await outcome(api, EDIT, {"m": target, "t": "changed my mind"}, rng.uniform(0, 0.2))
        finished = await wait_finished(api, sent["stream"]["id"])
        if isinstance(got, dict):
            # Only possible once the answer had finished: one active stream per conversation.
            assert finished["status"] == "COMPLETED"
            await wait_finished(api, got["editAndResend"]["stream"]["id"])
            await api.gql(SELECT, {"m": leaf})
            continue
        assert got == "CONFLICT"
        assert await message_count(api, conversation) == before
        assert (await api.gql(PATH, {"c": conversation, "l": None}))["messages"]["edges"][-1][
            "node"
        ]["id"] == leaf
        assert await active_streams(api, conversation) == 0


async def test_selecting_a_branch_mid_stream_leaves_the_answer_whole(api: ApiServer) -> None:
    rng = random.Random(21)
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    earlier = [a2]
    for _ in range(ROUNDS):
        retried = (await api.gql(RETRY, {"m": a2}))["retryMessage"]
        answer = retried["assistantMessage"]["id"]
        # A second tab goes back to an earlier answer (a leaf) while the new one streams.
        other = rng.choice(earlier)
        earlier.append(answer)
        chosen = await outcome(api, SELECT, {"m": other}, rng.uniform(0, 0.05))
        assert isinstance(chosen, dict), chosen
        final = await wait_finished(api, retried["stream"]["id"])
        assert final["status"] == "COMPLETED"
        stored = await stored_answer(api, answer)
        assert stored["status"] == "COMPLETE" and len(stored["content"]) == final["length"] > 0
        # The selection holds: the stream ending does not move the current path back.
        current = [m["id"] for m in await path(api, conversation)]
        assert current[-1] == chosen["selectBranch"]["leafId"] == other
        assert answer not in current
        # The streamed answer is on its own branch, whole.
        assert [m["id"] for m in await path(api, conversation, answer)][-1] == answer


async def test_one_active_stream_per_conversation_survives_every_branch_mutation(
    api: ApiServer,
) -> None:
    """Send, retry and edit-and-resend all at once: exactly one starts an answer."""
    rng = random.Random(3)
    conversation = await new_conversation(api)
    first = await send(api, conversation, "hello [demo:words=200]")
    await wait_finished(api, first["stream"]["id"])
    prompt, answer = first["userMessage"]["id"], first["assistantMessage"]["id"]
    send_query = """mutation($c: ID!) { sendMessage(input: {conversationId: $c,
        content: "and then? [demo:words=200]"}) { stream { id } } }"""
    for _ in range(ROUNDS):
        results = await asyncio.gather(
            outcome(api, send_query, {"c": conversation}, rng.uniform(0, 0.01)),
            outcome(api, RETRY, {"m": answer}, rng.uniform(0, 0.01)),
            outcome(api, EDIT, {"m": prompt, "t": "hi [demo:words=200]"}, rng.uniform(0, 0.01)),
        )
        won = [r for r in results if isinstance(r, dict)]
        assert len(won) == 1 and results.count("CONFLICT") == 2, results
        stream_id = next(iter(won[0].values()))["stream"]["id"]
        await wait_finished(api, stream_id)
        await api.gql(SELECT, {"m": answer})
