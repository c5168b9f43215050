"""the production board's index: each status's tasks in claim order

The board shows each phase's first tasks in claim order (priority, created_at, id). With this
index the first cards of every column are read from the head of each status's range instead
of sorting the whole of a status (a million published tasks); the column's next pages walk
it from a cursor.

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-02
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_board", ["status", "priority", "created_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_board")
