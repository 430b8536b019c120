"""The driver's GraphQL calls (setup and polling) over HTTP, with a bench user's token."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from bench.common import SECRET, Server
from bench.provider import Plan
from gql_api.auth import mint_token
from gql_api.settings import Settings

CREATE = "mutation($t: String) { createConversation(input: {title: $t}) { id } }"
SEND = """mutation($c: ID!, $text: String!) {
  sendMessage(input: {conversationId: $c, content: $text}) { assistantMessage { id } stream { id } }
}"""
ACTIVE = "{ activeStreams { id } }"
STREAM = "query($s: ID!) { stream(id: $s) { status length } }"


def token(user: str = "bench") -> str:
    settings = Settings(env="production", jwt_secret=SECRET, anthropic_api_key=None)
    return mint_token(settings, user, name=user)


class Api:
    def __init__(self, server: Server, user: str = "bench") -> None:
        self.url = f"http://127.0.0.1:{server.port}"
        self.ws_url = f"ws://127.0.0.1:{server.port}/graphql"
        self.token = token(user)
        self.http = httpx.Client(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {self.token}"}
        )

    def close(self) -> None:
        self.http.close()

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    def conversation(self, title: str = "bench") -> str:
        return str(self.gql(CREATE, {"t": title})["createConversation"]["id"])

    def start(self, plan: Plan, conversation: str | None = None) -> tuple[str, str]:
        """Send a prompt carrying the plan; returns (stream id, assistant message id)."""
        conversation = conversation or self.conversation()
        sent = self.gql(SEND, {"c": conversation, "text": f"bench {plan.marker()}"})["sendMessage"]
        return str(sent["stream"]["id"]), str(sent["assistantMessage"]["id"])

    def open_gate(self, name: str) -> None:
        self.http.post(f"/bench/gate/{name}").raise_for_status()

    def stats(self) -> dict[str, int]:
        response = self.http.get("/bench/stats")
        response.raise_for_status()
        result: dict[str, int] = response.json()
        return result

    def stream(self, stream_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.gql(STREAM, {"s": stream_id})["stream"]
        return result

    def wait_idle(self, timeout: float) -> None:
        """Until no stream of this user is active."""
        deadline = time.monotonic() + timeout
        while self.gql(ACTIVE)["activeStreams"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"streams still active after {timeout:.0f}s")
            time.sleep(0.05)

    def wait_length(self, stream_id: str, length: int, timeout: float) -> None:
        """Until the stream has persisted `length` code points."""
        deadline = time.monotonic() + timeout
        while self.stream(stream_id)["length"] < length:
            if time.monotonic() > deadline:
                raise TimeoutError(f"stream {stream_id} below {length} after {timeout:.0f}s")
            time.sleep(0.05)


def gate_name() -> str:
    return "g" + uuid.uuid4().hex[:12]
