"""Finer statistics for the search column.

With the default sample (statistics target 100) the planner's guess of how many videos a
substring search matches swings by orders of magnitude between ANALYZE runs, and with it
the plan (newest-first scan vs. trigram bitmap) and the estimated total the list shows.
A target of 1000 keeps both steady at the cost of well under a millisecond of planning.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE videos ALTER COLUMN search_text SET STATISTICS 1000")
    op.execute("ANALYZE videos (search_text)")


def downgrade():
    op.execute("ALTER TABLE videos ALTER COLUMN search_text SET STATISTICS -1")
