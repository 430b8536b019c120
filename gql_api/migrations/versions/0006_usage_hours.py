"""model usage and cost per user, hour and model

Revision ID: 0006_usage_hours
Revises: 0005_provider_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006_usage_hours"
down_revision: str | None = "0005_provider_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_micros",
)


def upgrade() -> None:
    op.create_table(
        "usage_hours",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("hour", models.base.UTCDateTime(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("estimated_requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_usage_hours_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "hour", "model", name=op.f("pk_usage_hours")),
    )


def downgrade() -> None:
    op.drop_table("usage_hours")
