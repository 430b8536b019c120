// A small graphql-transport-ws client: one websocket for every subscription of the page, the
// token in connection_init (browsers cannot set websocket headers), and reconnection with
// backoff. On reconnect each subscription is sent again with variables computed then, so an
// answer resumes from the offset the page already has.

const PROTOCOL = "graphql-transport-ws";
const AUTH_REJECTED = 4403;

export class Socket {
  constructor(url, { token, onStatus = () => {} }) {
    this.url = url;
    this.token = token;
    this.onStatus = onStatus;
    this.subscriptions = new Map(); // id -> {query, variables(), sink, sent}
    this.nextId = 1;
    this.ws = null;
    this.acked = false;
    this.retries = 0;
    this.closedForGood = false;
  }

  /** Subscribe; `variables` is a function, called each time the operation is (re)sent. */
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { query, variables, sink });
    this.ensureOpen();
    if (this.acked) this.send(id);
    return () => {
      if (this.subscriptions.delete(id) && this.acked) {
        this.ws.send(JSON.stringify({ id, type: "complete" }));
      }
    };
  }

  /** Send one subscription again now (e.g. after the page noticed a gap). */
  restart(id) {
    if (!this.acked || !this.subscriptions.has(id)) return;
    this.ws.send(JSON.stringify({ id, type: "complete" }));
    this.send(id);
  }

  close() {
    this.closedForGood = true;
    if (this.ws) this.ws.close(1000);
  }

  ensureOpen() {
    if (this.ws || this.closedForGood) return;
    const ws = new WebSocket(this.url, PROTOCOL);
    this.ws = ws;
    this.acked = false;
    this.onStatus("connecting");
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${this.token}` } }));
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      this.ws = null;
      this.acked = false;
      if (event.code === AUTH_REJECTED) {
        this.closedForGood = true;
        this.onStatus("rejected");
        return;
      }
      if (this.closedForGood) return;
      this.onStatus("offline");
      const delay = Math.min(10000, 250 * 2 ** this.retries++) * (0.5 + Math.random());
      setTimeout(() => this.ensureOpen(), delay);
    };
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack": {
        const reconnected = this.retries > 0;
        this.acked = true;
        this.retries = 0;
        this.onStatus("online", reconnected);
        for (const id of this.subscriptions.keys()) this.send(id);
        break;
      }
      case "ping":
        this.ws.send(JSON.stringify({ type: "pong" }));
        break;
      case "next":
        this.subscriptions.get(message.id)?.sink.next(message.payload, message.id);
        break;
      case "error": {
        const sub = this.subscriptions.get(message.id);
        this.subscriptions.delete(message.id);
        sub?.sink.error?.(message.payload);
        break;
      }
      case "complete": {
        const sub = this.subscriptions.get(message.id);
        this.subscriptions.delete(message.id);
        sub?.sink.complete?.();
        break;
      }
    }
  }

  send(id) {
    const sub = this.subscriptions.get(id);
    this.ws.send(
      JSON.stringify({ id, type: "subscribe", payload: { query: sub.query, variables: sub.variables() } }),
    );
  }
}
