"""who chose a conversation's title: default, user or generated

Revision ID: 0011_conversation_title_source
Revises: 0010_message_feedback
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_conversation_title_source"
down_revision: str | None = "0010_message_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        # Existing titles count as the user's: a generated title never replaces them.
        batch_op.add_column(
            sa.Column("title_source", sa.String(length=16), nullable=False, server_default="user")
        )
    op.execute("UPDATE conversations SET title_source = 'default' WHERE title = 'New conversation'")


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("title_source")
