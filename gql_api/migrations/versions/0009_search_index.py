"""full-text search over message text and conversation titles

Revision ID: 0009_search_index
Revises: 0008_message_tree

One row per searchable text in `search_entries` (a conversation's title, or a finished message),
kept by triggers in the transaction of the write that changed it, whichever code path wrote it.
A message is indexed when it is stored finished, or when its status leaves streaming: the
flushes of a streaming answer do not touch the index. SQLite: an FTS5 table over the rows
(external content, `unicode61` folding case and diacritics). PostgreSQL: a `tsvector` column
(`simple` configuration: no stemming, any language) with a GIN index. Deleting a conversation
or message cascades to its rows, and on SQLite the cascade's delete trigger updates FTS5.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_search_index"
down_revision: str | None = "0008_message_tree"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statuses of an answer still being written: its text is indexed when it leaves them.
UNFINISHED = "('streaming', 'pending')"

COMMON_INDEXES = (
    "CREATE UNIQUE INDEX uq_search_entries_message ON search_entries (message_id)",
    "CREATE UNIQUE INDEX uq_search_entries_title ON search_entries (conversation_id) "
    "WHERE message_id IS NULL",
)

SQLITE = (
    "CREATE TABLE search_entries ("
    " id INTEGER PRIMARY KEY,"  # an alias of rowid, so VACUUM keeps the FTS5 rowids valid
    " owner_id VARCHAR(32) NOT NULL,"
    " conversation_id VARCHAR(32) NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,"
    " message_id VARCHAR(32) REFERENCES messages (id) ON DELETE CASCADE,"
    " body TEXT NOT NULL)",
    *COMMON_INDEXES,
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_insert AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_entries_delete AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_entries_update AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body); END",
    f"CREATE TRIGGER messages_search_insert AFTER INSERT ON messages "
    f"WHEN new.status NOT IN {UNFINISHED} BEGIN "
    "INSERT INTO search_entries (owner_id, conversation_id, message_id, body) "
    "SELECT owner_id, id, new.id, new.content FROM conversations WHERE id = new.conversation_id; "
    "END",
    f"CREATE TRIGGER messages_search_update AFTER UPDATE OF content, status ON messages "
    f"WHEN new.status NOT IN {UNFINISHED} "
    "AND (old.content IS NOT new.content OR old.status IS NOT new.status) BEGIN "
    "DELETE FROM search_entries WHERE message_id = new.id; "
    "INSERT INTO search_entries (owner_id, conversation_id, message_id, body) "
    "SELECT owner_id, id, new.id, new.content FROM conversations WHERE id = new.conversation_id; "
    "END",
    "CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN "
    "INSERT INTO search_entries (owner_id, conversation_id, body) "
    "VALUES (new.owner_id, new.id, new.title); END",
    "CREATE TRIGGER conversations_search_update AFTER UPDATE OF title ON conversations "
    "WHEN old.title IS NOT new.title BEGIN "
    "UPDATE search_entries SET body = new.title "
    "WHERE conversation_id = new.id AND message_id IS NULL; END",
)

POSTGRESQL = (
    "CREATE TABLE search_entries ("
    " id BIGSERIAL PRIMARY KEY,"
    " owner_id VARCHAR(32) NOT NULL,"
    " conversation_id VARCHAR(32) NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,"
    " message_id VARCHAR(32) REFERENCES messages (id) ON DELETE CASCADE,"
    " body TEXT NOT NULL,"
    " vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
    *COMMON_INDEXES,
    "CREATE INDEX ix_search_entries_vector ON search_entries USING gin (vector)",
    "CREATE FUNCTION search_index_message() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF NEW.status IN {UNFINISHED} THEN RETURN NULL; END IF; "
    "IF TG_OP = 'UPDATE' AND OLD.content IS NOT DISTINCT FROM NEW.content "
    "AND OLD.status IS NOT DISTINCT FROM NEW.status THEN RETURN NULL; END IF; "
    "INSERT INTO search_entries (owner_id, conversation_id, message_id, body) "
    "SELECT c.owner_id, c.id, NEW.id, NEW.content FROM conversations c "
    "WHERE c.id = NEW.conversation_id "
    "ON CONFLICT (message_id) DO UPDATE SET body = EXCLUDED.body; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER messages_search AFTER INSERT OR UPDATE OF content, status ON messages "
    "FOR EACH ROW EXECUTE FUNCTION search_index_message()",
    "CREATE FUNCTION search_index_title() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.title IS NOT DISTINCT FROM NEW.title THEN RETURN NULL; END IF; "
    "INSERT INTO search_entries (owner_id, conversation_id, body) "
    "VALUES (NEW.owner_id, NEW.id, NEW.title) "
    "ON CONFLICT (conversation_id) WHERE message_id IS NULL DO UPDATE SET body = EXCLUDED.body; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER conversations_search AFTER INSERT OR UPDATE OF title ON conversations "
    "FOR EACH ROW EXECUTE FUNCTION search_index_title()",
)

BACKFILL = (
    "INSERT INTO search_entries (owner_id, conversation_id, body) "
    "SELECT owner_id, id, title FROM conversations",
    "INSERT INTO search_entries (owner_id, conversation_id, message_id, body) "
    "SELECT c.owner_id, c.id, m.id, m.content FROM messages m "
    f"JOIN conversations c ON c.id = m.conversation_id WHERE m.status NOT IN {UNFINISHED}",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in (*(POSTGRESQL if postgres else SQLITE), *BACKFILL):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS messages_search ON messages")
        op.execute("DROP TRIGGER IF EXISTS conversations_search ON conversations")
        op.execute("DROP FUNCTION IF EXISTS search_index_message()")
        op.execute("DROP FUNCTION IF EXISTS search_index_title()")
        op.execute("DROP TABLE IF EXISTS search_entries")
        return
    for trigger in (
        "messages_search_insert",
        "messages_search_update",
        "conversations_search_insert",
        "conversations_search_update",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP TABLE IF EXISTS search_entries")
