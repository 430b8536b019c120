// A typed use of the generated operation types: how a client keeps the text of an answer from
// the events of `StreamEvents` (see the README, "Watching an answer"). tsc --strict checks it
// against src/generated/graphql.ts, so a schema change that breaks clients breaks this build.
import type {
  StreamEventsSubscription,
  StreamEventsSubscriptionVariables,
  StreamStatus,
} from "./generated/graphql";

export type StreamEvent = StreamEventsSubscription["streamEvents"];

export interface Answer {
  /** The text held so far; its length (in code points) is the offset to resume from. */
  text: string;
  status: StreamStatus | null;
  ended: boolean;
}

export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Variables to (re)subscribe with: the offset is what the client already has. */
export function resumeVariables(streamId: string, answer: Answer): StreamEventsSubscriptionVariables {
  return { streamId, offset: codePoints(answer.text) };
}

/** Fold one event into the answer. Events never overlap what the client has, by contract. */
export function applyEvent(answer: Answer, event: StreamEvent): Answer {
  switch (event.__typename) {
    case "StreamSnapshot":
      return { ...answer, text: answer.text + event.text, status: event.status };
    case "StreamDelta":
      return { ...answer, text: answer.text + event.text };
    case "StreamToolCall":
      return answer;
    case "StreamEnd": {
      // The saved length is the truth: cut back text that was streamed but never saved.
      const kept = Array.from(answer.text).slice(0, event.length).join("");
      return { text: kept, status: event.status, ended: true };
    }
  }
}
