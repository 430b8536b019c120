"""Projects (folders of conversations)."""

from __future__ import annotations

import strawberry

from gql_api.context import Info
from gql_api.domain import projects
from resolvers.types import Deleted, Project


@strawberry.type
class Query:
    @strawberry.field
    async def projects(self, info: Info) -> list[Project]:
        user = await info.context.require_user()
        rows = await projects.list_projects(db=info.context.services.db, user=user)
        return [Project.from_model(r) for r in rows]

    @strawberry.field
    async def project(self, info: Info, id: strawberry.ID) -> Project:
        user = await info.context.require_user()
        row = await projects.get_project(db=info.context.services.db, user=user, project_id=id)
        return Project.from_model(row)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_project(self, info: Info, name: str) -> Project:
        user = await info.context.require_user()
        s = info.context.services
        return Project.from_model(
            await projects.create_project(db=s.db, broker=s.broker, user=user, name=name)
        )

    @strawberry.mutation
    async def rename_project(self, info: Info, id: strawberry.ID, name: str) -> Project:
        user = await info.context.require_user()
        s = info.context.services
        row = await projects.rename_project(
            db=s.db, broker=s.broker, user=user, project_id=id, name=name
        )
        return Project.from_model(row)

    @strawberry.mutation(
        description="Delete a project. Its conversations are kept and moved out of any project."
    )
    async def delete_project(self, info: Info, id: strawberry.ID) -> Deleted:
        user = await info.context.require_user()
        s = info.context.services
        deleted = await projects.delete_project(db=s.db, broker=s.broker, user=user, project_id=id)
        return Deleted(id=strawberry.ID(deleted))
