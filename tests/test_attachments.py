"""Attachments end to end: upload (GraphQL multipart and POST /uploads), signed downloads,
ownership, sending with a message, and the files in the request to the model."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from models.attachments import Attachment
from tests.attachment_support import (
    ATTACHMENT_FIELDS,
    PDF,
    SEND,
    attachment_rows,
    fetch,
    gql_code,
    gql_upload,
    http_upload,
    png,
    send,
    stored_keys,
    uploaded,
    user_id,
)
from tests.conftest import make_settings
from tests.factories import create_conversation
from tests.fake_anthropic import FakeAnthropic, text
from tests.support import ApiServer, GraphQLErrors, start_api


async def test_graphql_upload_and_signed_download(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Files")
    data = png(4, 4)
    att = await uploaded(api, data, "red dot.png", "image/png", conversation_id=conversation["id"])
    assert att["name"] == "red dot.png"
    assert att["mediaType"] == "image/png"
    assert att["size"] == len(data)
    assert att["sha256"] == hashlib.sha256(data).hexdigest()
    assert att["conversationId"] == conversation["id"] and att["messageId"] is None
    alice = await user_id(api, "alice")
    assert await stored_keys(api) == [
        (await api.services.store.keys(alice + "/"))[0]
    ]  # one object, under the owner's prefix
    assert await api.services.store.read((await stored_keys(api))[0]) == data

    again = await api.gql(
        f"query($id: ID!) {{ attachment(id: $id) {{ {ATTACHMENT_FIELDS} }} }}", {"id": att["id"]}
    )
    assert {k: v for k, v in again["attachment"].items() if k != "downloadUrl"} == {
        k: v for k, v in att.items() if k != "downloadUrl"
    }
    assert att["downloadUrl"].startswith(f"{api.settings.base_url}/files/{att['id']}?")
    response = await fetch(api, att["downloadUrl"])
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"red dot.png\"; filename*=UTF-8''red%20dot.png"
    )
    storage = await api.gql("{ attachmentStorage { usedBytes quotaBytes } }")
    assert storage["attachmentStorage"]["usedBytes"] == len(data)


async def test_http_upload_endpoint(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Papers")
    response = await http_upload(
        api, PDF, "résumé 2024.pdf", "application/pdf", conversation_id=conversation["id"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "résumé 2024.pdf"
    assert body["mediaType"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["conversationId"] == conversation["id"]

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(PDF), 7):
            yield PDF[start : start + 7]

    # No Content-Length (chunked), name in the query string instead of the header.
    response = await api.http.post(
        "/uploads",
        content=chunked(),
        params={"filename": "notes.pdf"},
        headers={"Authorization": f"Bearer {api.token()}", "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == body["sha256"]

    listed = await api.gql(
        "query($c: ID!) { attachments(conversationId: $c) { id name } }",
        {"c": conversation["id"]},
    )
    assert [a["name"] for a in listed["attachments"]] == ["résumé 2024.pdf"]
    assert await attachment_rows(api) == 2
    link = await api.gql(
        "query($id: ID!) { attachment(id: $id) { downloadUrl } }", {"id": body["id"]}
    )
    assert (await fetch(api, link["attachment"]["downloadUrl"])).content == PDF


async def test_signed_links_refuse_tampering_and_expiry(api: ApiServer) -> None:
    first = await uploaded(api, png(), "a.png", "image/png")
    second = await uploaded(api, png(2, 2), "b.png", "image/png")
    bob = await user_id(api, "bob")
    parts = urlsplit(first["downloadUrl"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert set(query) == {"user", "exp", "sig"}
    assert (await fetch(api, first["downloadUrl"])).status_code == 200

    flipped = query["sig"][:-1] + ("A" if query["sig"][-1] != "A" else "B")
    tampered = {
        "another attachment": (f"/files/{second['id']}", query),
        "another user": (parts.path, {**query, "user": bob}),
        "later expiry": (parts.path, {**query, "exp": str(int(query["exp"]) + 1)}),
        "expiry not a number": (parts.path, {**query, "exp": query["exp"] + ".0"}),
        "changed signature": (parts.path, {**query, "sig": flipped}),
        "no signature": (parts.path, {k: v for k, v in query.items() if k != "sig"}),
        "not an id": ("/files/not-an-id", query),
    }
    for what, (path, params) in tampered.items():
        response = await api.http.get(f"{path}?{urlencode(params)}")
        assert response.status_code == 403, what
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", what
    traversal = await api.http.get(f"/files/..%2F..%2Fetc%2Fpasswd?{urlencode(query)}")
    assert traversal.status_code == 404  # no such route

    async with api.services.db.read() as session:
        row = await session.scalar(select(Attachment).where(Attachment.id == first["id"]))
    assert row is not None
    expired = api.services.store.download_url(
        row.storage_key,
        attachment_id=row.id,
        user_id=row.owner_id,
        filename=row.name,
        media_type=row.media_type,
        ttl_seconds=-1,
    )
    assert (await fetch(api, expired)).status_code == 403

    # A valid link to a deleted attachment finds nothing.
    await api.gql("mutation($id: ID!) { deleteAttachment(id: $id) { id } }", {"id": first["id"]})
    assert (await fetch(api, first["downloadUrl"])).status_code == 404


async def test_another_users_attachment_is_not_found(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Private")
    att = await uploaded(api, png(), "mine.png", "image/png", conversation_id=conversation["id"])
    sent = await send(api, conversation["id"], "look", [att["id"]])
    message_id = sent["userMessage"]["id"]
    bobs = await create_conversation(api, title="Bob's", user="bob")
    missing = "0" * 32

    attempts: dict[str, tuple[str, dict[str, Any]]] = {
        "attachment": ("query($id: ID!) { attachment(id: $id) { id } }", {"id": att["id"]}),
        "by conversation": (
            "query($c: ID!) { attachments(conversationId: $c) { id } }",
            {"c": conversation["id"]},
        ),
        "by message": (
            "query($m: ID!) { attachments(messageId: $m) { id } }",
            {"m": message_id},
        ),
        "delete": ("mutation($id: ID!) { deleteAttachment(id: $id) { id } }", {"id": att["id"]}),
        "send": (
            SEND,
            {"i": {"conversationId": bobs["id"], "content": "x", "attachmentIds": [att["id"]]}},
        ),
        "missing": ("query($id: ID!) { attachment(id: $id) { id } }", {"id": missing}),
    }
    messages = set()
    for what, (query, variables) in attempts.items():
        with pytest.raises(GraphQLErrors) as caught:
            await api.gql(query, variables, user="bob")
        assert caught.value.code == "NOT_FOUND", what
        if what in ("attachment", "missing", "delete"):
            messages.add(caught.value.errors[0]["message"])
    assert len(messages) == 1  # someone else's attachment and no attachment look the same

    message = await api.raw(
        "query($id: ID!) { message(id: $id) { attachments { id } } }",
        {"id": message_id},
        user="bob",
    )
    assert message["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    into_theirs = await gql_upload(
        api, png(), "x.png", "image/png", user="bob", conversation_id=conversation["id"]
    )
    assert gql_code(into_theirs) == "NOT_FOUND"
    upload = await http_upload(
        api, png(), "x.png", "image/png", user="bob", conversation_id=conversation["id"]
    )
    assert upload.status_code == 404
    assert upload.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await attachment_rows(api) == 1
    assert len(await stored_keys(api)) == 1
    assert (await fetch(api, att["downloadUrl"])).status_code == 200


async def test_send_message_with_attachments(api: ApiServer) -> None:
    conversation = await create_conversation(api, title="Look")
    image = await uploaded(api, png(), "dot.png", "image/png", conversation_id=conversation["id"])
    doc = await uploaded(api, PDF, "spec.pdf", "application/pdf")  # not tied to one yet
    sent = await send(api, conversation["id"], "What are these?", [image["id"], doc["id"]])
    assert sent["status"] == "COMPLETED"
    message_id = sent["userMessage"]["id"]
    assert [a["id"] for a in sent["userMessage"]["attachments"]] == [image["id"], doc["id"]]

    by_message = await api.gql(
        "query($m: ID!) { attachments(messageId: $m) { id messageId conversationId } }",
        {"m": message_id},
    )
    assert [a["id"] for a in by_message["attachments"]] == [image["id"], doc["id"]]
    assert {a["messageId"] for a in by_message["attachments"]} == {message_id}
    assert {a["conversationId"] for a in by_message["attachments"]} == {conversation["id"]}
    message = await api.gql(
        "query($id: ID!) { message(id: $id) { attachments { name } } }", {"id": message_id}
    )
    assert [a["name"] for a in message["message"]["attachments"]] == ["dot.png", "spec.pdf"]

    with pytest.raises(GraphQLErrors) as caught:
        await api.gql(
            SEND,
            {
                "i": {
                    "conversationId": conversation["id"],
                    "content": "again",
                    "attachmentIds": [image["id"]],
                }
            },
        )
    assert caught.value.code == "CONFLICT"


async def test_model_receives_images_and_documents(
    tmp_path: Path, database_url: str, fake_anthropic: FakeAnthropic
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        anthropic_api_key="test",
        anthropic_base_url=fake_anthropic.base_url,
        anthropic_timeout_seconds=10.0,
        # The SDK warns (an error under pytest) about deprecated model names such as the default.
        default_model="claude-test",
    )
    fake_anthropic.enqueue(text(["A red ", "dot and a PDF."]))
    image_bytes = png(3, 2)
    async with start_api(settings) as api:
        conversation = await create_conversation(api, title="Vision")
        image = await uploaded(api, image_bytes, "dot.png", "image/png")
        doc = await uploaded(api, PDF, "spec.pdf", "application/pdf")
        sent = await send(api, conversation["id"], "What are these?", [image["id"], doc["id"]])
    assert sent["status"] == "COMPLETED"
    assert fake_anthropic.calls == 1
    body = fake_anthropic.requests[0].body
    user_turn = body["messages"][-1]
    assert user_turn["role"] == "user"
    blocks = user_turn["content"]
    assert blocks[0] == {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(image_bytes).decode(),
        },
    }
    assert blocks[1]["type"] == "document"
    assert blocks[1]["source"] == {
        "type": "base64",
        "media_type": "application/pdf",
        "data": base64.b64encode(PDF).decode(),
    }
    assert blocks[1]["title"] == "spec.pdf"
    assert blocks[2] == {"type": "text", "text": "What are these?"}
    assert body["model"] == "claude-test"
