"""Projects: create, rename, delete, moving conversations, and the stored conversation count."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import func, select, update

from models.conversations import Conversation
from models.projects import Project
from tests.factories import create_conversation, create_project, get_conversation
from tests.support import ApiServer, GraphQLErrors

PROJECTS = "{ projects { id name conversationCount createdAt updatedAt } }"
PROJECT = "query($id: ID!) { project(id: $id) { id name conversationCount } }"
RENAME = (
    "mutation($id: ID!, $n: String!) { renameProject(id: $id, name: $n) { id name updatedAt } }"
)
DELETE = "mutation($id: ID!) { deleteProject(id: $id) { id } }"
MOVE = "mutation($id: ID!, $p: ID) { moveConversation(id: $id, projectId: $p) { id projectId } }"
DELETE_CONVERSATION = "mutation($id: ID!) { deleteConversation(id: $id) { id } }"


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def counts(api: ApiServer, user: str = "alice") -> dict[str, int]:
    """conversationCount of every project, by name."""
    data = await api.gql(PROJECTS, user=user)
    return {p["name"]: p["conversationCount"] for p in data["projects"]}


async def actual_counts(api: ApiServer) -> dict[str, int]:
    """What the counts should be: conversations per project, counted in the database."""
    async with api.services.db.read() as session:
        rows = await session.execute(
            select(Project.name, func.count(Conversation.id))
            .outerjoin(Conversation, Conversation.project_id == Project.id)
            .group_by(Project.id, Project.name)
        )
        return {name: count for name, count in rows}


async def move(api: ApiServer, conversation_id: str, project_id: str | None) -> dict[str, Any]:
    data = await api.gql(MOVE, {"id": conversation_id, "p": project_id})
    moved: dict[str, Any] = data["moveConversation"]
    return moved


async def test_create_rename_get_and_list(api: ApiServer) -> None:
    work = await create_project(api, "  Work \n stuff ")
    assert work["name"] == "Work stuff"
    assert work["conversationCount"] == 0
    await create_project(api, "Archive")
    await create_project(api, "Bob's", user="bob")

    listed = (await api.gql(PROJECTS))["projects"]
    assert [p["name"] for p in listed] == ["Archive", "Work stuff"]  # by name, only mine
    fetched = (await api.gql(PROJECT, {"id": work["id"]}))["project"]
    assert fetched == work

    renamed = (await api.gql(RENAME, {"id": work["id"], "n": "Zeta"}))["renameProject"]
    assert renamed["name"] == "Zeta"
    assert when(renamed["updatedAt"]) > when(listed[1]["updatedAt"])
    assert [p["name"] for p in (await api.gql(PROJECTS))["projects"]] == ["Archive", "Zeta"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
async def test_bad_names_are_rejected(api: ApiServer, name: str) -> None:
    with pytest.raises(GraphQLErrors) as caught:
        await create_project(api, name)
    assert caught.value.code == "BAD_USER_INPUT"
    project = await create_project(api, "Kept")
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(RENAME, {"id": project["id"], "n": name})
    assert caught.value.code == "BAD_USER_INPUT"
    assert (await api.gql(PROJECTS))["projects"][0]["name"] == "Kept"


async def test_other_users_projects_are_not_found(api: ApiServer) -> None:
    theirs = await create_project(api, "Bob's", user="bob")
    mine = await create_conversation(api)
    for operation, variables in [
        (PROJECT, {"id": theirs["id"]}),
        (RENAME, {"id": theirs["id"], "n": "Mine now"}),
        (DELETE, {"id": theirs["id"]}),
        (MOVE, {"id": mine["id"], "p": theirs["id"]}),
        (PROJECT, {"id": "0" * 32}),
    ]:
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(operation, variables)
        assert caught.value.code == "NOT_FOUND"
    assert await counts(api, user="bob") == {"Bob's": 0}
    assert (await get_conversation(api, mine["id"]))["projectId"] is None


async def test_delete_keeps_its_conversations_and_moves_them_out(api: ApiServer) -> None:
    doomed = await create_project(api, "Doomed")
    other = await create_project(api, "Other")
    inside = [(await create_conversation(api, projectId=doomed["id"]))["id"] for _ in range(3)]
    elsewhere = (await create_conversation(api, projectId=other["id"]))["id"]
    assert await counts(api) == {"Doomed": 3, "Other": 1}

    deleted = await api.gql(DELETE, {"id": doomed["id"]})
    assert deleted["deleteProject"]["id"] == doomed["id"]

    for conversation_id in inside:
        assert (await get_conversation(api, conversation_id))["projectId"] is None
    assert (await get_conversation(api, elsewhere))["projectId"] == other["id"]
    assert await counts(api) == {"Other": 1}
    for operation in (PROJECT, DELETE):
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(operation, {"id": doomed["id"]})
        assert caught.value.code == "NOT_FOUND"
    data = await api.gql("{ conversations(first: 50) { edges { node { id project { id } } } } }")
    nodes = {e["node"]["id"]: e["node"]["project"] for e in data["conversations"]["edges"]}
    assert nodes == {**dict.fromkeys(inside), elsewhere: {"id": other["id"]}}


async def test_count_follows_create_move_and_delete(api: ApiServer) -> None:
    a = await create_project(api, "A")
    b = await create_project(api, "B")
    first = await create_conversation(api, projectId=a["id"])
    second = await create_conversation(api, projectId=a["id"])
    loose = await create_conversation(api)
    assert await counts(api) == {"A": 2, "B": 0}

    assert (await move(api, first["id"], b["id"]))["projectId"] == b["id"]  # between
    assert await counts(api) == {"A": 1, "B": 1}
    assert (await move(api, first["id"], b["id"]))["projectId"] == b["id"]  # no change
    assert await counts(api) == {"A": 1, "B": 1}
    assert (await move(api, loose["id"], a["id"]))["projectId"] == a["id"]  # in
    assert await counts(api) == {"A": 2, "B": 1}
    assert (await move(api, second["id"], None))["projectId"] is None  # out
    assert await counts(api) == {"A": 1, "B": 1}
    assert (await move(api, second["id"], None))["projectId"] is None  # out again: no change
    assert await counts(api) == {"A": 1, "B": 1}
    assert (await get_conversation(api, loose["id"]))["projectId"] == a["id"]

    await api.gql(DELETE_CONVERSATION, {"id": first["id"]})
    assert await counts(api) == {"A": 1, "B": 0}
    await api.gql(DELETE_CONVERSATION, {"id": second["id"]})  # in no project
    assert await counts(api) == {"A": 1, "B": 0}

    await api.gql(DELETE, {"id": a["id"]})
    assert await counts(api) == {"B": 0}
    assert (await get_conversation(api, loose["id"]))["projectId"] is None
    await move(api, loose["id"], b["id"])
    assert await counts(api) == {"B": 1}
    assert await counts(api) == await actual_counts(api)


async def test_failed_moves_change_nothing(api: ApiServer) -> None:
    a = await create_project(api, "A")
    conversation = await create_conversation(api, projectId=a["id"])
    for variables, code in [
        ({"id": conversation["id"], "p": "0" * 32}, "NOT_FOUND"),
        ({"id": conversation["id"], "p": "bad"}, "BAD_USER_INPUT"),
        ({"id": "0" * 32, "p": a["id"]}, "NOT_FOUND"),
    ]:
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(MOVE, variables)
        assert caught.value.code == code
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(MOVE, {"id": conversation["id"], "p": None}, user="bob")
    assert caught.value.code == "NOT_FOUND"
    assert await counts(api) == {"A": 1}
    assert (await get_conversation(api, conversation["id"]))["projectId"] == a["id"]


async def test_count_is_a_stored_column(api: ApiServer) -> None:
    project = await create_project(api, "Stored")
    for _ in range(2):
        await create_conversation(api, projectId=project["id"])
    async with api.services.db.read() as session:
        stored = await session.scalar(
            select(Project.conversation_count).where(Project.id == project["id"])
        )
    assert stored == 2
    # Reads return the column as stored; they do not count conversations.
    async with api.services.db.write() as session:
        await session.execute(
            update(Project).where(Project.id == project["id"]).values(conversation_count=41)
        )
    assert (await api.gql(PROJECT, {"id": project["id"]}))["project"]["conversationCount"] == 41
    assert await counts(api) == {"Stored": 41}
    data = await api.gql("{ conversations { edges { node { project { conversationCount } } } } }")
    assert {e["node"]["project"]["conversationCount"] for e in data["conversations"]["edges"]} == {
        41
    }


async def test_count_stays_right_under_concurrent_moves_and_deletes(api: ApiServer) -> None:
    names = ["A", "B", "C"]
    projects = [await create_project(api, name) for name in names]
    ids = [
        (await create_conversation(api, projectId=projects[i % 3]["id"]))["id"] for i in range(6)
    ]
    rng = random.Random(11)
    operations = []
    for _ in range(40):
        conversation_id = rng.choice(ids)
        target = rng.choice([*projects, None])
        operations.append(move(api, conversation_id, target["id"] if target else None))
    for conversation_id in ids[:2]:
        operations.append(api.gql(DELETE_CONVERSATION, {"id": conversation_id}))
    results = await asyncio.gather(*operations, return_exceptions=True)
    for result in results:
        # A move racing with the delete of its conversation may find it gone; nothing else fails.
        if isinstance(result, BaseException):
            assert isinstance(result, GraphQLErrors) and result.code == "NOT_FOUND", result
    assert await counts(api) == await actual_counts(api)
    assert sum((await counts(api)).values()) <= 4


async def test_moves_and_creates_racing_a_project_delete(api: ApiServer) -> None:
    """Whatever the interleaving: each move/create lands before the delete (and is moved out
    with the rest) or finds the project gone (NOT_FOUND); nothing fails otherwise."""
    for round_ in range(5):
        doomed = await create_project(api, f"doomed {round_}")
        keep = await create_project(api, f"keep {round_}")
        ids = [(await create_conversation(api, projectId=keep["id"]))["id"] for _ in range(4)]
        rng = random.Random(round_)
        operations: list[Any] = [move(api, i, doomed["id"]) for i in ids]
        operations += [
            api.gql(
                "mutation($p: ID) { createConversation(input: {projectId: $p}) { id } }",
                {"p": doomed["id"]},
            )
            for _ in range(3)
        ]
        operations.insert(rng.randrange(len(operations)), api.gql(DELETE, {"id": doomed["id"]}))
        results = await asyncio.gather(*operations, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                assert isinstance(result, GraphQLErrors) and result.code == "NOT_FOUND", result
        assert doomed["id"] not in await counts(api)
        assert await counts(api) == await actual_counts(api)
