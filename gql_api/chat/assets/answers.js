// Answers being written: one streamEvents subscription per answer, from the offset the page
// already has (a snapshot of the rest, live deltas, one end), whether the page just loaded,
// reloaded mid-answer or reconnected.

const END_STATUS = { COMPLETED: "COMPLETE", CANCELLED: "CANCELLED", FAILED: "FAILED", INTERRUPTED: "INTERRUPTED" };

export const STREAM_EVENTS = `subscription StreamEvents($messageId: ID, $offset: Int!) {
  streamEvents(messageId: $messageId, offset: $offset) {
    __typename
    ... on StreamSnapshot { streamId offset text status }
    ... on StreamDelta { offset text }
    ... on StreamEnd { status length errorMessage }
  }
}`;

/** Length in Unicode code points: the unit of the server's offsets. */
export const codePoints = (text) => Array.from(text).length;

export class Answers {
  constructor(socket, { changed, failed }) {
    this.socket = socket;
    this.changed = changed; // (message) => void, after its text or status changed
    this.failed = failed;
    this.subscriptions = new Map(); // message id -> unsubscribe
  }

  watching(messageId) {
    return this.subscriptions.has(messageId);
  }

  /** `message` ({id, content, length, status}) is updated in place as events arrive. */
  watch(message) {
    if (this.subscriptions.has(message.id)) return;
    const unsubscribe = this.socket.subscribe(
      STREAM_EVENTS,
      // Computed at every (re)send: after a reconnect the answer resumes where the page is.
      () => ({ messageId: message.id, offset: message.length }),
      {
        next: (payload, subscriptionId) => {
          const event = payload.data?.streamEvents;
          if (event) this.apply(message, event, () => this.socket.restart(subscriptionId));
        },
        error: (errors) => {
          this.subscriptions.delete(message.id);
          this.failed(errors);
        },
        complete: () => {
          this.subscriptions.delete(message.id);
          this.changed(message);
        },
      },
    );
    this.subscriptions.set(message.id, unsubscribe);
  }

  stop(messageId) {
    this.subscriptions.get(messageId)?.();
    this.subscriptions.delete(messageId);
  }

  stopAll() {
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
  }

  apply(message, event, resubscribe) {
    switch (event.__typename) {
      case "StreamSnapshot":
        message.streamId = event.streamId;
        append(message, event.offset, event.text, resubscribe);
        break;
      case "StreamDelta":
        append(message, event.offset, event.text, resubscribe);
        break;
      case "StreamEnd":
        // The saved length is the truth: cut back text that was streamed but never saved.
        if (message.length > event.length) {
          message.content = Array.from(message.content).slice(0, event.length).join("");
          message.length = event.length;
        }
        message.status = END_STATUS[event.status] ?? event.status;
        message.errorMessage = event.errorMessage;
        break;
    }
    this.changed(message);
  }
}

/** Add the part of `text` (which starts at `offset`) that the message does not have yet. */
function append(message, offset, text, resubscribe) {
  if (offset > message.length) {
    resubscribe(); // a gap (a frame from before a restart): ask again from what the page has
    return;
  }
  const fresh = Array.from(text).slice(message.length - offset);
  if (fresh.length) {
    message.content += fresh.join("");
    message.length += fresh.length;
  }
}
