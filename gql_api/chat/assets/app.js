// The reference chat page: conversations, messages, answers streamed over graphql-transport-ws,
// and the user's activity feed keeping every tab in step. Plain ES modules, no build step.
import { Api } from "./api.js";
import { Socket } from "./transport.js";
import { Answers, codePoints } from "./answers.js";
import * as ops from "./operations.js";

const $ = (selector) => document.querySelector(selector);
const TOKEN_KEY = "chatgql.token";
const NEW_TITLE = "New chat";

const state = {
  api: null,
  socket: null,
  conversations: new Map(), // id -> conversation
  current: null, // conversation id
  messages: new Map(), // id -> {id, role, content, length, status, streamId, attachments}
  answers: null, // Answers: the answers being watched
  pending: [], // uploaded attachments for the next message
};
window.chatgql = state; // to look at from the browser's console (the tests use it too)

async function start() {
  let token = localStorage.getItem(TOKEN_KEY);
  if (!token) {
    const response = await fetch("dev-token");
    if (response.ok) token = (await response.json()).token;
    if (token) localStorage.setItem(TOKEN_KEY, token);
  }
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("#token").value.trim());
    location.reload();
  });
  if (!token) {
    $("#token-box").open = true;
    showError("Enter a token (chatgql token --user NAME) to start.");
    return;
  }
  const graphqlUrl = new URL("/graphql", location.href);
  state.api = new Api(graphqlUrl.href, token);
  graphqlUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  state.socket = new Socket(graphqlUrl.href, { token, onStatus: connectionStatus });
  state.answers = new Answers(state.socket, {
    changed: renderMessage,
    failed: (errors) => showError(errors.map((e) => e.message).join("; ")),
  });
  state.socket.subscribe(ops.ACTIVITY, () => ({}), { next: (payload) => onActivity(payload.data?.activity) });

  $("#new-conversation").addEventListener("click", () => run(newConversation));
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    run(send);
  });
  $("#prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      run(send);
    }
  });
  $("#stop").addEventListener("click", () => run(stop));
  $("#attach").addEventListener("change", () => run(upload));
  window.addEventListener("hashchange", () => {
    const id = currentFromHash();
    if (id !== state.current) run(() => openConversation(id));
  });

  await loadConversations();
  await openConversation(currentFromHash());
}

function connectionStatus(status, reconnected) {
  const label = $("#connection");
  label.textContent = status;
  label.className = status;
  if (status === "rejected") tokenRefused();
  // Events may have been missed while offline: read the state again.
  if (reconnected) run(refresh);
}

function tokenRefused() {
  // e.g. expired, or minted with a development secret since deleted: do not keep it.
  localStorage.removeItem(TOKEN_KEY);
  $("#token-box").open = true;
  showError("The token was refused: enter another one, or reload (in development a new one is fetched).");
}

async function refresh() {
  await loadConversations();
  if (state.current) await loadMessages(state.current);
}

function currentFromHash() {
  return new URLSearchParams(location.hash.slice(1)).get("c");
}

async function run(action) {
  try {
    showError("");
    await action();
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") tokenRefused();
    else showError(error.message);
  }
}

function showError(text) {
  $("#error").textContent = text;
  $("#error").hidden = !text;
}

// --- conversations --------------------------------------------------------------------------

async function loadConversations() {
  const data = await state.api.query(ops.CONVERSATIONS, { first: 100 });
  state.conversations = new Map(data.conversations.edges.map((edge) => [edge.node.id, edge.node]));
  renderConversations();
}

function upsertConversation(conversation) {
  if (conversation.archived) state.conversations.delete(conversation.id);
  else state.conversations.set(conversation.id, conversation);
  renderConversations();
  if (conversation.id === state.current) $("#title").textContent = conversation.title;
}

function renderConversations() {
  const sorted = [...state.conversations.values()].sort(
    (a, b) => Number(b.pinned) - Number(a.pinned) || b.updatedAt.localeCompare(a.updatedAt),
  );
  $("#conversations").replaceChildren(
    ...sorted.map((conversation) => {
      const item = document.createElement("li");
      item.textContent = conversation.title;
      item.dataset.conversationId = conversation.id;
      item.classList.toggle("current", conversation.id === state.current);
      item.classList.toggle("pinned", conversation.pinned);
      item.addEventListener("click", () => (location.hash = `c=${conversation.id}`));
      return item;
    }),
  );
}

async function newConversation() {
  const data = await state.api.query(ops.CREATE_CONVERSATION, { input: { title: NEW_TITLE } });
  upsertConversation(data.createConversation);
  await openConversation(data.createConversation.id);
  location.hash = `c=${data.createConversation.id}`;
  $("#prompt").focus();
}

async function openConversation(id) {
  state.answers.stopAll();
  state.messages.clear();
  state.pending = [];
  renderPending();
  state.current = id;
  renderConversations();
  renderMessages();
  if (!id) {
    $("#title").textContent = "Pick a chat, or start a new one";
    return;
  }
  await loadMessages(id);
}

async function loadMessages(id) {
  const [{ conversation }, { messages }] = await Promise.all([
    state.api.query(ops.CONVERSATION, { id }),
    state.api.query(ops.MESSAGES, { conversationId: id, last: 100 }),
  ]);
  if (state.current !== id) return;
  $("#title").textContent = conversation.title;
  for (const edge of messages.edges) upsertMessage(edge.node);
  renderMessages();
}

// --- messages and answers -------------------------------------------------------------------

function upsertMessage(message) {
  if (message.conversationId !== state.current) return;
  const known = state.messages.get(message.id);
  if (known && state.answers.watching(message.id)) {
    // The stream subscription owns the text of an answer it watches; the feed may lag it.
    known.attachments = message.attachments ?? known.attachments;
  } else {
    state.messages.set(message.id, {
      ...known,
      ...message,
      length: codePoints(message.content),
    });
  }
  const stored = state.messages.get(message.id);
  if (stored.role === "ASSISTANT" && stored.status === "STREAMING") state.answers.watch(stored);
  renderMessage(stored);
}

function renderMessages() {
  $("#messages").replaceChildren();
  for (const message of state.messages.values()) renderMessage(message);
}

function renderMessage(message) {
  let element = document.querySelector(`.message[data-message-id="${message.id}"]`);
  if (!element) {
    element = document.createElement("article");
    element.className = "message";
    element.dataset.messageId = message.id;
    element.innerHTML = '<div class="text"></div><div class="attachments"></div><div class="meta"><span class="status"></span></div>';
    $("#messages").append(element);
  }
  element.dataset.role = message.role;
  element.dataset.status = message.status;
  element.querySelector(".text").textContent = message.content;
  element.querySelector(".attachments").textContent = (message.attachments ?? []).map((a) => `📎 ${a.name}`).join("  ");
  const status = element.querySelector(".status");
  status.textContent = message.status === "COMPLETE" ? "" : message.status.toLowerCase();
  if (message.errorMessage) status.textContent += `: ${message.errorMessage}`;
  const meta = element.querySelector(".meta");
  meta.querySelector(".retry")?.remove();
  if (message.role === "ASSISTANT" && message.status !== "STREAMING") {
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.textContent = "Retry";
    retry.addEventListener("click", () => run(() => retryAnswer(message)));
    meta.append(retry);
  }
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
  $("#stop").hidden = ![...state.messages.values()].some((m) => m.status === "STREAMING");
}

async function send() {
  const content = $("#prompt").value.trim();
  if (!content) return;
  if (!state.current) await newConversation();
  const input = {
    conversationId: state.current,
    content,
    clientMessageId: crypto.randomUUID(),
    attachmentIds: state.pending.map((a) => a.id),
  };
  const { sendMessage } = await state.api.query(ops.SEND_MESSAGE, { input });
  $("#prompt").value = "";
  const conversation = state.conversations.get(state.current);
  if (conversation?.title === NEW_TITLE) {
    // Name the chat after its first message (every tab hears of it through the activity feed).
    const title = content.replace(/\s+/g, " ").slice(0, 60);
    upsertConversation((await state.api.query(ops.RENAME_CONVERSATION, { id: state.current, title })).renameConversation);
  }
  state.pending = [];
  renderPending();
  upsertMessage(sendMessage.userMessage);
  upsertMessage(sendMessage.assistantMessage);
}

async function stop() {
  const streaming = [...state.messages.values()].filter((m) => m.status === "STREAMING");
  for (const message of streaming) {
    let streamId = message.streamId;
    if (!streamId) streamId = (await state.api.query(ops.CONVERSATION, { id: state.current })).conversation.activeStream?.id;
    if (streamId) await state.api.query(ops.STOP_STREAM, { id: streamId });
  }
}

async function retryAnswer(message) {
  const { retryMessage } = await state.api.query(ops.RETRY_MESSAGE, { id: message.id });
  const answer = retryMessage.assistantMessage;
  // The new answer is a sibling of the old one, which leaves the current path: it takes its place.
  state.answers.stop(message.id);
  state.messages.delete(message.id);
  document.querySelector(`.message[data-message-id="${message.id}"]`)?.remove();
  upsertMessage({ ...answer, content: "" });
}

async function upload() {
  const file = $("#attach").files[0];
  if (!file) return;
  if (!state.current) await newConversation();
  const { uploadAttachment } = await state.api.upload(ops.UPLOAD_ATTACHMENT, { conversationId: state.current }, file);
  $("#attach").value = "";
  state.pending.push(uploadAttachment);
  renderPending();
}

function renderPending() {
  $("#pending-attachments").replaceChildren(
    ...state.pending.map((attachment) => {
      const item = document.createElement("li");
      item.textContent = `📎 ${attachment.name}`;
      return item;
    }),
  );
}

// --- the activity feed: what other tabs and devices did -------------------------------------

function onActivity(event) {
  if (!event) return;
  switch (event.__typename) {
    case "ConversationChanged":
      upsertConversation(event.conversation);
      break;
    case "ConversationDeleted":
      state.conversations.delete(event.conversationId);
      renderConversations();
      if (event.conversationId === state.current) location.hash = "";
      break;
    case "MessageChanged":
      upsertMessage(event.message);
      break;
    case "MessageDeleted":
      if (state.messages.delete(event.messageId)) renderMessages();
      break;
    case "FeedResync":
      run(refresh);
      break;
  }
}

run(start);
