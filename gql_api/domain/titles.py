"""Conversation titles written by a model: after the first answer, and again on request.

The model is called outside any transaction; the title is then written with a conditional
update, so a title the user set meanwhile (or another process's title) is never overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from sqlalchemy import func, select, update

from gql_api import feeds
from gql_api.db import Database
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import require_id
from gql_api.errors import Conflict, NotFound, ProviderError
from gql_api.feeds import Publisher
from gql_api.providers.base import ModelMessage, ModelProvider, ModelRequest, TextBlock, TextDelta
from gql_api.settings import Settings
from models.conversations import Conversation, owned_conversation
from models.messages import Message

log = logging.getLogger(__name__)

MAX_TITLE_WORDS = 8
MAX_TITLE_CHARS = 80
# Enough of the first exchange to name it; the rest only costs tokens.
EXCERPT_CHARS = 2000
INSTRUCTION = (
    "Write a title of at most six words for the conversation above. Reply with the title "
    "only: no quotes, no punctuation at the end, no explanation."
)
_REASONING = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|$)", re.DOTALL | re.IGNORECASE)
_PREFIX = re.compile(r"^(title|conversation title)\s*:\s*", re.IGNORECASE)


def clean_title(raw: str) -> str:
    """The title out of a model's reply: reasoning blocks, a "Title:" prefix, quotes, markdown
    and a final full stop removed; the first non-empty line; bounded in words and characters."""
    text = _REASONING.sub(" ", raw)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line.strip("#*_` ")).strip("\"'“”‘’*_` ").rstrip(".")
    words = line.split()[:MAX_TITLE_WORDS]
    return " ".join(words)[:MAX_TITLE_CHARS].strip()


async def _first_exchange(db: Database, conversation_id: str) -> tuple[str, str, str | None]:
    """The first user text, the first finished answer's text and that answer's model."""
    async with db.read() as session:
        rows = list(
            await session.execute(
                select(Message.role, Message.content, Message.model, Message.status)
                .where(Message.conversation_id == conversation_id, Message.role != "system")
                .order_by(Message.created_at, Message.id)
                .limit(20)
            )
        )
    question = next((r.content for r in rows if r.role == "user"), "")
    answer = next((r for r in rows if r.role == "assistant" and r.status == "complete"), None)
    return question, answer.content if answer else "", answer.model if answer else None


async def generate_title(
    *, provider: ModelProvider, model: str, user_id: str, question: str, answer: str
) -> str:
    request = ModelRequest(
        model=model,
        system="You name conversations.",
        messages=[
            ModelMessage("user", [TextBlock(question[:EXCERPT_CHARS] or "(empty)")]),
            ModelMessage("assistant", [TextBlock(answer[:EXCERPT_CHARS] or "(empty)")]),
            ModelMessage("user", [TextBlock(INSTRUCTION)]),
        ],
        max_tokens=40,
        user_id=user_id,  # their own provider key, as for their answers
        purpose="title",
    )
    pieces: list[str] = []
    async with contextlib.aclosing(provider.stream(request)) as stream:
        async for event in stream:
            # Only answer text: reasoning and tool calls never become a title.
            if isinstance(event, TextDelta):
                pieces.append(event.text)
    return clean_title("".join(pieces))


async def _write(
    db: Database,
    broker: Publisher,
    user_id: str,
    conversation_id: str,
    title: str,
    *,
    expect_title: str,
    expect_source: str,
) -> Conversation | None:
    """Store the title if the conversation's title is still the one the model was asked about."""
    async with db.write() as session:
        result = await session.execute(
            update(Conversation)
            .where(
                Conversation.id == conversation_id,
                Conversation.owner_id == user_id,
                Conversation.title == expect_title,
                Conversation.title_source == expect_source,
            )
            .values(title=title, title_source="generated")
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = await session.scalar(select(Conversation).where(Conversation.id == conversation_id))
    if row is not None:
        await feeds.user_event(
            db, broker, user_id, "conversation.renamed", conversation=feeds.row_to_json(row)
        )
    return row


def _model_for(
    settings: Settings, conversation: Conversation, answered_by: str | None, fallback: str
) -> str:
    return settings.title_model or answered_by or conversation.model or fallback


async def title_after_first_answer(
    *,
    db: Database,
    broker: Publisher,
    provider: ModelProvider,
    settings: Settings,
    default_model: str,
    user_id: str,
    conversation_id: str,
) -> None:
    """Name a conversation whose title nobody chose yet, from its first exchange."""
    async with db.read() as session:
        conversation = await owned_conversation(session, user_id, conversation_id)
        answers = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation_id, Message.role == "assistant")
        )
    if conversation is None or conversation.title_source != "default" or answers != 1:
        return
    question, answer, answered_by = await _first_exchange(db, conversation_id)
    title = await generate_title(
        provider=provider,
        model=_model_for(settings, conversation, answered_by, default_model),
        user_id=conversation.owner_id,
        question=question,
        answer=answer,
    )
    if title:
        await _write(
            db,
            broker,
            user_id,
            conversation_id,
            title,
            expect_title=conversation.title,
            expect_source="default",
        )


async def regenerate_title(
    *,
    db: Database,
    broker: Publisher,
    provider: ModelProvider,
    settings: Settings,
    default_model: str,
    user: CurrentUser,
    conversation_id: str,
) -> Conversation:
    """Ask the model again, whoever chose the current title (the user asks for this)."""
    require_id(conversation_id, "id")
    async with db.read() as session:
        conversation = await owned_conversation(session, user.id, conversation_id)
    if conversation is None:
        raise NotFound("Conversation not found")
    question, answer, answered_by = await _first_exchange(db, conversation_id)
    if not question:
        raise Conflict("The conversation has no message to name it after")
    title = await generate_title(
        provider=provider,
        model=_model_for(settings, conversation, answered_by, default_model),
        user_id=conversation.owner_id,
        question=question,
        answer=answer,
    )
    if not title:
        raise ProviderError("The model gave no title")
    row = await _write(
        db,
        broker,
        user.id,
        conversation_id,
        title,
        expect_title=conversation.title,
        expect_source=conversation.title_source,
    )
    if row is None:
        raise Conflict("The title changed while a new one was written; try again")
    return row


class Titler:
    """Runs title generation in the background after answers finish; closed at shutdown."""

    def __init__(
        self,
        *,
        db: Database,
        broker: Publisher,
        provider: ModelProvider,
        settings: Settings,
        default_model: str,
    ) -> None:
        self._db, self._broker, self._provider, self._settings = db, broker, provider, settings
        self._default_model = default_model
        self._tasks: set[asyncio.Task[None]] = set()

    def after_answer(self, conversation_id: str, user_id: str) -> None:
        task = asyncio.create_task(self._run(conversation_id, user_id), name="chatgql-title")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, conversation_id: str, user_id: str) -> None:
        try:
            await title_after_first_answer(
                db=self._db,
                broker=self._broker,
                provider=self._provider,
                settings=self._settings,
                default_model=self._default_model,
                user_id=user_id,
                conversation_id=conversation_id,
            )
        except ProviderError as exc:
            log.warning("no title for conversation %s: %s", conversation_id, exc.message)
        except Exception:
            log.exception("title generation for conversation %s failed", conversation_id)

    async def idle(self) -> None:
        """Wait for the titles being written now."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
