"""reports and processing queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 19:46:37.946967

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=30), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("row_errors", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("preview", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'error')",
            name=op.f("ck_reports_known_status"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_reports_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_reports_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_sha256"), ["sha256"], unique=False)
        batch_op.create_index("ix_reports_status", ["status"], unique=False)

    op.create_table(
        "processing_queue",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_type", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_processing_queue_known_status"),
        ),
        sa.CheckConstraint("priority >= 0", name=op.f("ck_processing_queue_priority_not_negative")),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_processing_queue_retry_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_processing_queue_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_processing_queue_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_processing_queue_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processing_queue")),
    )
    with op.batch_alter_table("processing_queue", schema=None) as batch_op:
        batch_op.create_index("ix_processing_queue_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_processing_queue_job_id"), ["job_id"], unique=False)
        batch_op.create_index(
            "ix_processing_queue_priority", [sa.literal_column("priority DESC")], unique=False
        )
        batch_op.create_index("ix_processing_queue_status", ["status"], unique=False)

    with op.batch_alter_table("metadata_syncs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_id", sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table("metadata_syncs", schema=None) as batch_op:
        batch_op.drop_column("report_id")

    with op.batch_alter_table("processing_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_processing_queue_status")
        batch_op.drop_index("ix_processing_queue_priority")
        batch_op.drop_index(batch_op.f("ix_processing_queue_job_id"))
        batch_op.drop_index("ix_processing_queue_created_at")

    op.drop_table("processing_queue")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_status")
        batch_op.drop_index(batch_op.f("ix_reports_sha256"))
        batch_op.drop_index("ix_reports_created_at")

    op.drop_table("reports")
