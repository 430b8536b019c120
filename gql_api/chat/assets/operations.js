// The operations the page sends (the same shapes as clients/operations/*.graphql).

const CONVERSATION_FIELDS = "id title pinned archived updatedAt activeStream { id }";
const MESSAGE_FIELDS = "id conversationId role content status errorMessage attachments { id name }";

export const CONVERSATIONS = `query Conversations($first: Int!) {
  conversations(first: $first) { edges { node { ${CONVERSATION_FIELDS} } } }
}`;

export const CONVERSATION = `query Conversation($id: ID!) { conversation(id: $id) { ${CONVERSATION_FIELDS} } }`;

export const CREATE_CONVERSATION = `mutation CreateConversation($input: CreateConversationInput) {
  createConversation(input: $input) { ${CONVERSATION_FIELDS} }
}`;

export const RENAME_CONVERSATION = `mutation RenameConversation($id: ID!, $title: String!) {
  renameConversation(id: $id, title: $title) { ${CONVERSATION_FIELDS} }
}`;

export const MESSAGES = `query Messages($conversationId: ID!, $last: Int) {
  messages(conversationId: $conversationId, last: $last) { edges { node { ${MESSAGE_FIELDS} } } }
}`;

export const SEND_MESSAGE = `mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) {
    userMessage { ${MESSAGE_FIELDS} }
    assistantMessage { ${MESSAGE_FIELDS} }
    stream { id }
  }
}`;

export const STOP_STREAM = `mutation StopStream($id: ID!) { stopStream(id: $id) { id status } }`;

export const RETRY_MESSAGE = `mutation RetryMessage($id: ID!) {
  retryMessage(id: $id) { assistantMessage { ${MESSAGE_FIELDS} } stream { id } }
}`;

export const UPLOAD_ATTACHMENT = `mutation UploadAttachment($file: Upload!, $conversationId: ID) {
  uploadAttachment(file: $file, conversationId: $conversationId) { id name mediaType size }
}`;

export const ACTIVITY = `subscription Activity {
  activity {
    __typename
    ... on ConversationChanged { change conversation { ${CONVERSATION_FIELDS} } }
    ... on ConversationDeleted { conversationId }
    ... on MessageChanged { change message { ${MESSAGE_FIELDS} } }
    ... on MessageDeleted { messageId conversationId }
    ... on FeedResync { reason }
  }
}`;
