"""The message tree: alternatives as siblings, the current path, choosing a branch, forking."""

from __future__ import annotations

from typing import Any

import pytest

from gql_api.providers.base import TextBlock
from gql_api.streams.history import load_context
from tests.streaming import new_conversation, send, wait_finished
from tests.support import ApiServer, GraphQLErrors
from tests.test_live_sync import subscribed

PATH = """query($c: ID!, $l: ID) { messages(conversationId: $c, leafId: $l, first: 100) {
  edges { node { id role content parentId siblings { index count ids } } } } }"""
RETRY = """mutation($m: ID!) { retryMessage(id: $m) {
  userMessage { id } assistantMessage { id parentId } stream { id } } }"""
EDIT = """mutation($m: ID!, $t: String!) { editAndResend(input: {messageId: $m, content: $t}) {
  userMessage { id parentId content } assistantMessage { id parentId } stream { id } } }"""
SELECT = """mutation($m: ID!) { selectBranch(messageId: $m) {
  leafId conversation { id currentLeafId } } }"""
FORK = "mutation($m: ID!) { forkConversation(messageId: $m) { id title currentLeafId } }"


async def path(api: ApiServer, conversation: str, leaf: str | None = None) -> list[dict[str, Any]]:
    data = await api.gql(PATH, {"c": conversation, "l": leaf})
    return [edge["node"] for edge in data["messages"]["edges"]]


async def turn(api: ApiServer, conversation: str, text: str) -> dict[str, Any]:
    sent = await send(api, conversation, f"{text} [demo:words=4]")
    assert (await wait_finished(api, sent["stream"]["id"]))["status"] == "COMPLETED"
    return sent


async def two_turns(api: ApiServer) -> tuple[str, list[str]]:
    """A conversation with prompt 1, answer 1, prompt 2, answer 2; their ids in order."""
    conversation = await new_conversation(api)
    first = await turn(api, conversation, "first question")
    second = await turn(api, conversation, "second question")
    ids = [
        first["userMessage"]["id"],
        first["assistantMessage"]["id"],
        second["userMessage"]["id"],
        second["assistantMessage"]["id"],
    ]
    return conversation, ids


async def test_retry_adds_a_sibling_and_selecting_the_old_one_keeps_its_later_turns(
    api: ApiServer,
) -> None:
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    assert [m["id"] for m in await path(api, conversation)] == [p1, a1, p2, a2]
    assert [m["parentId"] for m in await path(api, conversation)] == [None, p1, a1, p2]

    retried = (await api.gql(RETRY, {"m": a1}))["retryMessage"]
    new = retried["assistantMessage"]["id"]
    assert retried["assistantMessage"]["parentId"] == p1
    await wait_finished(api, retried["stream"]["id"])
    current = await path(api, conversation)
    assert [m["id"] for m in current] == [p1, new]
    assert current[1]["siblings"] == {"index": 1, "count": 2, "ids": [a1, new]}
    # Any path on request; the old branch still holds its later turns.
    assert [m["id"] for m in await path(api, conversation, a2)] == [p1, a1, p2, a2]

    chosen = (await api.gql(SELECT, {"m": a1}))["selectBranch"]
    assert chosen["leafId"] == a2  # the deepest turn below the chosen answer
    assert chosen["conversation"]["currentLeafId"] == a2
    assert [m["id"] for m in await path(api, conversation)] == [p1, a1, p2, a2]
    # A new message follows the current path.
    third = await turn(api, conversation, "third")
    assert [m["id"] for m in await path(api, conversation)][-2:] == [
        third["userMessage"]["id"],
        third["assistantMessage"]["id"],
    ]
    assert (await path(api, conversation))[-2]["parentId"] == a2


async def test_edit_and_resend_answers_a_sibling_prompt(api: ApiServer) -> None:
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    edited = (await api.gql(EDIT, {"m": p2, "t": "second, better [demo:words=3]"}))["editAndResend"]
    new_prompt = edited["userMessage"]["id"]
    assert edited["userMessage"]["parentId"] == a1
    assert edited["assistantMessage"]["parentId"] == new_prompt
    await wait_finished(api, edited["stream"]["id"])
    current = await path(api, conversation)
    assert [m["id"] for m in current] == [p1, a1, new_prompt, edited["assistantMessage"]["id"]]
    assert current[2]["siblings"] == {"index": 1, "count": 2, "ids": [p2, new_prompt]}
    # The first prompt has siblings too (roots of the tree).
    root = (await api.gql(EDIT, {"m": p1, "t": "start over [demo:words=2]"}))["editAndResend"]
    await wait_finished(api, root["stream"]["id"])
    current = await path(api, conversation)
    assert current[0]["parentId"] is None
    assert current[0]["siblings"]["ids"] == [p1, root["userMessage"]["id"]]


async def test_the_model_sees_only_the_answers_own_branch(api: ApiServer) -> None:
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    edited = (await api.gql(EDIT, {"m": p2, "t": "the edited question [demo:words=3]"}))[
        "editAndResend"
    ]
    await wait_finished(api, edited["stream"]["id"])
    s = api.services
    ctx = await load_context(s.db, s.store, s.settings, edited["stream"]["id"])
    assert ctx is not None
    said = [
        (turn.role, " ".join(b.text for b in turn.content if isinstance(b, TextBlock)))
        for turn in ctx.history
    ]
    assert [role for role, _ in said] == ["user", "assistant", "user"]
    assert said[0][1].startswith("first question")
    assert said[2][1] == "the edited question [demo:words=3]"
    assert all("second question" not in text for _, text in said)


async def test_fork_copies_the_path_up_to_a_message(api: ApiServer) -> None:
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    fork = (await api.gql(FORK, {"m": a1}))["forkConversation"]
    assert fork["id"] != conversation
    copied = await path(api, fork["id"])
    assert [m["role"] for m in copied] == ["USER", "ASSISTANT"]
    original = await path(api, conversation)
    assert [m["content"] for m in copied] == [m["content"] for m in original[:2]]
    assert {m["id"] for m in copied}.isdisjoint({p1, a1, p2, a2})
    assert copied[1]["parentId"] == copied[0]["id"] == copied[0]["id"]
    assert fork["currentLeafId"] == copied[1]["id"]
    # The source is untouched.
    assert [m["id"] for m in await path(api, conversation)] == [p1, a1, p2, a2]


async def test_branch_selection_reaches_every_tab(api: ApiServer) -> None:
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    retried = (await api.gql(RETRY, {"m": a1}))["retryMessage"]
    await wait_finished(api, retried["stream"]["id"])
    events = """subscription($c: ID!) { conversationEvents(conversationId: $c) {
      __typename ... on BranchSelected { conversationId leafId } } }"""
    activity = """subscription { activity {
      __typename ... on BranchSelected { conversationId leafId } } }"""
    async with (
        subscribed(api, events, {"c": conversation}) as tab,
        subscribed(api, activity) as feed,
    ):
        await api.gql(SELECT, {"m": a1})
        expected = {"__typename": "BranchSelected", "conversationId": conversation, "leafId": a2}
        for listener in (tab, feed):
            # The retried answer's last update may still arrive first.
            index = 0
            while (event := await listener.next(index))["__typename"] != "BranchSelected":
                index += 1
            assert event == expected


async def test_bad_branch_input_is_refused_and_stores_nothing(api: ApiServer) -> None:
    conversation, (p1, a1, p2, a2) = await two_turns(api)
    other = await new_conversation(api)
    before = await path(api, conversation)
    cases = [
        (RETRY, {"m": p1}, "BAD_USER_INPUT"),  # a prompt is not an answer
        (EDIT, {"m": a1, "t": "x"}, "BAD_USER_INPUT"),  # an answer is not a user message
        (EDIT, {"m": p1, "t": "   "}, "BAD_USER_INPUT"),
        (SELECT, {"m": "0" * 32}, "NOT_FOUND"),
        (SELECT, {"m": "not an id"}, "BAD_USER_INPUT"),
        (FORK, {"m": "0" * 32}, "NOT_FOUND"),
        (PATH, {"c": other, "l": a2}, "NOT_FOUND"),  # a leaf of another conversation
    ]
    for query, variables, code in cases:
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(query, variables)
        assert caught.value.code == code, (query, variables, caught.value.errors)
    # Another user's message: the same NOT_FOUND as a missing one.
    for query, variables in ((SELECT, {"m": a1}), (FORK, {"m": a1}), (RETRY, {"m": a1})):
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(query, variables, user="bob")
        assert caught.value.code == "NOT_FOUND"
    assert await path(api, conversation) == before
    assert await path(api, other) == []
