// Runs one query through Apollo Client with its automatic persisted queries link, and prints
// what went over the wire: one JSON line per request ({method, hashOnly}), then the result.
// Usage: node apollo_apq.mjs URL TOKEN [get]
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [url, token, mode] = process.argv.slice(2);
const sent = [];

async function recordingFetch(input, init) {
  const target = new URL(input);
  let body = {};
  if (init.method === "GET") {
    body.query = target.searchParams.get("query") ?? undefined;
  } else {
    body = JSON.parse(init.body);
  }
  sent.push({ method: init.method, hashOnly: body.query === undefined });
  return fetch(input, init);
}

const link = new PersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: mode === "get",
}).concat(
  new HttpLink({ uri: url, fetch: recordingFetch, headers: { authorization: `Bearer ${token}` } }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });
const result = await client.query({
  query: gql`
    query ApqMe {
      me {
        id
        name
      }
    }
  `,
  fetchPolicy: "network-only",
});
for (const request of sent) console.log(JSON.stringify(request));
console.log(JSON.stringify({ data: result.data, error: result.error?.message ?? null }));
