"""Extended statistics on custom values, so the planner knows value_numeric belongs to some
fields and value_text to others.

Without them a "Rating >= 4" estimate multiplies two selectivities as if independent and
comes out at half the truth (193,162 shown for 382,924 at a million videos): the list's
"about N videos" was wrong, and plans built on it could be too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE STATISTICS video_field_values_numeric_mcv (mcv) "
        "ON field_id, value_numeric FROM video_field_values"
    )
    op.execute(
        "CREATE STATISTICS video_field_values_text_mcv (mcv) "
        "ON field_id, value_text FROM video_field_values"
    )
    op.execute("ANALYZE video_field_values")


def downgrade():
    op.execute("DROP STATISTICS video_field_values_text_mcv")
    op.execute("DROP STATISTICS video_field_values_numeric_mcv")
