from typing import Literal, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import Change
from .fragments import MessageFields


class ConversationEvents(BaseModel):
    conversation_events: Union[
        "ConversationEventsConversationEventsMessageChanged",
        "ConversationEventsConversationEventsMessageDeleted",
        "ConversationEventsConversationEventsBranchSelected",
        "ConversationEventsConversationEventsConversationDeleted",
        "ConversationEventsConversationEventsFeedResync",
    ] = Field(alias="conversationEvents", discriminator="typename__")


class ConversationEventsConversationEventsMessageChanged(BaseModel):
    typename__: Literal["MessageChanged"] = Field(alias="__typename")
    change: Change
    message: "ConversationEventsConversationEventsMessageChangedMessage"


ConversationEventsConversationEventsMessageChangedMessage = MessageFields


class ConversationEventsConversationEventsMessageDeleted(BaseModel):
    typename__: Literal["MessageDeleted"] = Field(alias="__typename")
    message_id: str = Field(alias="messageId")
    conversation_id: str = Field(alias="conversationId")


class ConversationEventsConversationEventsBranchSelected(BaseModel):
    typename__: Literal["BranchSelected"] = Field(alias="__typename")
    conversation_id: str = Field(alias="conversationId")
    leaf_id: str = Field(alias="leafId")


class ConversationEventsConversationEventsConversationDeleted(BaseModel):
    typename__: Literal["ConversationDeleted"] = Field(alias="__typename")
    conversation_id: str = Field(alias="conversationId")


class ConversationEventsConversationEventsFeedResync(BaseModel):
    typename__: Literal["FeedResync"] = Field(alias="__typename")
    reason: str


ConversationEvents.model_rebuild()
ConversationEventsConversationEventsMessageChanged.model_rebuild()
