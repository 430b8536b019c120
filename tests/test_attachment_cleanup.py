"""Deleting attachments and conversations removes the bytes; the cleanup job collects objects
without rows and rows without objects, and nothing else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from gql_api.domain.attachments import collect_orphans, new_storage_key
from models.attachments import Attachment
from tests.attachment_support import (
    PDF,
    attachment_rows,
    old_key,
    png,
    put,
    send,
    stored_keys,
    uploaded,
    user_id,
)
from tests.conftest import make_settings
from tests.factories import create_conversation
from tests.support import ApiServer, GraphQLErrors, start_api


async def test_deleting_removes_the_bytes(api: ApiServer) -> None:
    solo = await uploaded(api, png(), "solo.png", "image/png")
    deleted = await api.gql(
        "mutation($id: ID!) { deleteAttachment(id: $id) { id } }", {"id": solo["id"]}
    )
    assert deleted["deleteAttachment"]["id"] == solo["id"]
    assert await stored_keys(api) == [] and await attachment_rows(api) == 0
    with pytest.raises(GraphQLErrors) as caught:
        await api.gql("mutation($id: ID!) { deleteAttachment(id: $id) { id } }", {"id": solo["id"]})
    assert caught.value.code == "NOT_FOUND"

    conversation = await create_conversation(api, title="Gone soon")
    other = await create_conversation(api, title="Stays")
    sent_one = await uploaded(api, png(), "a.png", "image/png", conversation_id=conversation["id"])
    await uploaded(api, PDF, "b.pdf", "application/pdf", conversation_id=conversation["id"])
    kept = await uploaded(api, PDF, "c.pdf", "application/pdf", conversation_id=other["id"])
    await send(api, conversation["id"], "see", [sent_one["id"]])
    assert len(await stored_keys(api)) == 3
    await api.gql(
        "mutation($id: ID!) { deleteConversation(id: $id) { id } }", {"id": conversation["id"]}
    )
    assert await attachment_rows(api) == 1
    keys = await stored_keys(api)
    assert len(keys) == 1 and await api.services.store.read(keys[0]) == PDF
    await api.gql("mutation($id: ID!) { deleteConversation(id: $id) { id } }", {"id": other["id"]})
    assert await stored_keys(api) == [] and await attachment_rows(api) == 0
    assert kept["id"]


async def test_cleanup_collects_orphans_but_not_young_or_foreign_objects(api: ApiServer) -> None:
    store, db = api.services.store, api.services.db
    alice = await user_id(api, "alice")
    kept = await uploaded(api, png(), "kept.png", "image/png")
    lost_old = await uploaded(api, PDF, "lost-old.pdf", "application/pdf")
    lost_young = await uploaded(api, PDF, "lost-young.pdf", "application/pdf")
    async with db.write() as session:
        rows = {r.id: r for r in await session.scalars(select(Attachment))}
        await session.execute(
            update(Attachment)
            .where(Attachment.id == lost_old["id"])
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
    for lost in (lost_old, lost_young):
        await store.delete(rows[lost["id"]].storage_key)  # bytes gone, row left
    orphan_old = old_key(alice, 7200)
    orphan_young = new_storage_key(alice)  # maybe an upload still in flight
    foreign = "imports/legacy-file"
    for key in (orphan_old, orphan_young, foreign):
        await put(api, key, b"stray")

    collected = await collect_orphans(db, store, older_than=3600)
    assert (collected.objects, collected.rows) == (1, 1)
    assert sorted(await stored_keys(api)) == sorted(
        [rows[kept["id"]].storage_key, orphan_young, foreign]
    )
    async with db.read() as session:
        left = set(await session.scalars(select(Attachment.id)))
    assert left == {kept["id"], lost_young["id"]}
    again = await collect_orphans(db, store, older_than=3600)
    assert (again.objects, again.rows) == (0, 0)


async def test_deleting_a_message_removes_its_attachments(
    tmp_path: Path, database_url: str
) -> None:
    """Deleting a message drops its attachment rows (foreign keys) and then their bytes."""
    settings = make_settings(
        tmp_path,
        database_url,
        attachment_cleanup_interval_seconds=0.1,
        attachment_orphan_grace_seconds=1.0,
    )
    async with start_api(settings) as api:
        conversation = await create_conversation(api, title="Temp")
        att = await uploaded(api, png(), "a.png", "image/png", conversation_id=conversation["id"])
        sent = await send(api, conversation["id"], "see", [att["id"]])
        await api.gql(
            "mutation($id: ID!) { deleteMessage(id: $id) { id } }",
            {"id": sent["userMessage"]["id"]},
        )
        assert await attachment_rows(api) == 0
        assert await stored_keys(api) == []
