"""the library's indexes: "Continue watching" and the hero

"Continue watching" is a person's unfinished videos, most recent first: one index walked in
order for the signed-in person (user_id, then updated_at descending), holding only the rows
the row shows (not completed), so it costs a few index entries however many videos that
person has finished. The hero is found among the few published hero videos (a partial
index), not by reading every published video.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.create_index(
            "ix_video_progress_continue_watching",
            ["user_id", sa.text("updated_at DESC")],
            unique=False,
            postgresql_where=sa.text("NOT completed"),
        )
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.create_index(
            "ix_videos_library_hero",
            ["category_id"],
            unique=False,
            postgresql_where=sa.text("is_hero AND published"),
        )


def downgrade():
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_videos_library_hero", postgresql_where=sa.text("is_hero AND published")
        )
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_video_progress_continue_watching", postgresql_where=sa.text("NOT completed")
        )
