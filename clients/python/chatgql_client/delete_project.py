from pydantic import Field

from .base_model import BaseModel


class DeleteProject(BaseModel):
    delete_project: "DeleteProjectDeleteProject" = Field(alias="deleteProject")


class DeleteProjectDeleteProject(BaseModel):
    id: str


DeleteProject.model_rebuild()
