"""node liveness: a row per process, and how often a stream was continued

Revision ID: 0007_node_liveness
Revises: 0006_usage_hours
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007_node_liveness"
down_revision: str | None = "0006_usage_hours"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
    )
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("continuations", sa.Integer(), nullable=False, server_default="0")
        )
        # Sweeps look for active streams by owner, not by a per-stream heartbeat.
        batch_op.drop_index("ix_streams_status_heartbeat")
        batch_op.create_index("ix_streams_status_node", ["status", "node_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.drop_index("ix_streams_status_node")
        batch_op.create_index(
            "ix_streams_status_heartbeat", ["status", "heartbeat_at"], unique=False
        )
        batch_op.drop_column("continuations")
    op.drop_table("nodes")
