"""Batch loaders: one query for all the rows a list of parents asks for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from gql_api.db import Database
from gql_api.domain.branches import siblings_of
from models.attachments import Attachment
from models.messages import Message
from models.projects import Project
from models.streams import ACTIVE, Stream

T = TypeVar("T")


class Loaders:
    def __init__(self, db: Database, *, cache: bool = True) -> None:
        self._db = db
        self.project = self._by_key(Project, cache)
        self.message = self._by_key(Message, cache)
        self.active_stream = DataLoader(self._active_streams, cache=cache)
        self.message_attachments = DataLoader(self._attachments, cache=cache)
        self.siblings: DataLoader[tuple[str, str | None], list[str]] = DataLoader(
            self._siblings, cache=cache
        )

    def _by_key(self, model: type[T], cache: bool) -> DataLoader[str, T | None]:
        async def load(ids: list[str]) -> list[T | None]:
            async with self._db.read_single() as session:
                rows = await session.scalars(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
                found = {row.id: row for row in rows}  # type: ignore[attr-defined]
            return [found.get(i) for i in ids]

        loader: Callable[[list[str]], Awaitable[list[T | None]]] = load
        return DataLoader(loader, cache=cache)

    async def _active_streams(self, conversation_ids: list[str]) -> list[Stream | None]:
        async with self._db.read_single() as session:
            rows = await session.scalars(
                select(Stream).where(
                    Stream.conversation_id.in_(conversation_ids), Stream.status.in_(ACTIVE)
                )
            )
            found = {row.conversation_id: row for row in rows}
        return [found.get(i) for i in conversation_ids]

    async def _attachments(self, message_ids: list[str]) -> list[list[Attachment]]:
        async with self._db.read_single() as session:
            rows = await session.scalars(
                select(Attachment)
                .where(Attachment.message_id.in_(message_ids))
                .order_by(Attachment.created_at, Attachment.id)
            )
            grouped: dict[str, list[Attachment]] = {i: [] for i in message_ids}
            for row in rows:
                grouped[row.message_id or ""].append(row)
        return [grouped[i] for i in message_ids]

    async def _siblings(self, keys: list[tuple[str, str | None]]) -> list[list[str]]:
        return await siblings_of(self._db, keys)
