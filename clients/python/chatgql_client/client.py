from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any, Optional, Union

from .active_streams import ActiveStreams
from .activity import Activity
from .add_message import AddMessage
from .async_base_client import AsyncBaseClient
from .attachment import Attachment
from .attachment_storage import AttachmentStorage
from .attachments import Attachments
from .base_model import UNSET, UnsetType, Upload
from .continue_message import ContinueMessage
from .conversation import Conversation
from .conversation_events import ConversationEvents
from .conversations import Conversations
from .create_conversation import CreateConversation
from .create_project import CreateProject
from .create_share_link import CreateShareLink
from .decide_tool_call import DecideToolCall
from .delete_attachment import DeleteAttachment
from .delete_conversation import DeleteConversation
from .delete_message import DeleteMessage
from .delete_project import DeleteProject
from .delete_provider_key import DeleteProviderKey
from .edit_and_resend import EditAndResend
from .edit_message import EditMessage
from .enums import Rating, UsageGranularity
from .export_conversations import ExportConversations
from .fork_conversation import ForkConversation
from .import_conversations import ImportConversations
from .input_types import (
    AddMessageInput,
    CreateConversationInput,
    EditAndResendInput,
    PreferencesInput,
    SendMessageInput,
)
from .mcp_servers import McpServers
from .me import Me
from .message import Message
from .messages import Messages
from .models import Models
from .move_conversation import MoveConversation
from .project import Project
from .projects import Projects
from .provider_keys import ProviderKeys
from .rate_message import RateMessage
from .refresh_mcp_server import RefreshMcpServer
from .regenerate_title import RegenerateTitle
from .rename_conversation import RenameConversation
from .rename_project import RenameProject
from .retry_message import RetryMessage
from .revoke_share_link import RevokeShareLink
from .save_draft import SaveDraft
from .search import Search
from .select_branch import SelectBranch
from .send_message import SendMessage
from .set_conversation_archived import SetConversationArchived
from .set_conversation_pinned import SetConversationPinned
from .set_conversation_tools import SetConversationTools
from .set_provider_key import SetProviderKey
from .share_links import ShareLinks
from .shared_conversation import SharedConversation
from .stop_stream import StopStream
from .stream import Stream
from .stream_events import StreamEvents
from .update_preferences import UpdatePreferences
from .upload_attachment import UploadAttachment
from .usage import Usage
from .usage_report import UsageReport


def gql(q: str) -> str:
    return q


class ChatClient(AsyncBaseClient):
    async def upload_attachment(
        self,
        file: Upload,
        conversation_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> UploadAttachment:
        query = gql("""
            mutation UploadAttachment($file: Upload!, $conversationId: ID) {
              uploadAttachment(file: $file, conversationId: $conversationId) {
                ...AttachmentFields
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }
            """)
        variables: dict[str, object] = {"file": file, "conversationId": conversation_id}
        response = await self.execute(
            query=query,
            operation_name="UploadAttachment",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return UploadAttachment.model_validate(data)

    async def delete_attachment(self, id: str, **kwargs: Any) -> DeleteAttachment:
        query = gql("""
            mutation DeleteAttachment($id: ID!) {
              deleteAttachment(id: $id) {
                id
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="DeleteAttachment",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return DeleteAttachment.model_validate(data)

    async def attachment(self, id: str, **kwargs: Any) -> Attachment:
        query = gql("""
            query Attachment($id: ID!) {
              attachment(id: $id) {
                ...AttachmentFields
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Attachment", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Attachment.model_validate(data)

    async def attachments(
        self,
        conversation_id: Union[Optional[str], UnsetType] = UNSET,
        message_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Attachments:
        query = gql("""
            query Attachments($conversationId: ID, $messageId: ID) {
              attachments(conversationId: $conversationId, messageId: $messageId) {
                ...AttachmentFields
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }
            """)
        variables: dict[str, object] = {
            "conversationId": conversation_id,
            "messageId": message_id,
        }
        response = await self.execute(
            query=query, operation_name="Attachments", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Attachments.model_validate(data)

    async def attachment_storage(self, **kwargs: Any) -> AttachmentStorage:
        query = gql("""
            query AttachmentStorage {
              attachmentStorage {
                usedBytes
                quotaBytes
                maxUploadBytes
                allowedMediaTypes
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query,
            operation_name="AttachmentStorage",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return AttachmentStorage.model_validate(data)

    async def edit_and_resend(
        self, input: EditAndResendInput, **kwargs: Any
    ) -> EditAndResend:
        query = gql("""
            mutation EditAndResend($input: EditAndResendInput!) {
              editAndResend(input: $input) {
                userMessage {
                  ...MessageFields
                }
                assistantMessage {
                  ...MessageFields
                }
                stream {
                  ...StreamFields
                }
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="EditAndResend", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return EditAndResend.model_validate(data)

    async def select_branch(self, message_id: str, **kwargs: Any) -> SelectBranch:
        query = gql("""
            mutation SelectBranch($messageId: ID!) {
              selectBranch(messageId: $messageId) {
                leafId
                conversation {
                  ...ConversationFields
                }
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"messageId": message_id}
        response = await self.execute(
            query=query, operation_name="SelectBranch", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SelectBranch.model_validate(data)

    async def fork_conversation(
        self, message_id: str, **kwargs: Any
    ) -> ForkConversation:
        query = gql("""
            mutation ForkConversation($messageId: ID!) {
              forkConversation(messageId: $messageId) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"messageId": message_id}
        response = await self.execute(
            query=query,
            operation_name="ForkConversation",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ForkConversation.model_validate(data)

    async def conversations(
        self,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        archived: Union[Optional[bool], UnsetType] = UNSET,
        project_id: Union[Optional[str], UnsetType] = UNSET,
        search: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Conversations:
        query = gql("""
            query Conversations($first: Int! = 20, $after: String, $archived: Boolean = false, $projectId: ID, $search: String) {
              conversations(
                first: $first
                after: $after
                archived: $archived
                projectId: $projectId
                search: $search
              ) {
                edges {
                  cursor
                  node {
                    ...ConversationFields
                    lastMessage {
                      id
                      role
                      content
                      status
                      createdAt
                    }
                  }
                }
                pageInfo {
                  hasNextPage
                  hasPreviousPage
                  startCursor
                  endCursor
                }
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "archived": archived,
            "projectId": project_id,
            "search": search,
        }
        response = await self.execute(
            query=query, operation_name="Conversations", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Conversations.model_validate(data)

    async def conversation(self, id: str, **kwargs: Any) -> Conversation:
        query = gql("""
            query Conversation($id: ID!) {
              conversation(id: $id) {
                ...ConversationFields
                project {
                  ...ProjectFields
                }
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment ProjectFields on Project {
              id
              name
              conversationCount
              createdAt
              updatedAt
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Conversation", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Conversation.model_validate(data)

    async def create_conversation(
        self,
        input: Union[Optional[CreateConversationInput], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> CreateConversation:
        query = gql("""
            mutation CreateConversation($input: CreateConversationInput) {
              createConversation(input: $input) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="CreateConversation",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return CreateConversation.model_validate(data)

    async def rename_conversation(
        self, id: str, title: str, **kwargs: Any
    ) -> RenameConversation:
        query = gql("""
            mutation RenameConversation($id: ID!, $title: String!) {
              renameConversation(id: $id, title: $title) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "title": title}
        response = await self.execute(
            query=query,
            operation_name="RenameConversation",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return RenameConversation.model_validate(data)

    async def set_conversation_pinned(
        self, id: str, pinned: bool, **kwargs: Any
    ) -> SetConversationPinned:
        query = gql("""
            mutation SetConversationPinned($id: ID!, $pinned: Boolean!) {
              setConversationPinned(id: $id, pinned: $pinned) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "pinned": pinned}
        response = await self.execute(
            query=query,
            operation_name="SetConversationPinned",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return SetConversationPinned.model_validate(data)

    async def set_conversation_archived(
        self, id: str, archived: bool, **kwargs: Any
    ) -> SetConversationArchived:
        query = gql("""
            mutation SetConversationArchived($id: ID!, $archived: Boolean!) {
              setConversationArchived(id: $id, archived: $archived) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "archived": archived}
        response = await self.execute(
            query=query,
            operation_name="SetConversationArchived",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return SetConversationArchived.model_validate(data)

    async def save_draft(
        self, id: str, draft: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> SaveDraft:
        query = gql("""
            mutation SaveDraft($id: ID!, $draft: String) {
              saveDraft(id: $id, draft: $draft) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "draft": draft}
        response = await self.execute(
            query=query, operation_name="SaveDraft", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SaveDraft.model_validate(data)

    async def move_conversation(
        self,
        id: str,
        project_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> MoveConversation:
        query = gql("""
            mutation MoveConversation($id: ID!, $projectId: ID) {
              moveConversation(id: $id, projectId: $projectId) {
                ...ConversationFields
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "projectId": project_id}
        response = await self.execute(
            query=query,
            operation_name="MoveConversation",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return MoveConversation.model_validate(data)

    async def delete_conversation(self, id: str, **kwargs: Any) -> DeleteConversation:
        query = gql("""
            mutation DeleteConversation($id: ID!) {
              deleteConversation(id: $id) {
                id
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="DeleteConversation",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return DeleteConversation.model_validate(data)

    async def rate_message(
        self,
        id: str,
        rating: Union[Optional[Rating], UnsetType] = UNSET,
        comment: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> RateMessage:
        query = gql("""
            mutation RateMessage($id: ID!, $rating: Rating, $comment: String) {
              rateMessage(id: $id, rating: $rating, comment: $comment) {
                id
                feedback {
                  rating
                  comment
                  ratedAt
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id, "rating": rating, "comment": comment}
        response = await self.execute(
            query=query, operation_name="RateMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RateMessage.model_validate(data)

    async def activity(self, **kwargs: Any) -> AsyncIterator[Activity]:
        query = gql("""
            subscription Activity {
              activity {
                __typename
                ... on ConversationChanged {
                  change
                  conversation {
                    ...ConversationFields
                  }
                }
                ... on ConversationDeleted {
                  conversationId
                }
                ... on MessageChanged {
                  change
                  message {
                    ...MessageFields
                  }
                }
                ... on MessageDeleted {
                  messageId
                  conversationId
                }
                ... on BranchSelected {
                  conversationId
                  leafId
                }
                ... on StreamChanged {
                  change
                  stream {
                    ...StreamFields
                  }
                }
                ... on ProjectChanged {
                  change
                  project {
                    ...ProjectFields
                  }
                }
                ... on ProjectDeleted {
                  projectId
                }
                ... on FeedResync {
                  reason
                }
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment ProjectFields on Project {
              id
              name
              conversationCount
              createdAt
              updatedAt
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {}
        async for data in self.execute_ws(
            query=query, operation_name="Activity", variables=variables, **kwargs
        ):
            yield Activity.model_validate(data)

    async def conversation_events(
        self, conversation_id: str, **kwargs: Any
    ) -> AsyncIterator[ConversationEvents]:
        query = gql("""
            subscription ConversationEvents($conversationId: ID!) {
              conversationEvents(conversationId: $conversationId) {
                __typename
                ... on MessageChanged {
                  change
                  message {
                    ...MessageFields
                  }
                }
                ... on MessageDeleted {
                  messageId
                  conversationId
                }
                ... on BranchSelected {
                  conversationId
                  leafId
                }
                ... on ConversationDeleted {
                  conversationId
                }
                ... on FeedResync {
                  reason
                }
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"conversationId": conversation_id}
        async for data in self.execute_ws(
            query=query,
            operation_name="ConversationEvents",
            variables=variables,
            **kwargs,
        ):
            yield ConversationEvents.model_validate(data)

    async def messages(
        self,
        conversation_id: str,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        last: Union[Optional[int], UnsetType] = UNSET,
        before: Union[Optional[str], UnsetType] = UNSET,
        leaf_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Messages:
        query = gql("""
            query Messages($conversationId: ID!, $first: Int, $after: String, $last: Int, $before: String, $leafId: ID) {
              messages(
                conversationId: $conversationId
                first: $first
                after: $after
                last: $last
                before: $before
                leafId: $leafId
              ) {
                edges {
                  cursor
                  node {
                    ...MessageFields
                  }
                }
                pageInfo {
                  hasNextPage
                  hasPreviousPage
                  startCursor
                  endCursor
                }
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {
            "conversationId": conversation_id,
            "first": first,
            "after": after,
            "last": last,
            "before": before,
            "leafId": leaf_id,
        }
        response = await self.execute(
            query=query, operation_name="Messages", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Messages.model_validate(data)

    async def message(self, id: str, **kwargs: Any) -> Message:
        query = gql("""
            query Message($id: ID!) {
              message(id: $id) {
                ...MessageFields
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Message", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Message.model_validate(data)

    async def add_message(self, input: AddMessageInput, **kwargs: Any) -> AddMessage:
        query = gql("""
            mutation AddMessage($input: AddMessageInput!) {
              addMessage(input: $input) {
                ...MessageFields
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="AddMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AddMessage.model_validate(data)

    async def edit_message(self, id: str, content: str, **kwargs: Any) -> EditMessage:
        query = gql("""
            mutation EditMessage($id: ID!, $content: String!) {
              editMessage(id: $id, content: $content) {
                ...MessageFields
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "content": content}
        response = await self.execute(
            query=query, operation_name="EditMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return EditMessage.model_validate(data)

    async def delete_message(self, id: str, **kwargs: Any) -> DeleteMessage:
        query = gql("""
            mutation DeleteMessage($id: ID!) {
              deleteMessage(id: $id) {
                id
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="DeleteMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return DeleteMessage.model_validate(data)

    async def send_message(self, input: SendMessageInput, **kwargs: Any) -> SendMessage:
        query = gql("""
            mutation SendMessage($input: SendMessageInput!) {
              sendMessage(input: $input) {
                userMessage {
                  ...MessageFields
                }
                assistantMessage {
                  ...MessageFields
                }
                stream {
                  ...StreamFields
                }
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="SendMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SendMessage.model_validate(data)

    async def retry_message(
        self, id: str, model: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> RetryMessage:
        query = gql("""
            mutation RetryMessage($id: ID!, $model: String) {
              retryMessage(id: $id, model: $model) {
                userMessage {
                  ...MessageFields
                }
                assistantMessage {
                  ...MessageFields
                }
                stream {
                  ...StreamFields
                }
              }
            }

            fragment AttachmentFields on Attachment {
              id
              name
              mediaType
              size
              sha256
              createdAt
              conversationId
              messageId
              downloadUrl
            }

            fragment MessageFields on Message {
              id
              conversationId
              role
              content
              status
              model
              usage {
                inputTokens
                outputTokens
              }
              clientMessageId
              replyToId
              parentId
              siblings {
                index
                count
                ids
              }
              errorCode
              errorMessage
              createdAt
              editedAt
              parts {
                __typename
                ... on TextPart {
                  text
                }
                ... on ToolCallPart {
                  ...ToolCallFields
                }
              }
              attachments {
                ...AttachmentFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "model": model}
        response = await self.execute(
            query=query, operation_name="RetryMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RetryMessage.model_validate(data)

    async def continue_message(self, id: str, **kwargs: Any) -> ContinueMessage:
        query = gql("""
            mutation ContinueMessage($id: ID!) {
              continueMessage(id: $id) {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="ContinueMessage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ContinueMessage.model_validate(data)

    async def projects(self, **kwargs: Any) -> Projects:
        query = gql("""
            query Projects {
              projects {
                ...ProjectFields
              }
            }

            fragment ProjectFields on Project {
              id
              name
              conversationCount
              createdAt
              updatedAt
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Projects", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Projects.model_validate(data)

    async def project(self, id: str, **kwargs: Any) -> Project:
        query = gql("""
            query Project($id: ID!) {
              project(id: $id) {
                ...ProjectFields
              }
            }

            fragment ProjectFields on Project {
              id
              name
              conversationCount
              createdAt
              updatedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Project", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Project.model_validate(data)

    async def create_project(self, name: str, **kwargs: Any) -> CreateProject:
        query = gql("""
            mutation CreateProject($name: String!) {
              createProject(name: $name) {
                ...ProjectFields
              }
            }

            fragment ProjectFields on Project {
              id
              name
              conversationCount
              createdAt
              updatedAt
            }
            """)
        variables: dict[str, object] = {"name": name}
        response = await self.execute(
            query=query, operation_name="CreateProject", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateProject.model_validate(data)

    async def rename_project(self, id: str, name: str, **kwargs: Any) -> RenameProject:
        query = gql("""
            mutation RenameProject($id: ID!, $name: String!) {
              renameProject(id: $id, name: $name) {
                ...ProjectFields
              }
            }

            fragment ProjectFields on Project {
              id
              name
              conversationCount
              createdAt
              updatedAt
            }
            """)
        variables: dict[str, object] = {"id": id, "name": name}
        response = await self.execute(
            query=query, operation_name="RenameProject", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RenameProject.model_validate(data)

    async def delete_project(self, id: str, **kwargs: Any) -> DeleteProject:
        query = gql("""
            mutation DeleteProject($id: ID!) {
              deleteProject(id: $id) {
                id
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="DeleteProject", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return DeleteProject.model_validate(data)

    async def models(self, **kwargs: Any) -> Models:
        query = gql("""
            query Models {
              models {
                id
                provider
                displayName
                contextWindow
                maxOutputTokens
                capabilities {
                  tools
                  vision
                  reasoning
                  promptCaching
                }
                pricing {
                  input
                  output
                  cacheRead
                  cacheWrite
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Models", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Models.model_validate(data)

    async def provider_keys(self, **kwargs: Any) -> ProviderKeys:
        query = gql("""
            query ProviderKeys {
              providerKeys {
                ...ProviderKeyFields
              }
            }

            fragment ProviderKeyFields on ProviderKey {
              id
              provider
              lastFour
              baseUrl
              createdAt
              lastUsedAt
              lastError
              lastErrorAt
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="ProviderKeys", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ProviderKeys.model_validate(data)

    async def set_provider_key(
        self,
        provider: str,
        api_key: str,
        base_url: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> SetProviderKey:
        query = gql("""
            mutation SetProviderKey($provider: String!, $apiKey: String!, $baseUrl: String) {
              setProviderKey(provider: $provider, apiKey: $apiKey, baseUrl: $baseUrl) {
                ...ProviderKeyFields
              }
            }

            fragment ProviderKeyFields on ProviderKey {
              id
              provider
              lastFour
              baseUrl
              createdAt
              lastUsedAt
              lastError
              lastErrorAt
            }
            """)
        variables: dict[str, object] = {
            "provider": provider,
            "apiKey": api_key,
            "baseUrl": base_url,
        }
        response = await self.execute(
            query=query, operation_name="SetProviderKey", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SetProviderKey.model_validate(data)

    async def delete_provider_key(self, id: str, **kwargs: Any) -> DeleteProviderKey:
        query = gql("""
            mutation DeleteProviderKey($id: ID!) {
              deleteProviderKey(id: $id) {
                id
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="DeleteProviderKey",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return DeleteProviderKey.model_validate(data)

    async def search(
        self,
        query: str,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Search:
        _query = gql("""
            query Search($query: String!, $first: Int! = 20, $after: String) {
              search(query: $query, first: $first, after: $after) {
                edges {
                  cursor
                  node {
                    snippet
                    score
                    conversation {
                      ...ConversationFields
                    }
                    message {
                      id
                      role
                      content
                      createdAt
                    }
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"query": query, "first": first, "after": after}
        response = await self.execute(
            query=_query, operation_name="Search", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Search.model_validate(data)

    async def create_share_link(
        self,
        conversation_id: str,
        up_to_message_id: str,
        expires_at: Union[Optional[datetime], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> CreateShareLink:
        query = gql("""
            mutation CreateShareLink($conversationId: ID!, $upToMessageId: ID!, $expiresAt: DateTime) {
              createShareLink(
                conversationId: $conversationId
                upToMessageId: $upToMessageId
                expiresAt: $expiresAt
              ) {
                token
                link {
                  ...ShareLinkFields
                }
              }
            }

            fragment ShareLinkFields on ShareLink {
              id
              conversationId
              upToMessageId
              title
              createdAt
              expiresAt
              revokedAt
              active
            }
            """)
        variables: dict[str, object] = {
            "conversationId": conversation_id,
            "upToMessageId": up_to_message_id,
            "expiresAt": expires_at,
        }
        response = await self.execute(
            query=query, operation_name="CreateShareLink", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateShareLink.model_validate(data)

    async def share_links(
        self, conversation_id: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> ShareLinks:
        query = gql("""
            query ShareLinks($conversationId: ID) {
              shareLinks(conversationId: $conversationId) {
                ...ShareLinkFields
              }
            }

            fragment ShareLinkFields on ShareLink {
              id
              conversationId
              upToMessageId
              title
              createdAt
              expiresAt
              revokedAt
              active
            }
            """)
        variables: dict[str, object] = {"conversationId": conversation_id}
        response = await self.execute(
            query=query, operation_name="ShareLinks", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ShareLinks.model_validate(data)

    async def revoke_share_link(self, id: str, **kwargs: Any) -> RevokeShareLink:
        query = gql("""
            mutation RevokeShareLink($id: ID!) {
              revokeShareLink(id: $id) {
                ...ShareLinkFields
              }
            }

            fragment ShareLinkFields on ShareLink {
              id
              conversationId
              upToMessageId
              title
              createdAt
              expiresAt
              revokedAt
              active
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="RevokeShareLink", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RevokeShareLink.model_validate(data)

    async def shared_conversation(
        self, token: str, **kwargs: Any
    ) -> SharedConversation:
        query = gql("""
            query SharedConversation($token: String!) {
              sharedConversation(token: $token) {
                title
                sharedAt
                messages {
                  role
                  content
                  model
                  createdAt
                  attachments {
                    name
                    mediaType
                    size
                    downloadUrl
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {"token": token}
        response = await self.execute(
            query=query,
            operation_name="SharedConversation",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return SharedConversation.model_validate(data)

    async def stream(self, id: str, **kwargs: Any) -> Stream:
        query = gql("""
            query Stream($id: ID!) {
              stream(id: $id) {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Stream", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Stream.model_validate(data)

    async def active_streams(self, **kwargs: Any) -> ActiveStreams:
        query = gql("""
            query ActiveStreams {
              activeStreams {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="ActiveStreams", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ActiveStreams.model_validate(data)

    async def stop_stream(self, id: str, **kwargs: Any) -> StopStream:
        query = gql("""
            mutation StopStream($id: ID!) {
              stopStream(id: $id) {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="StopStream", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return StopStream.model_validate(data)

    async def stream_events(
        self,
        offset: int,
        stream_id: Union[Optional[str], UnsetType] = UNSET,
        message_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> AsyncIterator[StreamEvents]:
        query = gql("""
            subscription StreamEvents($streamId: ID, $messageId: ID, $offset: Int! = 0) {
              streamEvents(streamId: $streamId, messageId: $messageId, offset: $offset) {
                __typename
                ... on StreamSnapshot {
                  streamId
                  messageId
                  status
                  seq
                  offset
                  text
                  length
                  toolCalls {
                    ...ToolCallFields
                  }
                }
                ... on StreamDelta {
                  seq
                  offset
                  text
                }
                ... on StreamToolCall {
                  seq
                  offset
                  toolCall {
                    ...ToolCallFields
                  }
                }
                ... on StreamEnd {
                  status
                  seq
                  length
                  usage {
                    inputTokens
                    outputTokens
                  }
                  errorCode
                  errorMessage
                }
              }
            }

            fragment ToolCallFields on ToolCallPart {
              id
              name
              input
              state
              server
              tool
              result
              isError
              structuredContent
              images {
                mediaType
                data
              }
              truncated
              startedAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {
            "streamId": stream_id,
            "messageId": message_id,
            "offset": offset,
        }
        async for data in self.execute_ws(
            query=query, operation_name="StreamEvents", variables=variables, **kwargs
        ):
            yield StreamEvents.model_validate(data)

    async def regenerate_title(self, id: str, **kwargs: Any) -> RegenerateTitle:
        query = gql("""
            mutation RegenerateTitle($id: ID!) {
              regenerateTitle(id: $id) {
                ...ConversationFields
                titleSource
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="RegenerateTitle", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RegenerateTitle.model_validate(data)

    async def mcp_servers(self, **kwargs: Any) -> McpServers:
        query = gql("""
            query McpServers {
              mcpServers {
                ...McpServerFields
              }
            }

            fragment McpServerFields on McpServer {
              name
              transport
              status
              lastError
              tools {
                name
                description
                inputSchema
                approval
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="McpServers", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return McpServers.model_validate(data)

    async def refresh_mcp_server(self, name: str, **kwargs: Any) -> RefreshMcpServer:
        query = gql("""
            mutation RefreshMcpServer($name: String!) {
              refreshMcpServer(name: $name) {
                ...McpServerFields
              }
            }

            fragment McpServerFields on McpServer {
              name
              transport
              status
              lastError
              tools {
                name
                description
                inputSchema
                approval
              }
            }
            """)
        variables: dict[str, object] = {"name": name}
        response = await self.execute(
            query=query,
            operation_name="RefreshMcpServer",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return RefreshMcpServer.model_validate(data)

    async def set_conversation_tools(
        self,
        id: str,
        tools: Union[Optional[list[str]], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> SetConversationTools:
        query = gql("""
            mutation SetConversationTools($id: ID!, $tools: [String!]) {
              setConversationTools(id: $id, tools: $tools) {
                id
                toolsEnabled
              }
            }
            """)
        variables: dict[str, object] = {"id": id, "tools": tools}
        response = await self.execute(
            query=query,
            operation_name="SetConversationTools",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return SetConversationTools.model_validate(data)

    async def decide_tool_call(
        self,
        stream_id: str,
        tool_call_id: str,
        approve: bool,
        remember: bool,
        **kwargs: Any,
    ) -> DecideToolCall:
        query = gql("""
            mutation DecideToolCall($streamId: ID!, $toolCallId: String!, $approve: Boolean!, $remember: Boolean! = false) {
              decideToolCall(
                streamId: $streamId
                toolCallId: $toolCallId
                approve: $approve
                remember: $remember
              ) {
                streamId
                toolCallId
                approved
                remembered
              }
            }
            """)
        variables: dict[str, object] = {
            "streamId": stream_id,
            "toolCallId": tool_call_id,
            "approve": approve,
            "remember": remember,
        }
        response = await self.execute(
            query=query, operation_name="DecideToolCall", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return DecideToolCall.model_validate(data)

    async def export_conversations(
        self,
        conversation_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ExportConversations:
        query = gql("""
            query ExportConversations($conversationIds: [ID!]) {
              exportConversations(conversationIds: $conversationIds)
            }
            """)
        variables: dict[str, object] = {"conversationIds": conversation_ids}
        response = await self.execute(
            query=query,
            operation_name="ExportConversations",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ExportConversations.model_validate(data)

    async def import_conversations(
        self, document: Any, **kwargs: Any
    ) -> ImportConversations:
        query = gql("""
            mutation ImportConversations($document: JSON!) {
              importConversations(document: $document) {
                conversationsCreated
                messagesCreated
                conversations {
                  ...ConversationFields
                }
              }
            }

            fragment ConversationFields on Conversation {
              id
              title
              model
              systemPrompt
              pinned
              archived
              draft
              projectId
              createdAt
              updatedAt
              currentLeafId
              activeStream {
                ...StreamFields
              }
            }

            fragment StreamFields on Stream {
              id
              messageId
              conversationId
              status
              model
              lastSeq
              length
              errorCode
              errorMessage
              createdAt
              finishedAt
            }
            """)
        variables: dict[str, object] = {"document": document}
        response = await self.execute(
            query=query,
            operation_name="ImportConversations",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ImportConversations.model_validate(data)

    async def usage_report(
        self,
        from_: datetime,
        to: datetime,
        granularity: UsageGranularity,
        **kwargs: Any,
    ) -> UsageReport:
        query = gql("""
            query UsageReport($from: DateTime!, $to: DateTime!, $granularity: UsageGranularity! = DAY) {
              usageReport(from: $from, to: $to, granularity: $granularity) {
                periods {
                  start
                  model
                  usage {
                    ...UsageTotalsFields
                  }
                }
                byModel {
                  model
                  usage {
                    ...UsageTotalsFields
                  }
                }
                total {
                  ...UsageTotalsFields
                }
              }
            }

            fragment UsageTotalsFields on UsageTotals {
              inputTokens
              outputTokens
              cacheReadTokens
              cacheWriteTokens
              reasoningTokens
              costMicros
              requests
              estimatedRequests
            }
            """)
        variables: dict[str, object] = {
            "from": from_,
            "to": to,
            "granularity": granularity,
        }
        response = await self.execute(
            query=query, operation_name="UsageReport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return UsageReport.model_validate(data)

    async def me(self, **kwargs: Any) -> Me:
        query = gql("""
            query Me {
              me {
                id
                email
                name
                createdAt
                preferences {
                  defaultModel
                  theme
                  toolsEnabled
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Me", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Me.model_validate(data)

    async def update_preferences(
        self, input: PreferencesInput, **kwargs: Any
    ) -> UpdatePreferences:
        query = gql("""
            mutation UpdatePreferences($input: PreferencesInput!) {
              updatePreferences(input: $input) {
                id
                preferences {
                  defaultModel
                  theme
                  toolsEnabled
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="UpdatePreferences",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return UpdatePreferences.model_validate(data)

    async def usage(self, from_: date, to: date, **kwargs: Any) -> Usage:
        query = gql("""
            query Usage($from: Date!, $to: Date!) {
              usage(from: $from, to: $to) {
                day
                model
                inputTokens
                outputTokens
                requests
              }
            }
            """)
        variables: dict[str, object] = {"from": from_, "to": to}
        response = await self.execute(
            query=query, operation_name="Usage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Usage.model_validate(data)
