from .base_model import BaseModel
from .fragments import ProjectFields


class Project(BaseModel):
    project: "ProjectProject"


ProjectProject = ProjectFields
Project.model_rebuild()
