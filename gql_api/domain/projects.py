"""Projects (folders). Deleting one keeps its conversations and moves them out of any project."""

from __future__ import annotations

from sqlalchemy import select, update

from gql_api import feeds
from gql_api.db import Database
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import clean_title, require_id
from gql_api.errors import NotFound
from gql_api.feeds import Publisher
from models.base import utcnow
from models.conversations import Conversation
from models.projects import Project, owned_project

MAX_NAME = 200


async def create_project(
    *, db: Database, broker: Publisher, user: CurrentUser, name: str
) -> Project:
    project = Project(owner_id=user.id, name=clean_title(name, max_chars=MAX_NAME, what="name"))
    async with db.write() as session:
        session.add(project)
    await feeds.user_event(
        db, broker, user.id, "project.created", project=feeds.row_to_json(project)
    )
    return project


async def rename_project(
    *, db: Database, broker: Publisher, user: CurrentUser, project_id: str, name: str
) -> Project:
    require_id(project_id, "projectId")
    clean = clean_title(name, max_chars=MAX_NAME, what="name")
    async with db.write() as session:
        project = await owned_project(session, user.id, project_id)
        if project is None:
            raise NotFound("Project not found")
        project.name = clean
        project.updated_at = utcnow()
    await feeds.user_event(
        db, broker, user.id, "project.updated", project=feeds.row_to_json(project)
    )
    return project


async def delete_project(
    *, db: Database, broker: Publisher, user: CurrentUser, project_id: str
) -> str:
    require_id(project_id, "projectId")
    async with db.write() as session:
        # Same lock order as a move (conversations, then the project), so they cannot deadlock;
        # a conversation being moved into it meanwhile waits, then finds it gone.
        await session.execute(
            select(Conversation.id).where(Conversation.project_id == project_id).with_for_update()
        )
        project = await owned_project(session, user.id, project_id, for_update=True)
        if project is None:
            raise NotFound("Project not found")
        await session.execute(
            update(Conversation)
            .where(Conversation.project_id == project_id)
            .values(project_id=None)
        )
        await session.delete(project)
    await feeds.user_event(db, broker, user.id, "project.deleted", projectId=project_id)
    return project_id


async def get_project(*, db: Database, user: CurrentUser, project_id: str) -> Project:
    require_id(project_id, "projectId")
    async with db.read() as session:
        project = await owned_project(session, user.id, project_id)
    if project is None:
        raise NotFound("Project not found")
    return project


async def list_projects(*, db: Database, user: CurrentUser) -> list[Project]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Project).where(Project.owner_id == user.id).order_by(Project.name, Project.id)
        )
        return list(rows)


async def projects_by_ids(db: Database, ids: list[str]) -> dict[str, Project]:
    async with db.read() as session:
        rows = await session.scalars(select(Project).where(Project.id.in_(ids)))
        return {row.id: row for row in rows}
