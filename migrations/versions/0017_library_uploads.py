"""the library's uploads, and at most one hero per category

`video_uploads` records each uploaded video file (with its thumbnail and captions) from
upload to probe: pending, then ready or refused with the reason.

A partial unique index allows one hero per category. A database that already has several
heroes in a category keeps the most viewed one (then the oldest) and the others stop being
heroes; each such change is recorded in the audit trail (source "cli", as `flask db
upgrade` runs it), like any other change of a video.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DEMOTE_EXTRA_HEROES = """
WITH ranked AS (
    SELECT id, row_number() OVER (
        PARTITION BY category_id ORDER BY views DESC NULLS LAST, id
    ) AS rank
    FROM videos
    WHERE is_hero AND category_id IS NOT NULL
), demoted AS (
    UPDATE videos SET is_hero = false, version = version + 1, updated_at = now()
    FROM ranked
    WHERE videos.id = ranked.id AND ranked.rank > 1
    RETURNING videos.id, videos.video_id, videos.title, videos.channel_display_name
)
INSERT INTO metadata_syncs
    (entity_type, entity_id, entity_key, video_title, channel_display_name, action, source,
     changes)
SELECT 'video', id, video_id, title, channel_display_name, 'update', 'cli',
       '{"is_hero": [true, false]}'::jsonb
FROM demoted ORDER BY id
"""


def upgrade():
    op.create_table(
        "video_uploads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("video_key", sa.String(length=512), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=512), nullable=True),
        sa.Column("caption_key", sa.String(length=512), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("video_codec", sa.String(length=50), nullable=True),
        sa.Column("audio_codec", sa.String(length=50), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("probed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "duration_seconds >= 0", name=op.f("ck_video_uploads_duration_seconds_not_negative")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'refused')", name=op.f("ck_video_uploads_known_status")
        ),
        sa.CheckConstraint(
            "status <> 'refused' OR reason IS NOT NULL",
            name=op.f("ck_video_uploads_refused_says_why"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_video_uploads_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_video_uploads_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_uploads_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_uploads")),
    )
    op.create_index(
        "ix_video_uploads_video_id_id", "video_uploads", ["video_id", "id"], unique=False
    )
    op.execute(DEMOTE_EXTRA_HEROES)
    op.create_index(
        "uq_videos_hero_per_category",
        "videos",
        ["category_id"],
        unique=True,
        postgresql_where=sa.text("is_hero AND category_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index(
        "uq_videos_hero_per_category",
        table_name="videos",
        postgresql_where=sa.text("is_hero AND category_id IS NOT NULL"),
    )
    op.drop_index("ix_video_uploads_video_id_id", table_name="video_uploads")
    op.drop_table("video_uploads")
