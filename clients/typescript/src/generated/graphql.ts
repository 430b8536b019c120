/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type AddMessageInput = {
  /** Idempotency key: the same id again returns the same message. */
  clientMessageId?: string | null | undefined;
  content: string;
  conversationId: string | number;
  role?: AuthorRole;
};

export type AuthorRole =
  | 'SYSTEM'
  | 'USER';

/** What happened; one enum for every kind of event. */
export type Change =
  | 'ADDED'
  | 'ARCHIVED'
  | 'CREATED'
  | 'DRAFT_SAVED'
  | 'FINISHED'
  | 'MOVED'
  | 'PINNED'
  | 'RENAMED'
  | 'STARTED'
  | 'TOOLS_CHOSEN'
  | 'UPDATED';

export type CreateConversationInput = {
  model?: string | null | undefined;
  projectId?: string | number | null | undefined;
  systemPrompt?: string | null | undefined;
  title?: string | null | undefined;
};

export type EditAndResendInput = {
  /** Idempotency key: the same id again returns the same rows. */
  clientMessageId?: string | null | undefined;
  content: string;
  /** The user message to edit. */
  messageId: string | number;
  model?: string | null | undefined;
};

export type MessageStatus =
  | 'CANCELLED'
  | 'COMPLETE'
  | 'FAILED'
  | 'INTERRUPTED'
  | 'STREAMING';

export type PreferencesInput = {
  defaultModel?: string | null | undefined;
  theme?: Theme | null | undefined;
  toolsEnabled?: Array<string> | null | undefined;
};

/** Feedback on an answer. */
export type Rating =
  | 'DOWN'
  | 'UP';

export type Role =
  | 'ASSISTANT'
  | 'SYSTEM'
  | 'USER';

export type SendMessageInput = {
  attachmentIds?: Array<string | number> | null | undefined;
  /** Idempotency key: sending the same id again returns the same rows. */
  clientMessageId?: string | null | undefined;
  content: string;
  conversationId: string | number;
  model?: string | null | undefined;
};

export type StreamStatus =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'INTERRUPTED'
  | 'PENDING'
  | 'STREAMING';

export type Theme =
  | 'DARK'
  | 'LIGHT'
  | 'SYSTEM';

/** Who chose a conversation's title. */
export type TitleSource =
  | 'DEFAULT'
  | 'GENERATED'
  | 'USER';

export type ToolCallState =
  | 'CANCELLED'
  | 'DENIED'
  | 'DONE'
  | 'PENDING_APPROVAL'
  | 'RUNNING';

export type UsageGranularity =
  | 'DAY'
  | 'HOUR';

export type UploadAttachmentMutationVariables = Exact<{
  file: File | Blob;
  conversationId?: string | number | null | undefined;
}>;


export type UploadAttachmentMutation = { uploadAttachment: { id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string } };

export type DeleteAttachmentMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteAttachmentMutation = { deleteAttachment: { id: string } };

export type AttachmentQueryVariables = Exact<{
  id: string | number;
}>;


export type AttachmentQuery = { attachment: { id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string } };

export type AttachmentsQueryVariables = Exact<{
  conversationId?: string | number | null | undefined;
  messageId?: string | number | null | undefined;
}>;


export type AttachmentsQuery = { attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> };

export type AttachmentStorageQueryVariables = Exact<{ [key: string]: never; }>;


export type AttachmentStorageQuery = { attachmentStorage: { usedBytes: number, quotaBytes: number, maxUploadBytes: number, allowedMediaTypes: Array<string> } };

export type EditAndResendMutationVariables = Exact<{
  input: EditAndResendInput;
}>;


export type EditAndResendMutation = { editAndResend: { userMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
        | { __typename: 'TextPart', text: string }
        | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
      >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> }, assistantMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
        | { __typename: 'TextPart', text: string }
        | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
      >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> }, stream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } } };

export type SelectBranchMutationVariables = Exact<{
  messageId: string | number;
}>;


export type SelectBranchMutation = { selectBranch: { leafId: string, conversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } } };

export type ForkConversationMutationVariables = Exact<{
  messageId: string | number;
}>;


export type ForkConversationMutation = { forkConversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type ConversationsQueryVariables = Exact<{
  first?: number;
  after?: string | null | undefined;
  archived?: boolean | null | undefined;
  projectId?: string | number | null | undefined;
  search?: string | null | undefined;
}>;


export type ConversationsQuery = { conversations: { edges: Array<{ cursor: string, node: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, lastMessage: { id: string, role: Role, content: string, status: MessageStatus, createdAt: string } | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } }>, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null } } };

export type ConversationQueryVariables = Exact<{
  id: string | number;
}>;


export type ConversationQuery = { conversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, project: { id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string } | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type CreateConversationMutationVariables = Exact<{
  input?: CreateConversationInput | null | undefined;
}>;


export type CreateConversationMutation = { createConversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type RenameConversationMutationVariables = Exact<{
  id: string | number;
  title: string;
}>;


export type RenameConversationMutation = { renameConversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type SetConversationPinnedMutationVariables = Exact<{
  id: string | number;
  pinned: boolean;
}>;


export type SetConversationPinnedMutation = { setConversationPinned: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type SetConversationArchivedMutationVariables = Exact<{
  id: string | number;
  archived: boolean;
}>;


export type SetConversationArchivedMutation = { setConversationArchived: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type SaveDraftMutationVariables = Exact<{
  id: string | number;
  draft?: string | null | undefined;
}>;


export type SaveDraftMutation = { saveDraft: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type MoveConversationMutationVariables = Exact<{
  id: string | number;
  projectId?: string | number | null | undefined;
}>;


export type MoveConversationMutation = { moveConversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type DeleteConversationMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteConversationMutation = { deleteConversation: { id: string } };

export type RateMessageMutationVariables = Exact<{
  id: string | number;
  rating?: Rating | null | undefined;
  comment?: string | null | undefined;
}>;


export type RateMessageMutation = { rateMessage: { id: string, feedback: { rating: Rating, comment: string | null, ratedAt: string } | null } };

export type ActivitySubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ActivitySubscription = { activity:
    | { __typename: 'BranchSelected', conversationId: string, leafId: string }
    | { __typename: 'ConversationChanged', change: Change, conversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } }
    | { __typename: 'ConversationDeleted', conversationId: string }
    | { __typename: 'FeedResync', reason: string }
    | { __typename: 'MessageChanged', change: Change, message: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
          | { __typename: 'TextPart', text: string }
          | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
        >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> } }
    | { __typename: 'MessageDeleted', messageId: string, conversationId: string }
    | { __typename: 'ProjectChanged', change: Change, project: { id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string } }
    | { __typename: 'ProjectDeleted', projectId: string }
    | { __typename: 'StreamChanged', change: Change, stream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } }
   };

export type ConversationEventsSubscriptionVariables = Exact<{
  conversationId: string | number;
}>;


export type ConversationEventsSubscription = { conversationEvents:
    | { __typename: 'BranchSelected', conversationId: string, leafId: string }
    | { __typename: 'ConversationDeleted', conversationId: string }
    | { __typename: 'FeedResync', reason: string }
    | { __typename: 'MessageChanged', change: Change, message: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
          | { __typename: 'TextPart', text: string }
          | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
        >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> } }
    | { __typename: 'MessageDeleted', messageId: string, conversationId: string }
   };

export type ProjectFieldsFragment = { id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string };

export type StreamFieldsFragment = { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null };

export type ConversationFieldsFragment = { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null };

export type AttachmentFieldsFragment = { id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string };

export type ToolCallFieldsFragment = { id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> };

export type MessageFieldsFragment = { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
    | { __typename: 'TextPart', text: string }
    | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
  >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> };

export type MessagesQueryVariables = Exact<{
  conversationId: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  leafId?: string | number | null | undefined;
}>;


export type MessagesQuery = { messages: { edges: Array<{ cursor: string, node: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
          | { __typename: 'TextPart', text: string }
          | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
        >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> } }>, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null } } };

export type MessageQueryVariables = Exact<{
  id: string | number;
}>;


export type MessageQuery = { message: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
      | { __typename: 'TextPart', text: string }
      | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
    >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> } };

export type AddMessageMutationVariables = Exact<{
  input: AddMessageInput;
}>;


export type AddMessageMutation = { addMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
      | { __typename: 'TextPart', text: string }
      | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
    >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> } };

export type EditMessageMutationVariables = Exact<{
  id: string | number;
  content: string;
}>;


export type EditMessageMutation = { editMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
      | { __typename: 'TextPart', text: string }
      | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
    >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> } };

export type DeleteMessageMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteMessageMutation = { deleteMessage: { id: string } };

export type SendMessageMutationVariables = Exact<{
  input: SendMessageInput;
}>;


export type SendMessageMutation = { sendMessage: { userMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
        | { __typename: 'TextPart', text: string }
        | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
      >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> }, assistantMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
        | { __typename: 'TextPart', text: string }
        | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
      >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> }, stream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } } };

export type RetryMessageMutationVariables = Exact<{
  id: string | number;
  model?: string | null | undefined;
}>;


export type RetryMessageMutation = { retryMessage: { userMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
        | { __typename: 'TextPart', text: string }
        | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
      >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> }, assistantMessage: { id: string, conversationId: string, role: Role, content: string, status: MessageStatus, model: string | null, clientMessageId: string | null, replyToId: string | null, parentId: string | null, errorCode: string | null, errorMessage: string | null, createdAt: string, editedAt: string | null, usage: { inputTokens: number, outputTokens: number }, siblings: { index: number, count: number, ids: Array<string> }, parts: Array<
        | { __typename: 'TextPart', text: string }
        | { __typename: 'ToolCallPart', id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }
      >, attachments: Array<{ id: string, name: string, mediaType: string, size: number, sha256: string, createdAt: string, conversationId: string | null, messageId: string | null, downloadUrl: string }> }, stream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } } };

export type ContinueMessageMutationVariables = Exact<{
  id: string | number;
}>;


export type ContinueMessageMutation = { continueMessage: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } };

export type ProjectsQueryVariables = Exact<{ [key: string]: never; }>;


export type ProjectsQuery = { projects: Array<{ id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string }> };

export type ProjectQueryVariables = Exact<{
  id: string | number;
}>;


export type ProjectQuery = { project: { id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string } };

export type CreateProjectMutationVariables = Exact<{
  name: string;
}>;


export type CreateProjectMutation = { createProject: { id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string } };

export type RenameProjectMutationVariables = Exact<{
  id: string | number;
  name: string;
}>;


export type RenameProjectMutation = { renameProject: { id: string, name: string, conversationCount: number, createdAt: string, updatedAt: string } };

export type DeleteProjectMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteProjectMutation = { deleteProject: { id: string } };

export type ModelsQueryVariables = Exact<{ [key: string]: never; }>;


export type ModelsQuery = { models: Array<{ id: string, provider: string, displayName: string, contextWindow: number | null, maxOutputTokens: number, capabilities: { tools: boolean, vision: boolean, reasoning: boolean, promptCaching: boolean }, pricing: { input: number | null, output: number | null, cacheRead: number | null, cacheWrite: number | null } }> };

export type ProviderKeyFieldsFragment = { id: string, provider: string, lastFour: string, baseUrl: string | null, createdAt: string, lastUsedAt: string | null, lastError: string | null, lastErrorAt: string | null };

export type ProviderKeysQueryVariables = Exact<{ [key: string]: never; }>;


export type ProviderKeysQuery = { providerKeys: Array<{ id: string, provider: string, lastFour: string, baseUrl: string | null, createdAt: string, lastUsedAt: string | null, lastError: string | null, lastErrorAt: string | null }> };

export type SetProviderKeyMutationVariables = Exact<{
  provider: string;
  apiKey: string;
  baseUrl?: string | null | undefined;
}>;


export type SetProviderKeyMutation = { setProviderKey: { id: string, provider: string, lastFour: string, baseUrl: string | null, createdAt: string, lastUsedAt: string | null, lastError: string | null, lastErrorAt: string | null } };

export type DeleteProviderKeyMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteProviderKeyMutation = { deleteProviderKey: { id: string } };

export type SearchQueryVariables = Exact<{
  query: string;
  first?: number;
  after?: string | null | undefined;
}>;


export type SearchQuery = { search: { edges: Array<{ cursor: string, node: { snippet: string, score: number, conversation: { id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null }, message: { id: string, role: Role, content: string, createdAt: string } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ShareLinkFieldsFragment = { id: string, conversationId: string, upToMessageId: string, title: string, createdAt: string, expiresAt: string | null, revokedAt: string | null, active: boolean };

export type CreateShareLinkMutationVariables = Exact<{
  conversationId: string | number;
  upToMessageId: string | number;
  expiresAt?: string | null | undefined;
}>;


export type CreateShareLinkMutation = { createShareLink: { token: string, link: { id: string, conversationId: string, upToMessageId: string, title: string, createdAt: string, expiresAt: string | null, revokedAt: string | null, active: boolean } } };

export type ShareLinksQueryVariables = Exact<{
  conversationId?: string | number | null | undefined;
}>;


export type ShareLinksQuery = { shareLinks: Array<{ id: string, conversationId: string, upToMessageId: string, title: string, createdAt: string, expiresAt: string | null, revokedAt: string | null, active: boolean }> };

export type RevokeShareLinkMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeShareLinkMutation = { revokeShareLink: { id: string, conversationId: string, upToMessageId: string, title: string, createdAt: string, expiresAt: string | null, revokedAt: string | null, active: boolean } };

export type SharedConversationQueryVariables = Exact<{
  token: string;
}>;


export type SharedConversationQuery = { sharedConversation: { title: string, sharedAt: string, messages: Array<{ role: Role, content: string, model: string | null, createdAt: string, attachments: Array<{ name: string, mediaType: string, size: number, downloadUrl: string }> }> } };

export type StreamQueryVariables = Exact<{
  id: string | number;
}>;


export type StreamQuery = { stream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } };

export type ActiveStreamsQueryVariables = Exact<{ [key: string]: never; }>;


export type ActiveStreamsQuery = { activeStreams: Array<{ id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null }> };

export type StopStreamMutationVariables = Exact<{
  id: string | number;
}>;


export type StopStreamMutation = { stopStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } };

export type StreamEventsSubscriptionVariables = Exact<{
  streamId?: string | number | null | undefined;
  messageId?: string | number | null | undefined;
  offset?: number;
}>;


export type StreamEventsSubscription = { streamEvents:
    | { __typename: 'StreamDelta', seq: number, offset: number, text: string }
    | { __typename: 'StreamEnd', status: StreamStatus, seq: number, length: number, errorCode: string | null, errorMessage: string | null, usage: { inputTokens: number, outputTokens: number } }
    | { __typename: 'StreamSnapshot', streamId: string, messageId: string, status: StreamStatus, seq: number, offset: number, text: string, length: number, toolCalls: Array<{ id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> }> }
    | { __typename: 'StreamToolCall', seq: number, offset: number, toolCall: { id: string, name: string, input: unknown, state: ToolCallState, server: string | null, tool: string, result: string | null, isError: boolean, structuredContent: unknown, truncated: boolean, startedAt: string | null, finishedAt: string | null, images: Array<{ mediaType: string, data: string }> } }
   };

export type RegenerateTitleMutationVariables = Exact<{
  id: string | number;
}>;


export type RegenerateTitleMutation = { regenerateTitle: { titleSource: TitleSource, id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null } };

export type McpServerFieldsFragment = { name: string, transport: string, status: string, lastError: string | null, tools: Array<{ name: string, description: string, inputSchema: unknown, approval: string }> };

export type McpServersQueryVariables = Exact<{ [key: string]: never; }>;


export type McpServersQuery = { mcpServers: Array<{ name: string, transport: string, status: string, lastError: string | null, tools: Array<{ name: string, description: string, inputSchema: unknown, approval: string }> }> };

export type RefreshMcpServerMutationVariables = Exact<{
  name: string;
}>;


export type RefreshMcpServerMutation = { refreshMcpServer: { name: string, transport: string, status: string, lastError: string | null, tools: Array<{ name: string, description: string, inputSchema: unknown, approval: string }> } };

export type SetConversationToolsMutationVariables = Exact<{
  id: string | number;
  tools?: Array<string> | string | null | undefined;
}>;


export type SetConversationToolsMutation = { setConversationTools: { id: string, toolsEnabled: Array<string> | null } };

export type DecideToolCallMutationVariables = Exact<{
  streamId: string | number;
  toolCallId: string;
  approve: boolean;
  remember?: boolean;
}>;


export type DecideToolCallMutation = { decideToolCall: { streamId: string, toolCallId: string, approved: boolean, remembered: boolean } };

export type ExportConversationsQueryVariables = Exact<{
  conversationIds?: Array<string | number> | string | number | null | undefined;
}>;


export type ExportConversationsQuery = { exportConversations: unknown };

export type ImportConversationsMutationVariables = Exact<{
  document: unknown;
}>;


export type ImportConversationsMutation = { importConversations: { conversationsCreated: number, messagesCreated: number, conversations: Array<{ id: string, title: string, model: string | null, systemPrompt: string | null, pinned: boolean, archived: boolean, draft: string | null, projectId: string | null, createdAt: string, updatedAt: string, currentLeafId: string | null, activeStream: { id: string, messageId: string, conversationId: string, status: StreamStatus, model: string | null, lastSeq: number, length: number, errorCode: string | null, errorMessage: string | null, createdAt: string, finishedAt: string | null } | null }> } };

export type UsageTotalsFieldsFragment = { inputTokens: number, outputTokens: number, cacheReadTokens: number, cacheWriteTokens: number, reasoningTokens: number, costMicros: number, requests: number, estimatedRequests: number };

export type UsageReportQueryVariables = Exact<{
  from: string;
  to: string;
  granularity?: UsageGranularity;
}>;


export type UsageReportQuery = { usageReport: { periods: Array<{ start: string, model: string, usage: { inputTokens: number, outputTokens: number, cacheReadTokens: number, cacheWriteTokens: number, reasoningTokens: number, costMicros: number, requests: number, estimatedRequests: number } }>, byModel: Array<{ model: string, usage: { inputTokens: number, outputTokens: number, cacheReadTokens: number, cacheWriteTokens: number, reasoningTokens: number, costMicros: number, requests: number, estimatedRequests: number } }>, total: { inputTokens: number, outputTokens: number, cacheReadTokens: number, cacheWriteTokens: number, reasoningTokens: number, costMicros: number, requests: number, estimatedRequests: number } } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, email: string | null, name: string | null, createdAt: string, preferences: { defaultModel: string | null, theme: Theme, toolsEnabled: Array<string> } } };

export type UpdatePreferencesMutationVariables = Exact<{
  input: PreferencesInput;
}>;


export type UpdatePreferencesMutation = { updatePreferences: { id: string, preferences: { defaultModel: string | null, theme: Theme, toolsEnabled: Array<string> } } };

export type UsageQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type UsageQuery = { usage: Array<{ day: string, model: string, inputTokens: number, outputTokens: number, requests: number }> };
