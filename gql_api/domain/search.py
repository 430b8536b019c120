"""Full-text search over the caller's message text and conversation titles, ranked and paged."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from gql_api.db import Database
from gql_api.domain.pagination import Page, decode_cursor, encode_cursor
from gql_api.domain.users import CurrentUser
from gql_api.domain.validation import page_size, refuse_nul
from gql_api.errors import InvalidInput
from models.conversations import Conversation
from models.messages import Message
from models.search import search_entries

MAX_QUERY_CHARS = 200
MAX_WORDS = 16
SNIPPET_WORDS = 16
# Words as both indexes split them: runs of letters and digits (underscore too, which both treat
# as a separator, so it is split off here as well).
_WORD_RE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchHit:
    conversation: Conversation
    message: Message | None  # None: the conversation's title matched
    snippet: str  # HTML-escaped text, matches inside <mark>...</mark>
    score: float


def query_words(query: str) -> list[str]:
    """The words of a search; anything that is not a word (quotes, operators) is dropped."""
    refuse_nul(query, "query")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"query is longer than {MAX_QUERY_CHARS} characters", field="query")
    words = _WORD_RE.findall(query)
    if not words:
        raise InvalidInput("query has no words to search for", field="query")
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"query has more than {MAX_WORDS} words", field="query")
    return words


def _fold(word: str) -> str:
    """Case and accents folded, as SQLite's `unicode61 remove_diacritics` tokenizer does."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def marked_snippet(body: str, words: list[str], *, size: int = SNIPPET_WORDS) -> str:
    """About `size` words of `body` around its first match, HTML-escaped, each matching word in
    <mark>...</mark>. Made here rather than by the database so that both give the same text
    (PostgreSQL's ts_headline would drop anything that looks like an HTML tag)."""
    wanted = {_fold(w) for w in words}
    tokens = list(_WORD_RE.finditer(body))
    if not tokens:
        return html.escape(body[: size * 8], quote=False)
    first = next((i for i, t in enumerate(tokens) if _fold(t.group()) in wanted), 0)
    end = min(len(tokens), max(first - size // 4, 0) + size)
    start = max(0, end - size)
    low = tokens[start].start() if start > 0 else 0
    high = tokens[end - 1].end() if end < len(tokens) else len(body)
    out = ["…" if low > 0 else ""]
    position = low
    for token in tokens[start:end]:
        if _fold(token.group()) in wanted:
            out.append(html.escape(body[position : token.start()], quote=False))
            out.append(f"<mark>{html.escape(token.group(), quote=False)}</mark>")
            position = token.end()
    out.append(html.escape(body[position:high], quote=False))
    out.append("…" if high < len(body) else "")
    return "".join(out)


async def search(
    *,
    db: Database,
    user: CurrentUser,
    query: str,
    first: int,
    max_page: int,
    after: str | None = None,
) -> Page[SearchHit]:
    """Best matches first; ties in order of indexing. Cursors hold (score, entry id): a page
    after one continues below that score even when other rows were indexed in between."""
    words = query_words(query)
    limit = page_size(first, maximum=max_page)
    position: tuple[float, int] | None = None
    if after is not None:
        score, entry_id = decode_cursor(after, (float, int))
        position = (float(score), entry_id)
    async with db.read() as session:
        rows = await search_entries(
            session,
            dialect=db.dialect,
            owner_id=user.id,
            words=words,
            limit=limit + 1,
            after=position,
        )
        page = rows[:limit]
        conversation_ids = {r.conversation_id for r in page}
        message_ids = {r.message_id for r in page if r.message_id}
        conversations = {
            c.id: c
            for c in await session.scalars(
                select(Conversation).where(Conversation.id.in_(conversation_ids))
            )
        }
        messages = {
            m.id: m
            for m in await session.scalars(select(Message).where(Message.id.in_(message_ids)))
        }
    hits = [
        SearchHit(
            conversation=conversations[r.conversation_id],
            message=messages[r.message_id] if r.message_id else None,
            snippet=marked_snippet(r.body, words),
            score=r.score,
        )
        for r in page
    ]
    return Page(
        items=hits,
        has_more=len(rows) > limit,
        cursors=[encode_cursor(r.score, r.entry_id) for r in page],
    )
