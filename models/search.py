"""The full-text index (`search_entries`, kept by the triggers of migration 0008) and its query.

A hit is one entry: a conversation's title (`message_id` null) or a finished message. Scores are
higher for better matches on both databases (SQLite: minus FTS5's bm25; PostgreSQL: ts_rank_cd).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class SearchRow:
    entry_id: int
    conversation_id: str
    message_id: str | None
    score: float
    body: str


_SQLITE = """
SELECT id, conversation_id, message_id, score, body FROM (
  SELECT e.id AS id, e.conversation_id AS conversation_id, e.message_id AS message_id,
         -bm25(search_fts) AS score, e.body AS body
  FROM search_fts JOIN search_entries e ON e.id = search_fts.rowid
  WHERE search_fts MATCH :match AND e.owner_id = :owner
) WHERE :after_id IS NULL OR score < :after_score OR (score = :after_score AND id > :after_id)
ORDER BY score DESC, id LIMIT :limit
"""

_POSTGRESQL = """
WITH q AS (SELECT plainto_tsquery('simple', :words) AS query),
page AS (
  SELECT e.id, e.conversation_id, e.message_id, e.body,
         ts_rank_cd(e.vector, q.query)::float8 AS score
  FROM search_entries e, q
  WHERE e.vector @@ q.query AND e.owner_id = :owner
    AND (CAST(:after_id AS bigint) IS NULL OR ts_rank_cd(e.vector, q.query)::float8 < :after_score
         OR (ts_rank_cd(e.vector, q.query)::float8 = :after_score AND e.id > :after_id))
  ORDER BY score DESC, e.id LIMIT :limit
)
SELECT id, conversation_id, message_id, score, body FROM page ORDER BY score DESC, id
"""


def sqlite_match(words: list[str]) -> str:
    """An FTS5 query of the words as quoted strings (all must match): none of FTS5's operators
    or column filters can come from the user's text."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def search_statement(dialect: str) -> str:
    return _POSTGRESQL if dialect == "postgresql" else _SQLITE


async def search_entries(
    session: AsyncSession,
    *,
    dialect: str,
    owner_id: str,
    words: list[str],
    limit: int,
    after: tuple[float, int] | None,
) -> list[SearchRow]:
    params: dict[str, Any] = {
        "owner": owner_id,
        "limit": limit,
        "after_score": after[0] if after else None,
        "after_id": after[1] if after else None,
    }
    if dialect == "postgresql":
        params["words"] = " ".join(words)
    else:
        params["match"] = sqlite_match(words)
    result = await session.execute(text(search_statement(dialect)), params)
    return [
        SearchRow(
            entry_id=int(row[0]),
            conversation_id=row[1],
            message_id=row[2],
            score=float(row[3]),
            body=row[4],
        )
        for row in result
    ]
