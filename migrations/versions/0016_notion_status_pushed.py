"""the status each task's Notion page was last given

The draft sync writes a task's status back to its Notion page. `notion_status_pushed` keeps
the status Notion is known to show (written by Catalog, or found there by the sync); a task
whose status differs from it is pushed again on every sync until a push succeeds, whoever
changed the status and however many times. Null: Notion is not known to show any.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "notion_status_pushed",
                postgresql.ENUM(name="task_status", create_type=False),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("notion_status_pushed")
