// Unit tests of the chat page's answers.js (run by tests/test_chat_page.py under node --test):
// how events fold into an answer when frames overlap, leave a gap, or end shorter than shown.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Answers, codePoints } from "../../gql_api/chat/assets/answers.js";

class FakeSocket {
  constructor() {
    this.subscriptions = [];
    this.restarts = [];
  }
  subscribe(query, variables, sink) {
    this.subscriptions.push({ query, variables, sink });
    return () => {};
  }
  restart(id) {
    this.restarts.push(id);
  }
  /** Deliver one event to the latest subscription, as subscription "7". */
  deliver(event) {
    this.subscriptions.at(-1).sink.next({ data: { streamEvents: event } }, "7");
  }
}

function watched(content = "") {
  const socket = new FakeSocket();
  const answers = new Answers(socket, { changed: () => {}, failed: () => {} });
  const message = { id: "m1", content, length: codePoints(content), status: "STREAMING" };
  answers.watch(message);
  return { socket, answers, message };
}

test("subscribes from the offset the page has, computed at each (re)send", () => {
  const { socket, message } = watched("héllo 👋");
  assert.deepEqual(socket.subscriptions[0].variables(), { messageId: "m1", offset: 7 });
  socket.deliver({ __typename: "StreamDelta", offset: 7, text: "!" });
  assert.deepEqual(socket.subscriptions[0].variables(), { messageId: "m1", offset: 8 });
  assert.equal(message.content, "héllo 👋!");
});

test("a snapshot, deltas and an end make the whole text once", () => {
  const { socket, message } = watched("ab");
  socket.deliver({ __typename: "StreamSnapshot", streamId: "s1", offset: 2, text: "cd", status: "STREAMING" });
  socket.deliver({ __typename: "StreamDelta", offset: 4, text: "e😀" });
  socket.deliver({ __typename: "StreamDelta", offset: 6, text: "f" });
  socket.deliver({ __typename: "StreamEnd", status: "COMPLETED", length: 7, errorMessage: null });
  assert.equal(message.content, "abcde😀f");
  assert.equal(message.status, "COMPLETE");
  assert.equal(message.streamId, "s1");
});

test("text the page already has is not added twice", () => {
  const { socket, message } = watched("abc");
  socket.deliver({ __typename: "StreamDelta", offset: 1, text: "bcd" }); // overlaps by two
  socket.deliver({ __typename: "StreamDelta", offset: 0, text: "ab" }); // all known
  assert.equal(message.content, "abcd");
  assert.equal(message.length, 4);
});

test("a gap asks again from what the page has instead of skipping text", () => {
  const { socket, message } = watched("abc");
  socket.deliver({ __typename: "StreamDelta", offset: 5, text: "fg" });
  assert.equal(message.content, "abc");
  assert.deepEqual(socket.restarts, ["7"]);
});

test("an end shorter than the text shown cuts it back to what was saved", () => {
  const { socket, message } = watched("abc😀ef");
  socket.deliver({ __typename: "StreamEnd", status: "INTERRUPTED", length: 4, errorMessage: "lost" });
  assert.equal(message.content, "abc😀");
  assert.equal(message.length, 4);
  assert.equal(message.status, "INTERRUPTED");
});
