from .active_streams import ActiveStreams, ActiveStreamsActiveStreams
from .activity import (
    Activity,
    ActivityActivityBranchSelected,
    ActivityActivityConversationChanged,
    ActivityActivityConversationChangedConversation,
    ActivityActivityConversationDeleted,
    ActivityActivityFeedResync,
    ActivityActivityMessageChanged,
    ActivityActivityMessageChangedMessage,
    ActivityActivityMessageDeleted,
    ActivityActivityProjectChanged,
    ActivityActivityProjectChangedProject,
    ActivityActivityProjectDeleted,
    ActivityActivityStreamChanged,
    ActivityActivityStreamChangedStream,
)
from .add_message import AddMessage, AddMessageAddMessage
from .async_base_client import AsyncBaseClient
from .attachment import Attachment, AttachmentAttachment
from .attachment_storage import AttachmentStorage, AttachmentStorageAttachmentStorage
from .attachments import Attachments, AttachmentsAttachments
from .base_model import BaseModel, Upload
from .client import ChatClient
from .continue_message import ContinueMessage, ContinueMessageContinueMessage
from .conversation import (
    Conversation,
    ConversationConversation,
    ConversationConversationProject,
)
from .conversation_events import (
    ConversationEvents,
    ConversationEventsConversationEventsBranchSelected,
    ConversationEventsConversationEventsConversationDeleted,
    ConversationEventsConversationEventsFeedResync,
    ConversationEventsConversationEventsMessageChanged,
    ConversationEventsConversationEventsMessageChangedMessage,
    ConversationEventsConversationEventsMessageDeleted,
)
from .conversations import (
    Conversations,
    ConversationsConversations,
    ConversationsConversationsEdges,
    ConversationsConversationsEdgesNode,
    ConversationsConversationsEdgesNodeLastMessage,
    ConversationsConversationsPageInfo,
)
from .create_conversation import (
    CreateConversation,
    CreateConversationCreateConversation,
)
from .create_project import CreateProject, CreateProjectCreateProject
from .create_share_link import (
    CreateShareLink,
    CreateShareLinkCreateShareLink,
    CreateShareLinkCreateShareLinkLink,
)
from .decide_tool_call import DecideToolCall, DecideToolCallDecideToolCall
from .delete_attachment import DeleteAttachment, DeleteAttachmentDeleteAttachment
from .delete_conversation import (
    DeleteConversation,
    DeleteConversationDeleteConversation,
)
from .delete_message import DeleteMessage, DeleteMessageDeleteMessage
from .delete_project import DeleteProject, DeleteProjectDeleteProject
from .delete_provider_key import DeleteProviderKey, DeleteProviderKeyDeleteProviderKey
from .edit_and_resend import (
    EditAndResend,
    EditAndResendEditAndResend,
    EditAndResendEditAndResendAssistantMessage,
    EditAndResendEditAndResendStream,
    EditAndResendEditAndResendUserMessage,
)
from .edit_message import EditMessage, EditMessageEditMessage
from .enums import (
    AuthorRole,
    Change,
    MessageStatus,
    Rating,
    Role,
    StreamStatus,
    Theme,
    TitleSource,
    ToolCallState,
    UsageGranularity,
)
from .exceptions import (
    GraphQLClientError,
    GraphQLClientGraphQLError,
    GraphQLClientGraphQLMultiError,
    GraphQLClientHttpError,
    GraphQLClientInvalidResponseError,
)
from .export_conversations import ExportConversations
from .fork_conversation import ForkConversation, ForkConversationForkConversation
from .fragments import (
    AttachmentFields,
    ConversationFields,
    ConversationFieldsActiveStream,
    McpServerFields,
    McpServerFieldsTools,
    MessageFields,
    MessageFieldsAttachments,
    MessageFieldsPartsTextPart,
    MessageFieldsPartsToolCallPart,
    MessageFieldsSiblings,
    MessageFieldsUsage,
    ProjectFields,
    ProviderKeyFields,
    ShareLinkFields,
    StreamFields,
    ToolCallFields,
    ToolCallFieldsImages,
    UsageTotalsFields,
)
from .import_conversations import (
    ImportConversations,
    ImportConversationsImportConversations,
    ImportConversationsImportConversationsConversations,
)
from .input_types import (
    AddMessageInput,
    CreateConversationInput,
    EditAndResendInput,
    PreferencesInput,
    SendMessageInput,
)
from .mcp_servers import McpServers, McpServersMcpServers
from .me import Me, MeMe, MeMePreferences
from .message import Message, MessageMessage
from .messages import (
    Messages,
    MessagesMessages,
    MessagesMessagesEdges,
    MessagesMessagesEdgesNode,
    MessagesMessagesPageInfo,
)
from .models import Models, ModelsModels, ModelsModelsCapabilities, ModelsModelsPricing
from .move_conversation import MoveConversation, MoveConversationMoveConversation
from .project import Project, ProjectProject
from .projects import Projects, ProjectsProjects
from .provider_keys import ProviderKeys, ProviderKeysProviderKeys
from .rate_message import (
    RateMessage,
    RateMessageRateMessage,
    RateMessageRateMessageFeedback,
)
from .refresh_mcp_server import RefreshMcpServer, RefreshMcpServerRefreshMcpServer
from .regenerate_title import RegenerateTitle, RegenerateTitleRegenerateTitle
from .rename_conversation import (
    RenameConversation,
    RenameConversationRenameConversation,
)
from .rename_project import RenameProject, RenameProjectRenameProject
from .retry_message import (
    RetryMessage,
    RetryMessageRetryMessage,
    RetryMessageRetryMessageAssistantMessage,
    RetryMessageRetryMessageStream,
    RetryMessageRetryMessageUserMessage,
)
from .revoke_share_link import RevokeShareLink, RevokeShareLinkRevokeShareLink
from .save_draft import SaveDraft, SaveDraftSaveDraft
from .search import (
    Search,
    SearchSearch,
    SearchSearchEdges,
    SearchSearchEdgesNode,
    SearchSearchEdgesNodeConversation,
    SearchSearchEdgesNodeMessage,
    SearchSearchPageInfo,
)
from .select_branch import (
    SelectBranch,
    SelectBranchSelectBranch,
    SelectBranchSelectBranchConversation,
)
from .send_message import (
    SendMessage,
    SendMessageSendMessage,
    SendMessageSendMessageAssistantMessage,
    SendMessageSendMessageStream,
    SendMessageSendMessageUserMessage,
)
from .set_conversation_archived import (
    SetConversationArchived,
    SetConversationArchivedSetConversationArchived,
)
from .set_conversation_pinned import (
    SetConversationPinned,
    SetConversationPinnedSetConversationPinned,
)
from .set_conversation_tools import (
    SetConversationTools,
    SetConversationToolsSetConversationTools,
)
from .set_provider_key import SetProviderKey, SetProviderKeySetProviderKey
from .share_links import ShareLinks, ShareLinksShareLinks
from .shared_conversation import (
    SharedConversation,
    SharedConversationSharedConversation,
    SharedConversationSharedConversationMessages,
    SharedConversationSharedConversationMessagesAttachments,
)
from .stop_stream import StopStream, StopStreamStopStream
from .stream import Stream, StreamStream
from .stream_events import (
    StreamEvents,
    StreamEventsStreamEventsStreamDelta,
    StreamEventsStreamEventsStreamEnd,
    StreamEventsStreamEventsStreamEndUsage,
    StreamEventsStreamEventsStreamSnapshot,
    StreamEventsStreamEventsStreamSnapshotToolCalls,
    StreamEventsStreamEventsStreamToolCall,
    StreamEventsStreamEventsStreamToolCallToolCall,
)
from .update_preferences import (
    UpdatePreferences,
    UpdatePreferencesUpdatePreferences,
    UpdatePreferencesUpdatePreferencesPreferences,
)
from .upload_attachment import UploadAttachment, UploadAttachmentUploadAttachment
from .usage import Usage, UsageUsage
from .usage_report import (
    UsageReport,
    UsageReportUsageReport,
    UsageReportUsageReportByModel,
    UsageReportUsageReportByModelUsage,
    UsageReportUsageReportPeriods,
    UsageReportUsageReportPeriodsUsage,
    UsageReportUsageReportTotal,
)

__all__ = [
    "ActiveStreams",
    "ActiveStreamsActiveStreams",
    "Activity",
    "ActivityActivityBranchSelected",
    "ActivityActivityConversationChanged",
    "ActivityActivityConversationChangedConversation",
    "ActivityActivityConversationDeleted",
    "ActivityActivityFeedResync",
    "ActivityActivityMessageChanged",
    "ActivityActivityMessageChangedMessage",
    "ActivityActivityMessageDeleted",
    "ActivityActivityProjectChanged",
    "ActivityActivityProjectChangedProject",
    "ActivityActivityProjectDeleted",
    "ActivityActivityStreamChanged",
    "ActivityActivityStreamChangedStream",
    "AddMessage",
    "AddMessageAddMessage",
    "AddMessageInput",
    "AsyncBaseClient",
    "Attachment",
    "AttachmentAttachment",
    "AttachmentFields",
    "AttachmentStorage",
    "AttachmentStorageAttachmentStorage",
    "Attachments",
    "AttachmentsAttachments",
    "AuthorRole",
    "BaseModel",
    "Change",
    "ChatClient",
    "ContinueMessage",
    "ContinueMessageContinueMessage",
    "Conversation",
    "ConversationConversation",
    "ConversationConversationProject",
    "ConversationEvents",
    "ConversationEventsConversationEventsBranchSelected",
    "ConversationEventsConversationEventsConversationDeleted",
    "ConversationEventsConversationEventsFeedResync",
    "ConversationEventsConversationEventsMessageChanged",
    "ConversationEventsConversationEventsMessageChangedMessage",
    "ConversationEventsConversationEventsMessageDeleted",
    "ConversationFields",
    "ConversationFieldsActiveStream",
    "Conversations",
    "ConversationsConversations",
    "ConversationsConversationsEdges",
    "ConversationsConversationsEdgesNode",
    "ConversationsConversationsEdgesNodeLastMessage",
    "ConversationsConversationsPageInfo",
    "CreateConversation",
    "CreateConversationCreateConversation",
    "CreateConversationInput",
    "CreateProject",
    "CreateProjectCreateProject",
    "CreateShareLink",
    "CreateShareLinkCreateShareLink",
    "CreateShareLinkCreateShareLinkLink",
    "DecideToolCall",
    "DecideToolCallDecideToolCall",
    "DeleteAttachment",
    "DeleteAttachmentDeleteAttachment",
    "DeleteConversation",
    "DeleteConversationDeleteConversation",
    "DeleteMessage",
    "DeleteMessageDeleteMessage",
    "DeleteProject",
    "DeleteProjectDeleteProject",
    "DeleteProviderKey",
    "DeleteProviderKeyDeleteProviderKey",
    "EditAndResend",
    "EditAndResendEditAndResend",
    "EditAndResendEditAndResendAssistantMessage",
    "EditAndResendEditAndResendStream",
    "EditAndResendEditAndResendUserMessage",
    "EditAndResendInput",
    "EditMessage",
    "EditMessageEditMessage",
    "ExportConversations",
    "ForkConversation",
    "ForkConversationForkConversation",
    "GraphQLClientError",
    "GraphQLClientGraphQLError",
    "GraphQLClientGraphQLMultiError",
    "GraphQLClientHttpError",
    "GraphQLClientInvalidResponseError",
    "ImportConversations",
    "ImportConversationsImportConversations",
    "ImportConversationsImportConversationsConversations",
    "McpServerFields",
    "McpServerFieldsTools",
    "McpServers",
    "McpServersMcpServers",
    "Me",
    "MeMe",
    "MeMePreferences",
    "Message",
    "MessageFields",
    "MessageFieldsAttachments",
    "MessageFieldsPartsTextPart",
    "MessageFieldsPartsToolCallPart",
    "MessageFieldsSiblings",
    "MessageFieldsUsage",
    "MessageMessage",
    "MessageStatus",
    "Messages",
    "MessagesMessages",
    "MessagesMessagesEdges",
    "MessagesMessagesEdgesNode",
    "MessagesMessagesPageInfo",
    "Models",
    "ModelsModels",
    "ModelsModelsCapabilities",
    "ModelsModelsPricing",
    "MoveConversation",
    "MoveConversationMoveConversation",
    "PreferencesInput",
    "Project",
    "ProjectFields",
    "ProjectProject",
    "Projects",
    "ProjectsProjects",
    "ProviderKeyFields",
    "ProviderKeys",
    "ProviderKeysProviderKeys",
    "RateMessage",
    "RateMessageRateMessage",
    "RateMessageRateMessageFeedback",
    "Rating",
    "RefreshMcpServer",
    "RefreshMcpServerRefreshMcpServer",
    "RegenerateTitle",
    "RegenerateTitleRegenerateTitle",
    "RenameConversation",
    "RenameConversationRenameConversation",
    "RenameProject",
    "RenameProjectRenameProject",
    "RetryMessage",
    "RetryMessageRetryMessage",
    "RetryMessageRetryMessageAssistantMessage",
    "RetryMessageRetryMessageStream",
    "RetryMessageRetryMessageUserMessage",
    "RevokeShareLink",
    "RevokeShareLinkRevokeShareLink",
    "Role",
    "SaveDraft",
    "SaveDraftSaveDraft",
    "Search",
    "SearchSearch",
    "SearchSearchEdges",
    "SearchSearchEdgesNode",
    "SearchSearchEdgesNodeConversation",
    "SearchSearchEdgesNodeMessage",
    "SearchSearchPageInfo",
    "SelectBranch",
    "SelectBranchSelectBranch",
    "SelectBranchSelectBranchConversation",
    "SendMessage",
    "SendMessageInput",
    "SendMessageSendMessage",
    "SendMessageSendMessageAssistantMessage",
    "SendMessageSendMessageStream",
    "SendMessageSendMessageUserMessage",
    "SetConversationArchived",
    "SetConversationArchivedSetConversationArchived",
    "SetConversationPinned",
    "SetConversationPinnedSetConversationPinned",
    "SetConversationTools",
    "SetConversationToolsSetConversationTools",
    "SetProviderKey",
    "SetProviderKeySetProviderKey",
    "ShareLinkFields",
    "ShareLinks",
    "ShareLinksShareLinks",
    "SharedConversation",
    "SharedConversationSharedConversation",
    "SharedConversationSharedConversationMessages",
    "SharedConversationSharedConversationMessagesAttachments",
    "StopStream",
    "StopStreamStopStream",
    "Stream",
    "StreamEvents",
    "StreamEventsStreamEventsStreamDelta",
    "StreamEventsStreamEventsStreamEnd",
    "StreamEventsStreamEventsStreamEndUsage",
    "StreamEventsStreamEventsStreamSnapshot",
    "StreamEventsStreamEventsStreamSnapshotToolCalls",
    "StreamEventsStreamEventsStreamToolCall",
    "StreamEventsStreamEventsStreamToolCallToolCall",
    "StreamFields",
    "StreamStatus",
    "StreamStream",
    "Theme",
    "TitleSource",
    "ToolCallFields",
    "ToolCallFieldsImages",
    "ToolCallState",
    "UpdatePreferences",
    "UpdatePreferencesUpdatePreferences",
    "UpdatePreferencesUpdatePreferencesPreferences",
    "Upload",
    "UploadAttachment",
    "UploadAttachmentUploadAttachment",
    "Usage",
    "UsageGranularity",
    "UsageReport",
    "UsageReportUsageReport",
    "UsageReportUsageReportByModel",
    "UsageReportUsageReportByModelUsage",
    "UsageReportUsageReportPeriods",
    "UsageReportUsageReportPeriodsUsage",
    "UsageReportUsageReportTotal",
    "UsageTotalsFields",
    "UsageUsage",
]
