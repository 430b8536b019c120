// The benchmark's Node peer: what a JavaScript team would run. graphql-js executes a
// `streamEvents` subscription for each subscriber, graphql-ws serves it over
// graphql-transport-ws (on `ws`), and an in-process pub/sub fans each token out.
//
// `node server.mjs <port>`. POST /go with {tokens, rate, size, filler} streams stamped tokens
// (the same `t<seq>:<unix ns> ` + filler as bench/provider.py) to every subscriber and answers
// when the stream has ended.
import http from "node:http";
import { buildSchema } from "graphql";
import { useServer } from "graphql-ws/lib/use/ws";
import { WebSocketServer } from "ws";

const schema = buildSchema(`
  type Query { ok: Boolean }
  enum StreamStatus { COMPLETED }
  type StreamSnapshot { text: String! }
  type StreamDelta { seq: Int! offset: Int! text: String! }
  type StreamEnd { status: StreamStatus! }
  union StreamEvent = StreamSnapshot | StreamDelta | StreamEnd
  type Subscription { streamEvents(streamId: ID): StreamEvent! }
`);

// Subscribers' queues: each event is pushed to every queue and wakes its waiting reader.
const subscribers = new Set();

async function* streamEvents() {
  const queue = { items: [], wake: null };
  subscribers.add(queue);
  try {
    yield { streamEvents: { __typename: "StreamSnapshot", text: "" } };
    for (;;) {
      while (queue.items.length === 0) {
        await new Promise((resolve) => (queue.wake = resolve));
      }
      const event = queue.items.shift();
      yield { streamEvents: event };
      if (event.__typename === "StreamEnd") return;
    }
  } finally {
    subscribers.delete(queue);
  }
}

function publish(event) {
  for (const queue of subscribers) {
    queue.items.push(event);
    if (queue.wake) {
      queue.wake();
      queue.wake = null;
    }
  }
}

// Wall-clock nanoseconds: Date.now() has millisecond resolution, so catch one millisecond
// boundary once and count from it with the monotonic high-resolution clock.
const epoch = (() => {
  const first = Date.now();
  let now;
  while ((now = Date.now()) === first);
  return BigInt(now) * 1_000_000n - process.hrtime.bigint();
})();
const timeNs = () => epoch + process.hrtime.bigint();

function stamp(seq, size, atNs, filler) {
  const head = `t${seq}:${atNs} `;
  if (size <= head.length) return head;
  const start = (seq * 131) % (filler.length - size);
  return head + filler.slice(start, start + size - head.length);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const turn = () => new Promise((resolve) => setImmediate(resolve));

// Paced like bench/provider.py: token n is due at start + (n - 1) / rate and carries that time.
async function produce({ tokens, rate, size, filler }) {
  let offset = 0;
  const start = timeNs();
  const step = rate > 0 ? 1e9 / rate : 0;
  for (let seq = 1; seq <= tokens; seq++) {
    let at;
    if (rate > 0) {
      at = start + BigInt(Math.round((seq - 1) * step));
      const wait = Number(at - timeNs()) / 1e6;
      if (wait > 0) await sleep(wait);
    } else {
      await turn();
      at = timeNs();
    }
    const text = stamp(seq, size, at, filler);
    publish({ __typename: "StreamDelta", seq, offset, text });
    offset += text.length;
  }
  publish({ __typename: "StreamEnd", status: "COMPLETED" });
  return tokens;
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/go") {
    res.writeHead(req.url === "/health" ? 200 : 404).end();
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const sent = await produce(JSON.parse(Buffer.concat(chunks).toString()));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ tokens: sent }));
  });
});

const wsServer = new WebSocketServer({ server, path: "/graphql", perMessageDeflate: false });
useServer({ schema, roots: { subscription: { streamEvents } } }, wsServer);

const port = Number(process.argv[2]);
server.listen(port, "127.0.0.1", () => console.log(`node graphql-ws peer on ${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
