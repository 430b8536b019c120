"""A page on another origin uses chatgql from headless Chromium: a query, a live subscription
(graphql-ws's own browser client, from tests/js) and an upload; a page on an origin that is
not allowed can do none of them."""

from __future__ import annotations

import asyncio
import functools
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import chromium, require_chromium
from tests.conftest import make_settings
from tests.js_tools import js_tools  # noqa: F401
from tests.support import ApiServer, start_api

PAGE = "<!doctype html><title>another app</title><script src='graphql-ws.js'></script>"

# Runs in the page (arguments: API base URL, token, an answer to watch when the page cannot
# send one). Each step reports what it got, or the error the browser gave.
SCENARIO = """
const [api, token, preparedMessageId, done] = arguments;
const auth = {Authorization: `Bearer ${token}`};
async function graphql(query, variables) {
  const response = await fetch(`${api}/graphql`, {
    method: "POST",
    headers: {...auth, "Content-Type": "application/json"},
    body: JSON.stringify({query, variables}),
  });
  return response.json();
}
async function attempt(step) {
  try { return await step(); } catch (error) { return {failed: String(error)}; }
}
function watch(messageId) {
  return new Promise((resolve) => {
    const events = [];
    const client = graphqlWs.createClient({
      url: api.replace("http", "ws") + "/graphql",
      connectionParams: {authorization: `Bearer ${token}`},
      retryAttempts: 0,
      lazy: true,
    });
    client.subscribe(
      {query: `subscription ($id: ID!) { streamEvents(messageId: $id) { __typename
        ... on StreamEnd { status } } }`, variables: {id: messageId}},
      {
        next: (event) => events.push(event.data.streamEvents.__typename),
        error: (error) => {
          client.dispose();
          resolve({failed: String(error.type || error), events});
        },
        complete: () => {
          client.dispose();
          resolve({events});
        },
      },
    );
  });
}
(async () => {
  const result = {};
  result.query = await attempt(() => graphql("{ me { name } }"));
  const conversation = await attempt(() => graphql("mutation { createConversation { id } }"));
  result.conversation = conversation;
  let messageId = preparedMessageId;
  if (conversation.data) {
    const sent = await graphql(
      `mutation ($c: ID!) { sendMessage(input: {conversationId: $c, content: "hi"}) {
         assistantMessage { id } } }`, {c: conversation.data.createConversation.id});
    messageId = sent.data.sendMessage.assistantMessage.id;
  }
  result.subscription = await watch(messageId);
  result.upload = await attempt(async () => {
    const form = new FormData();
    form.append("operations", JSON.stringify({
      query: "mutation ($file: Upload!) { uploadAttachment(file: $file) { name size } }",
      variables: {file: null},
    }));
    form.append("map", JSON.stringify({"0": ["variables.file"]}));
    form.append("0", new Blob(["hello from another origin"], {type: "text/plain"}), "note.txt");
    const response = await fetch(`${api}/graphql`, {method: "POST", headers: auth, body: form});
    return response.json();
  });
  result.rawUpload = await attempt(async () => {
    const response = await fetch(`${api}/uploads`, {
      method: "POST",
      headers: {...auth, "Content-Type": "text/plain", "X-Filename": "raw.txt"},
      body: "raw bytes",
    });
    return {status: response.status, body: await response.json()};
  });
  return result;
})().then(done, (error) => done({error: String(error)}));
"""


@pytest.fixture
def page_server(tmp_path: Path, js_tools: Path) -> Iterator[int]:  # noqa: F811
    """A second web server, on another port: another origin."""
    root = tmp_path / "page"
    root.mkdir()
    (root / "index.html").write_text(PAGE)
    shutil.copy(js_tools / "node_modules/graphql-ws/umd/graphql-ws.js", root / "graphql-ws.js")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def cors_api(tmp_path: Path, page_server: int) -> AsyncIterator[ApiServer]:
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}",
        cors_origins=[f"http://127.0.0.1:{page_server}"],
    )
    async with start_api(settings) as server:
        yield server


def run_in_page(page_url: str, api_url: str, token: str, message_id: str) -> dict[str, Any]:
    with chromium() as driver:
        driver.get(page_url)
        result: dict[str, Any] = driver.execute_async_script(SCENARIO, api_url, token, message_id)
        return result


async def answered_message(api: ApiServer) -> str:
    """An answer of the user's, sent from outside the browser."""
    conversation = await api.gql("mutation { createConversation { id } }")
    sent = await api.gql(
        "mutation ($c: ID!) { sendMessage(input: {conversationId: $c, content: 'hi'}) {"
        " assistantMessage { id } } }".replace("'", '"'),
        {"c": conversation["createConversation"]["id"]},
    )
    message_id: str = sent["sendMessage"]["assistantMessage"]["id"]
    return message_id


async def test_an_allowed_origin_queries_subscribes_and_uploads(
    cors_api: ApiServer, page_server: int
) -> None:
    require_chromium()
    result = await asyncio.to_thread(
        run_in_page, f"http://127.0.0.1:{page_server}/", cors_api.url, cors_api.token(), ""
    )
    assert result["query"] == {"data": {"me": {"name": "Alice"}}}, result
    events = result["subscription"]["events"]
    assert events[0] == "StreamSnapshot" and events[-1] == "StreamEnd", result
    assert result["upload"] == {"data": {"uploadAttachment": {"name": "note.txt", "size": 25}}}
    assert result["rawUpload"]["status"] == 201, result


async def test_another_origin_can_do_nothing(cors_api: ApiServer, page_server: int) -> None:
    require_chromium()
    message_id = await answered_message(cors_api)
    # the same page server under another name: http://localhost:port is not in the list
    page = f"http://localhost:{page_server}/"
    result = await asyncio.to_thread(run_in_page, page, cors_api.url, cors_api.token(), message_id)
    for step in ("query", "conversation", "upload", "rawUpload"):
        assert "Failed to fetch" in result[step]["failed"], result
    assert result["subscription"]["events"] == [], result
    assert result["subscription"]["failed"], result
    # no preflight was granted, so no mutation reached the app
    conversations = await cors_api.gql("{ conversations { edges { node { id } } } }")
    assert len(conversations["conversations"]["edges"]) == 1  # answered_message's
