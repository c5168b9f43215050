"""every use of a pipeline worker's token

One row per authenticated call of the workers' JSON API (/api/pipeline/): when, from which
address, which call, which task, and the HTTP status it was answered. One INSERT per call,
in the call's own transaction (or, for a refused call, in the short one that records the
refusal), so a call costs one more row and no extra round trip to another store.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pipeline_worker_uses",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column(
            "used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("call", sa.String(length=20), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["pipeline_workers.id"],
            name=op.f("fk_pipeline_worker_uses_worker_id_pipeline_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_worker_uses")),
    )
    op.create_index(
        "ix_pipeline_worker_uses_worker_id_used_at",
        "pipeline_worker_uses",
        ["worker_id", "used_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_pipeline_worker_uses_worker_id_used_at", table_name="pipeline_worker_uses")
    op.drop_table("pipeline_worker_uses")
