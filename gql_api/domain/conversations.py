"""Conversations: create, change, move, delete, get, list and search."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Select, String, and_, delete, false, func, not_, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gql_api import feeds
from gql_api.db import Database
from gql_api.domain.models import check_model
from gql_api.domain.pagination import Page, decode_cursor, encode_cursor
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import (
    clean_title,
    optional_id,
    page_size,
    refuse_nul,
    require_id,
)
from gql_api.errors import InvalidInput, NotFound, PayloadTooLarge
from gql_api.feeds import Publisher
from gql_api.providers.catalog import ModelCatalog
from gql_api.storage.base import ObjectStore
from models.attachments import Attachment
from models.base import utcnow
from models.conversations import Conversation, owned_conversation
from models.projects import adjust_count, owned_project

DEFAULT_TITLE = "New conversation"
MAX_DRAFT = 100_000
MAX_SEARCH = 200


@asynccontextmanager
async def _into_project(db: Database) -> AsyncIterator[AsyncSession]:
    """A write that points a conversation at a project: if the project was deleted after our
    check, the foreign key refuses the write, and that is the caller's NOT_FOUND."""
    try:
        async with db.write() as session:
            yield session
    except IntegrityError as exc:
        raise NotFound("Project not found") from exc


async def create_conversation(
    *,
    db: Database,
    broker: Publisher,
    user: CurrentUser,
    max_title: int,
    title: str | None = None,
    model: str | None = None,
    project_id: str | None = None,
    system_prompt: str | None = None,
    catalog: ModelCatalog,
) -> Conversation:
    optional_id(project_id, "projectId")
    chosen, _ = await check_model(db=db, catalog=catalog, user=user, model=model)
    conversation = Conversation(
        owner_id=user.id,
        title=clean_title(title, max_chars=max_title) if title is not None else DEFAULT_TITLE,
        title_source="user" if title is not None else "default",
        model=chosen,
        system_prompt=_clean_system_prompt(system_prompt),
        project_id=project_id,
    )
    async with _into_project(db) as session:
        if project_id is not None and await owned_project(session, user.id, project_id) is None:
            raise NotFound("Project not found")
        session.add(conversation)
        await adjust_count(session, project_id, +1)
    await _changed(db, broker, user, "conversation.created", conversation)
    return conversation


def _clean_system_prompt(value: str | None) -> str | None:
    if value is not None:
        refuse_nul(value, "systemPrompt")
    if value is not None and len(value) > 20_000:
        raise PayloadTooLarge("systemPrompt is longer than 20000 characters", field="systemPrompt")
    return value or None


async def _changed(
    db: Database, broker: Publisher, user: CurrentUser, kind: str, row: Conversation
) -> None:
    await feeds.user_event(db, broker, user.id, kind, conversation=feeds.row_to_json(row))


async def update_conversation(
    *,
    db: Database,
    broker: Publisher,
    user: CurrentUser,
    conversation_id: str,
    kind: str,
    changes: dict[str, Any],
    touch: bool = True,
) -> Conversation:
    """Apply already-validated column changes to an owned conversation and announce them."""
    require_id(conversation_id, "conversationId")
    async with db.write() as session:
        conversation = await owned_conversation(session, user.id, conversation_id, for_update=True)
        if conversation is None:
            raise NotFound("Conversation not found")
        for key, value in changes.items():
            setattr(conversation, key, value)
        if touch:
            conversation.updated_at = utcnow()
    await _changed(db, broker, user, kind, conversation)
    return conversation


def rename_changes(title: str, *, max_title: int) -> dict[str, Any]:
    return {"title": clean_title(title, max_chars=max_title), "title_source": "user"}


def tools_changes(tools: list[str] | None, *, known: list[str]) -> dict[str, Any]:
    """All (null: follow the owner's preference), none ([]) or a list of tools and servers."""
    if tools is not None:
        unknown = sorted(set(tools) - set(known))
        if unknown:
            raise InvalidInput(f"unknown tools: {', '.join(unknown)}", field="tools")
        tools = sorted(set(tools))
    return {"tools_enabled": tools}


def draft_changes(draft: str | None) -> dict[str, Any]:
    if draft is not None:
        refuse_nul(draft, "draft")
    if draft is not None and len(draft) > MAX_DRAFT:
        raise PayloadTooLarge(f"draft is longer than {MAX_DRAFT} characters", field="draft")
    return {"draft": draft or None}


async def move_conversation(
    *,
    db: Database,
    broker: Publisher,
    user: CurrentUser,
    conversation_id: str,
    project_id: str | None,
) -> Conversation:
    require_id(conversation_id, "conversationId")
    optional_id(project_id, "projectId")
    async with _into_project(db) as session:
        conversation = await owned_conversation(session, user.id, conversation_id, for_update=True)
        if conversation is None:
            raise NotFound("Conversation not found")
        if project_id is not None and await owned_project(session, user.id, project_id) is None:
            raise NotFound("Project not found")
        if conversation.project_id != project_id:
            # Always lock project rows in id order: two opposite moves must not deadlock.
            changes = [(conversation.project_id, -1), (project_id, +1)]
            for changed_id, delta in sorted(changes, key=lambda c: c[0] or ""):
                await adjust_count(session, changed_id, delta)
            conversation.project_id = project_id
            conversation.updated_at = utcnow()
    await _changed(db, broker, user, "conversation.moved", conversation)
    return conversation


async def delete_conversation(
    *, db: Database, broker: Publisher, store: ObjectStore, user: CurrentUser, conversation_id: str
) -> str:
    """Delete it with its messages, streams, chunks and attachment rows in one transaction.

    The attachment bytes go after the commit; any left by a crash are found by the cleanup job.
    A stream still generating notices its rows are gone at its next flush and stops.
    """
    require_id(conversation_id, "conversationId")
    async with db.write() as session:
        conversation = await owned_conversation(session, user.id, conversation_id, for_update=True)
        if conversation is None:
            raise NotFound("Conversation not found")
        keys = list(
            await session.scalars(
                select(Attachment.storage_key).where(Attachment.conversation_id == conversation_id)
            )
        )
        await adjust_count(session, conversation.project_id, -1)
        # Rows below cascade at the database (foreign keys ON DELETE CASCADE).
        await session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    for key in keys:
        await store.delete(key)
    await feeds.conversation_event(
        db, broker, user.id, conversation_id, "conversation.deleted", conversationId=conversation_id
    )
    return conversation_id


async def get_conversation(
    *, db: Database, user: CurrentUser, conversation_id: str
) -> Conversation:
    require_id(conversation_id, "conversationId")
    async with db.read() as session:
        conversation = await owned_conversation(session, user.id, conversation_id)
    if conversation is None:
        raise NotFound("Conversation not found")
    return conversation


async def list_conversations(
    *,
    db: Database,
    user: CurrentUser,
    first: int,
    max_page: int,
    after: str | None = None,
    archived: bool | None = False,
    project_id: str | None = None,
    search: str | None = None,
) -> Page[Conversation]:
    """Pinned first, then most recently updated first; keyset cursors."""
    limit = page_size(first, maximum=max_page)
    optional_id(project_id, "projectId")
    query = select(Conversation).where(Conversation.owner_id == user.id)
    if archived is not None:
        query = query.where(Conversation.archived == archived)
    if project_id is not None:
        query = query.where(Conversation.project_id == project_id)
    if search is not None:
        query = _search(query, search, db.dialect)
    if after is not None:
        pinned, updated_at, last_id = decode_cursor(after, (bool, dt.datetime, str))
        query = query.where(
            or_(
                # Booleans cannot be compared with `<` in SQLAlchemy: "less pinned" is unpinned.
                not_(Conversation.pinned) if pinned else false(),
                and_(
                    Conversation.pinned == pinned,
                    or_(
                        Conversation.updated_at < updated_at,
                        and_(Conversation.updated_at == updated_at, Conversation.id < last_id),
                    ),
                ),
            )
        )
    query = query.order_by(
        Conversation.pinned.desc(), Conversation.updated_at.desc(), Conversation.id.desc()
    ).limit(limit + 1)
    async with db.read_single() as session:
        rows = list(await session.scalars(query))
    items = rows[:limit]
    return Page(
        items=items,
        has_more=len(rows) > limit,
        cursors=[encode_cursor(c.pinned, c.updated_at, c.id) for c in items],
    )


def _search(query: Select[Any], term: str, dialect: str) -> Select[Any]:
    """Case-insensitive substring search on the title, served by a trigram index."""
    term = " ".join(refuse_nul(term, "search").split())
    if len(term) > MAX_SEARCH:
        raise InvalidInput(f"search is longer than {MAX_SEARCH} characters", field="search")
    if not term:
        return query.where(false())
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    if dialect == "sqlite" and len(term) >= 3:
        # FTS5 trigram: a quoted phrase matches any substring of 3+ characters, ignoring case.
        phrase = '"' + term.replace('"', '""') + '"'
        matching = text(
            "SELECT conversation_id FROM conversation_titles WHERE conversation_titles MATCH :q"
        ).bindparams(q=f"title:{phrase}")
        return query.where(Conversation.id.in_(matching.columns(conversation_id=String)))
    if dialect == "sqlite":
        # Too short for trigrams, and SQLite's lower() and LIKE fold ASCII only: try each case
        # variant of the (at most two) characters as an exact substring.
        options = [{c, c.lower(), c.upper()} for c in term]
        variants = sorted({"".join(chars) for chars in itertools.product(*options)})
        return query.where(or_(*(func.instr(Conversation.title, v) > 0 for v in variants)))
    if any(not c.isascii() and c.lower() != c.upper() for c in term):
        # lower() in a "C" locale database folds ASCII only: match either case of the other
        # letters with a regular expression, which the pg_trgm index serves as well as LIKE.
        return query.where(func.lower(Conversation.title).regexp_match(_any_case_regex(term)))
    return query.where(func.lower(Conversation.title).like(pattern, escape="\\"))


def _any_case_regex(term: str) -> str:
    """A PostgreSQL regex for `term` lowercased: non-ASCII letters in either case, rest literal."""
    parts = []
    for c in term.lower():
        cases = sorted({v for v in (c, c.upper()) if len(v) == 1})
        if not c.isascii() and len(cases) > 1:
            parts.append("[" + "".join(cases) + "]")
        else:
            parts.append(c if c.isalnum() else "\\" + c)
    return "".join(parts)
