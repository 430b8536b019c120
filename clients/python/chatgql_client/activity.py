from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import Change
from .fragments import ConversationFields, MessageFields, ProjectFields, StreamFields


class Activity(BaseModel):
    activity: Union[
        "ActivityActivityConversationChanged",
        "ActivityActivityConversationDeleted",
        "ActivityActivityMessageChanged",
        "ActivityActivityMessageDeleted",
        "ActivityActivityBranchSelected",
        "ActivityActivityStreamChanged",
        "ActivityActivityProjectChanged",
        "ActivityActivityProjectDeleted",
        "ActivityActivityFeedResync",
    ] = Field(discriminator="typename__")


class ActivityActivityConversationChanged(BaseModel):
    typename__: Literal["ConversationChanged"] = Field(alias="__typename")
    change: Change
    conversation: "ActivityActivityConversationChangedConversation"


ActivityActivityConversationChangedConversation = ConversationFields


class ActivityActivityConversationDeleted(BaseModel):
    typename__: Literal["ConversationDeleted"] = Field(alias="__typename")
    conversation_id: str = Field(alias="conversationId")


class ActivityActivityMessageChanged(BaseModel):
    typename__: Literal["MessageChanged"] = Field(alias="__typename")
    change: Change
    message: "ActivityActivityMessageChangedMessage"


ActivityActivityMessageChangedMessage = MessageFields


class ActivityActivityMessageDeleted(BaseModel):
    typename__: Literal["MessageDeleted"] = Field(alias="__typename")
    message_id: str = Field(alias="messageId")
    conversation_id: str = Field(alias="conversationId")


class ActivityActivityBranchSelected(BaseModel):
    typename__: Literal["BranchSelected"] = Field(alias="__typename")
    conversation_id: str = Field(alias="conversationId")
    leaf_id: str = Field(alias="leafId")


class ActivityActivityStreamChanged(BaseModel):
    typename__: Literal["StreamChanged"] = Field(alias="__typename")
    change: Change
    stream: "ActivityActivityStreamChangedStream"


ActivityActivityStreamChangedStream = StreamFields


class ActivityActivityProjectChanged(BaseModel):
    typename__: Literal["ProjectChanged"] = Field(alias="__typename")
    change: Change
    project: "ActivityActivityProjectChangedProject"


ActivityActivityProjectChangedProject = ProjectFields


class ActivityActivityProjectDeleted(BaseModel):
    typename__: Literal["ProjectDeleted"] = Field(alias="__typename")
    project_id: str = Field(alias="projectId")


class ActivityActivityFeedResync(BaseModel):
    typename__: Literal["FeedResync"] = Field(alias="__typename")
    reason: str


Activity.model_rebuild()
ActivityActivityConversationChanged.model_rebuild()
ActivityActivityMessageChanged.model_rebuild()
ActivityActivityStreamChanged.model_rebuild()
ActivityActivityProjectChanged.model_rebuild()
