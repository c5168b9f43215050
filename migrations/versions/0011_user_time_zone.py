"""Each user's time zone: pages show and forms read times in it; the database stays UTC.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    op.drop_column("users", "time_zone")
