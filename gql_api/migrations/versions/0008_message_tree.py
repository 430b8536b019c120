"""message tree: each message has a parent; earlier answers (versions) become sibling answers

Revision ID: 0008_message_tree
Revises: 0007_node_liveness
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models.base import new_id

revision: str = "0008_message_tree"
down_revision: str | None = "0007_node_liveness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

messages = sa.table(
    "messages",
    sa.column("id", sa.String),
    sa.column("conversation_id", sa.String),
    sa.column("parent_id", sa.String),
    sa.column("reply_to_id", sa.String),
    sa.column("role", sa.String),
    sa.column("content", sa.Text),
    sa.column("parts", sa.JSON),
    sa.column("status", sa.String),
    sa.column("model", sa.String),
    sa.column("input_tokens", sa.Integer),
    sa.column("output_tokens", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("created_at", models.base.UTCDateTime),
)
versions = sa.table(
    "message_versions",
    sa.column("message_id", sa.String),
    sa.column("version", sa.Integer),
    sa.column("content", sa.Text),
    sa.column("parts", sa.JSON),
    sa.column("status", sa.String),
    sa.column("model", sa.String),
    sa.column("input_tokens", sa.Integer),
    sa.column("output_tokens", sa.Integer),
    sa.column("created_at", models.base.UTCDateTime),
)
conversations = sa.table(
    "conversations", sa.column("id", sa.String), sa.column("last_message_id", sa.String)
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite adds a column with its reference in place. A batch copy of the table would
        # drop the old one, and with foreign keys on that fires the ON DELETE actions of every
        # table referring to messages (streams, attachments): the rows would go with it.
        op.execute(
            "ALTER TABLE messages ADD COLUMN parent_id VARCHAR(32) "
            "CONSTRAINT fk_messages_parent_id_messages REFERENCES messages (id) ON DELETE CASCADE"
        )
    else:
        op.add_column("messages", sa.Column("parent_id", sa.String(length=32), nullable=True))
        op.create_foreign_key(
            "fk_messages_parent_id_messages",
            "messages",
            "messages",
            ["parent_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index("ix_messages_parent", "messages", ["parent_id", "created_at", "id"])
    rows = bind.execute(
        sa.select(messages.c.id, messages.c.conversation_id).order_by(
            messages.c.conversation_id, messages.c.created_at, messages.c.id
        )
    ).all()
    # The flat list becomes one path: each message follows the one before it.
    parent: dict[str, str | None] = {}
    leaf: dict[str, str] = {}
    previous: tuple[str, str] | None = None
    for message_id, conversation_id in rows:
        same = previous is not None and previous[1] == conversation_id
        parent[message_id] = previous[0] if same and previous is not None else None
        leaf[conversation_id] = message_id
        previous = (message_id, conversation_id)
    for message_id, parent_id in parent.items():
        if parent_id is not None:
            bind.execute(
                messages.update().where(messages.c.id == message_id).values(parent_id=parent_id)
            )
    for conversation_id, leaf_id in leaf.items():
        bind.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(last_message_id=leaf_id)
        )
    # Each earlier answer becomes a sibling of the answer that replaced it (same parent).
    kept = bind.execute(
        sa.select(versions, messages.c.conversation_id, messages.c.reply_to_id)
        .join(messages, messages.c.id == versions.c.message_id)
        .order_by(versions.c.message_id, versions.c.version)
    ).all()
    for row in kept:
        bind.execute(
            messages.insert().values(
                id=new_id(),
                conversation_id=row.conversation_id,
                parent_id=parent.get(row.message_id),
                reply_to_id=row.reply_to_id,
                role="assistant",
                content=row.content,
                parts=row.parts,
                status=row.status,
                model=row.model,
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                version=1,  # the column goes below
                created_at=row.created_at,
            )
        )
    op.drop_table("message_versions")
    op.drop_column("messages", "version")  # in place on SQLite too (3.35 and later)


def downgrade() -> None:
    # Alternatives stay as plain messages of the list; the versions table comes back empty.
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column that has a reference (and a table copy would cascade).
        raise NotImplementedError("downgrading 0003_message_tree on SQLite: restore a backup")
    op.add_column(
        "messages",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.drop_index("ix_messages_parent", table_name="messages")
    op.drop_constraint("fk_messages_parent_id_messages", "messages", type_="foreignkey")
    op.drop_column("messages", "parent_id")
    _recreate_versions()


def _recreate_versions() -> None:
    op.create_table(
        "message_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_versions_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_versions")),
        sa.UniqueConstraint("message_id", "version", name=op.f("uq_message_versions_message_id")),
    )
