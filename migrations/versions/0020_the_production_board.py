"""the production board: its counts kept by triggers, its columns' index

The board shows each phase's count of the filtered tasks at every page view. Counting a
million tasks per view is ~100 ms; `task_counts` holds the count of tasks per (channel,
status, priority, origin), kept by statement-level triggers on `tasks` as `channel_queues`
is (migration 0015), so the board sums a few thousand small rows instead. `origin` is where
an error came from (`failed_from`: the stage filter places errors by it) and the status
itself for every other state, so the key has no nulls.

`ix_tasks_board` serves each column's first cards in claim order (priority, created_at, id)
from the head of each status's range; `ix_tasks_status_changed_at` the age filter's count
(the summary minus the tasks that entered their state after the cutoff).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ERRORS = "'asset_error', 'video_error', 'audio_error', 'upload_error'"
ORIGIN = f"CASE WHEN status IN ({ERRORS}) THEN coalesce(failed_from, status) ELSE status END"
OLD_ROWS = f"SELECT channel_id, status, priority, {ORIGIN} AS origin, -1 AS n FROM old_rows"
NEW_ROWS = f"SELECT channel_id, status, priority, {ORIGIN} AS origin, 1 AS n FROM new_rows"
COUNTS = """
CREATE FUNCTION task_status_counts_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts AS c (channel_id, status, priority, origin, tasks)
  SELECT channel_id, status, priority, origin, sum(n)
  FROM ({rows}) AS d
  GROUP BY channel_id, status, priority, origin
  HAVING sum(n) <> 0
  -- one lock order for every statement: no deadlocks between them
  ORDER BY channel_id, status, priority, origin
  ON CONFLICT (channel_id, status, priority, origin) DO UPDATE SET
    tasks = c.tasks + EXCLUDED.tasks;
  RETURN NULL;
END
$$
"""
COUNTERS = {
    # name: (event, transition tables, the rows' contributions)
    "insert": ("INSERT", "NEW TABLE AS new_rows", NEW_ROWS),
    "update": (
        "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", f"{OLD_ROWS} UNION ALL {NEW_ROWS}"
    ),
    "delete": ("DELETE", "OLD TABLE AS old_rows", OLD_ROWS),
}  # fmt: skip


def upgrade():
    status = postgresql.ENUM(name="task_status", create_type=False)
    priority = postgresql.ENUM(name="task_priority", create_type=False)
    op.create_table(
        "task_counts",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("priority", priority, nullable=False),
        sa.Column("origin", status, nullable=False),
        sa.Column("tasks", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_task_counts_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "channel_id", "status", "priority", "origin", name=op.f("pk_task_counts")
        ),
    )  # fmt: skip
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_board", ["status", "priority", "created_at", "id"], unique=False
        )
        # With what the filters read, so that counting the recent tasks is an index-only scan.
        batch_op.create_index(
            "ix_tasks_status_changed_at", ["status_changed_at"], unique=False,
            postgresql_include=["status", "priority", "channel_id", "failed_from"],
        )  # fmt: skip
    op.execute(f"""
        INSERT INTO task_counts (channel_id, status, priority, origin, tasks)
        SELECT channel_id, status, priority, {ORIGIN}, count(*)
        FROM tasks GROUP BY 1, 2, 3, 4
    """)  # fmt: skip
    for name, (event, tables, rows) in COUNTERS.items():
        op.execute(COUNTS.format(name=name, rows=rows))
        op.execute(
            f"CREATE TRIGGER task_status_counts_{name} AFTER {event} ON tasks "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION task_status_counts_{name}()"
        )


def downgrade():
    for name in COUNTERS:
        op.execute(f"DROP TRIGGER task_status_counts_{name} ON tasks")
        op.execute(f"DROP FUNCTION task_status_counts_{name}()")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status_changed_at")
        batch_op.drop_index("ix_tasks_board")
    op.drop_table("task_counts")
