"""production tasks and the video library: their tables and columns

Production (reference D): tasks with their status and priority enums in pipeline and claim
order, the pipeline workers that claim them (hashed API tokens), and each channel's
production capacity. The library (reference E): the uploaded file, its probed duration and
its uploader on videos, the browse index, and per-person progress and reactions.
The rules (the transition trigger, the claim) come in the revisions that use them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pipeline_workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("stages", sa.ARRAY(sa.String(length=20)), server_default="{}", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_from", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_pipeline_workers_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_workers")),
        sa.UniqueConstraint("name", name=op.f("uq_pipeline_workers_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pipeline_workers_token_hash")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("notion_page_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=True),
        sa.Column("story_direction", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "queued",
                "claimed",
                "generating_assets",
                "assets_ready",
                "assets_approved",
                "generating_composites",
                "composites_ready",
                "generating_video",
                "video_ready",
                "video_approved",
                "generating_audio",
                "audio_ready",
                "audio_approved",
                "generating_sfx",
                "sfx_ready",
                "assembling",
                "assembly_ready",
                "final_review",
                "approved",
                "uploading",
                "published",
                "asset_error",
                "video_error",
                "audio_error",
                "upload_error",
                name="task_status",
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum("high", "normal", "low", name="task_priority"),
            server_default="normal",
            nullable=False,
        ),
        sa.Column("error_log", sa.Text(), server_default="", nullable=False),
        sa.Column("youtube_url", sa.String(length=255), nullable=True),
        sa.Column("video_id", sa.Integer(), nullable=True),
        sa.Column("asset_url", sa.String(length=1000), nullable=True),
        sa.Column("composite_url", sa.String(length=1000), nullable=True),
        sa.Column("video_url", sa.String(length=1000), nullable=True),
        sa.Column("audio_url", sa.String(length=1000), nullable=True),
        sa.Column("sfx_url", sa.String(length=1000), nullable=True),
        sa.Column("final_url", sa.String(length=1000), nullable=True),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "notion_page_id ~ '^[0-9a-f]{32}$'", name=op.f("ck_tasks_notion_page_id_hex")
        ),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_tasks_title_not_empty")),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_tasks_channel_id_channels"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["pipeline_workers.id"],
            name=op.f("fk_tasks_claimed_by_pipeline_workers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name=op.f("fk_tasks_video_id_videos"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("notion_page_id", name=op.f("uq_tasks_notion_page_id")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_channel_id", ["channel_id"], unique=False)
        batch_op.create_index("ix_tasks_channel_id_status", ["channel_id", "status"], unique=False)
        batch_op.create_index("ix_tasks_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_tasks_queued",
            ["priority", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.create_index("ix_tasks_status", ["status"], unique=False)

    op.create_table(
        "video_progress",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("watched_seconds", sa.Double(), server_default="0", nullable=False),
        sa.Column("duration_seconds", sa.Double(), nullable=False),
        sa.Column("last_position", sa.Double(), server_default="0", nullable=False),
        sa.Column("completed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "duration_seconds > 0", name=op.f("ck_video_progress_duration_seconds_positive")
        ),
        sa.CheckConstraint(
            "last_position >= 0 AND last_position <= duration_seconds",
            name=op.f("ck_video_progress_last_position_in_range"),
        ),
        sa.CheckConstraint(
            "watched_seconds >= 0", name=op.f("ck_video_progress_watched_seconds_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_video_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_progress_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_progress")),
        sa.UniqueConstraint("user_id", "video_id", name=op.f("uq_video_progress_user_id_video_id")),
    )
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_progress_video_id"), ["video_id"], unique=False)

    op.create_table(
        "video_reactions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column(
            "reaction_type",
            sa.Enum("like", "love", "haha", "wow", "sad", "angry", name="reaction_type"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_video_reactions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_reactions_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_reactions")),
        sa.UniqueConstraint(
            "user_id", "video_id", name=op.f("uq_video_reactions_user_id_video_id")
        ),
    )
    with op.batch_alter_table("video_reactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_reactions_video_id"), ["video_id"], unique=False)

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("production_capacity", sa.Integer(), server_default="3", nullable=False)
        )

    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_url", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("duration_seconds", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("uploaded_by", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_videos_published_category_id_views",
            ["published", "category_id", "views"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_videos_uploaded_by_users"),
            "users",
            ["uploaded_by"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            op.f("ck_videos_duration_seconds_not_negative"), "duration_seconds >= 0"
        )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_channels_production_capacity_not_negative"), "production_capacity >= 0"
        )


def downgrade():
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_videos_duration_seconds_not_negative"), type_="check"
        )
        batch_op.drop_constraint(batch_op.f("fk_videos_uploaded_by_users"), type_="foreignkey")
        batch_op.drop_index("ix_videos_published_category_id_views")
        batch_op.drop_column("uploaded_by")
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("video_url")

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("production_capacity")

    with op.batch_alter_table("video_reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_reactions_video_id"))

    op.drop_table("video_reactions")
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_progress_video_id"))

    op.drop_table("video_progress")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status")
        batch_op.drop_index("ix_tasks_queued", postgresql_where=sa.text("status = 'queued'"))
        batch_op.drop_index("ix_tasks_created_at")
        batch_op.drop_index("ix_tasks_channel_id_status")
        batch_op.drop_index("ix_tasks_channel_id")

    op.drop_table("tasks")
    op.drop_table("pipeline_workers")
    op.execute("DROP TYPE reaction_type")
    op.execute("DROP TYPE task_priority")
    op.execute("DROP TYPE task_status")
