"""feed events: a user's activity feed under per-user cursors, kept for a while

Revision ID: 0002_feed_events
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002_feed_events"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_cursors",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("last_cursor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_feed_cursors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_feed_cursors")),
    )
    op.create_table(
        "feed_events",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_feed_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "cursor", name=op.f("pk_feed_events")),
    )
    op.create_index("ix_feed_events_created_at", "feed_events", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_feed_events_created_at", table_name="feed_events")
    op.drop_table("feed_events")
    op.drop_table("feed_cursors")
