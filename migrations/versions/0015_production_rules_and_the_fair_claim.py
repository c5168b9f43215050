"""production: the transition table and its trigger, the fair claim's bookkeeping

- `task_transitions`: every allowed status change of a task with who may take it, the
  same pairs as catalog/production/transitions.py (written out here: a migration must not
  change when the code does later; tests/production/test_transitions_db.py compares them).
- A BEFORE UPDATE trigger on `tasks` refuses any status change not in that table, keeps a
  retry to the state the task failed from (`failed_from`, which it sets on entering an
  error), keeps `error_log` append-only (the old text must stay its prefix) and sets
  `status_changed_at`. Inserts may start in any state (drafts from Notion, demo data).
- `channel_queues`: per channel, its queued tasks by priority, its tasks in production,
  its claims today and its last claim's turn, kept by statement-level triggers on `tasks`
  (transition tables: a bulk change adjusts each channel's row once). The claim sorts these
  rows (one per channel) instead of counting tasks.
- `channels.daily_claim_quota` (NULL: no limit) and the claim's indexes: each channel's
  queued tasks in claim order, the later stages' claimable tasks, the held tasks' leases.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

USER, WORKER, SYSTEM = "catalog-edit", "worker", "system"

# (from, to, who): a copy of catalog/production/transitions.TRANSITIONS as of this revision.
TRANSITIONS = (
    ("draft", "queued", USER),
    ("queued", "claimed", WORKER),
    ("claimed", "generating_assets", WORKER),
    ("generating_assets", "assets_ready", WORKER),
    ("generating_assets", "asset_error", WORKER),
    ("asset_error", "generating_assets", USER),
    ("assets_approved", "generating_composites", WORKER),
    ("generating_composites", "composites_ready", WORKER),
    ("generating_composites", "asset_error", WORKER),
    ("asset_error", "generating_composites", USER),
    ("composites_ready", "generating_video", WORKER),
    ("generating_video", "video_ready", WORKER),
    ("generating_video", "video_error", WORKER),
    ("video_error", "generating_video", USER),
    ("video_approved", "generating_audio", WORKER),
    ("generating_audio", "audio_ready", WORKER),
    ("generating_audio", "audio_error", WORKER),
    ("audio_error", "generating_audio", USER),
    ("audio_approved", "generating_sfx", WORKER),
    ("generating_sfx", "sfx_ready", WORKER),
    ("generating_sfx", "audio_error", WORKER),
    ("audio_error", "generating_sfx", USER),
    ("sfx_ready", "assembling", WORKER),
    ("assembling", "assembly_ready", WORKER),
    ("assembling", "video_error", WORKER),
    ("video_error", "assembling", USER),
    ("approved", "uploading", WORKER),
    ("uploading", "published", WORKER),
    ("uploading", "upload_error", WORKER),
    ("upload_error", "uploading", USER),
    ("assets_ready", "assets_approved", USER),
    ("assets_ready", "generating_assets", USER),
    ("video_ready", "video_approved", USER),
    ("video_ready", "generating_video", USER),
    ("audio_ready", "audio_approved", USER),
    ("audio_ready", "generating_audio", USER),
    ("assembly_ready", "final_review", USER),
    ("assembly_ready", "assembling", USER),
    ("final_review", "approved", USER),
    ("final_review", "assembling", USER),
    ("claimed", "queued", SYSTEM),
    ("generating_assets", "queued", SYSTEM),
    ("generating_composites", "assets_approved", SYSTEM),
    ("generating_video", "composites_ready", SYSTEM),
    ("generating_audio", "video_approved", SYSTEM),
    ("generating_sfx", "audio_approved", SYSTEM),
    ("assembling", "sfx_ready", SYSTEM),
    *(
        (status, "draft", USER)
        for status in (
            "queued", "assets_ready", "assets_approved", "composites_ready", "video_ready",
            "video_approved", "audio_ready", "audio_approved", "sfx_ready", "assembly_ready",
            "final_review", "approved", "asset_error", "video_error", "audio_error",
            "upload_error",
        )
    ),
)  # fmt: skip

ERRORS = "'asset_error', 'video_error', 'audio_error', 'upload_error'"
IN_PRODUCTION = (
    "'claimed', 'generating_assets', 'assets_ready', 'assets_approved', "
    "'generating_composites', 'composites_ready', 'generating_video', 'video_ready', "
    "'video_approved', 'generating_audio', 'audio_ready', 'audio_approved', "
    "'generating_sfx', 'sfx_ready', 'assembling', 'assembly_ready', 'final_review', "
    "'approved', 'uploading'"
)
CLAIMABLE = (
    "'assets_approved', 'composites_ready', 'video_approved', 'audio_approved', "
    "'sfx_ready', 'approved', 'generating_assets', 'generating_composites', "
    "'generating_video', 'generating_audio', 'generating_sfx', 'assembling', 'uploading'"
)

GUARD = f"""
CREATE FUNCTION task_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM 1 FROM task_transitions
      WHERE from_status = OLD.status AND to_status = NEW.status;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'task %: % -> % is not an allowed transition',
        OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'check_violation', CONSTRAINT = 'task_transitions';
    END IF;
    IF OLD.status IN ({ERRORS}) AND NEW.status <> 'draft'
       AND NEW.status IS DISTINCT FROM OLD.failed_from THEN
      RAISE EXCEPTION 'task %: a retry goes back to where it failed (%), not to %',
        OLD.id, OLD.failed_from, NEW.status
        USING ERRCODE = 'check_violation', CONSTRAINT = 'task_transitions';
    END IF;
    IF NEW.status IN ({ERRORS}) THEN
      NEW.failed_from := OLD.status;
    END IF;
    NEW.status_changed_at := now();
  END IF;
  IF NEW.error_log IS DISTINCT FROM OLD.error_log AND (
       NEW.error_log IS NULL
       OR left(NEW.error_log, length(OLD.error_log)) IS DISTINCT FROM OLD.error_log) THEN
    RAISE EXCEPTION 'task %: the error log is append-only', OLD.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'task_error_log_append_only';
  END IF;
  RETURN NEW;
END
$$
"""

# The rows a statement changed, as signed contributions to their channels' counts: the old
# rows (-1) and the new rows (+1); a claim (queued -> claimed) also counts a claim.
OLD_ROWS = "SELECT channel_id, status, priority, -1 AS n, 0 AS claims FROM old_rows"
NEW_ROWS = "SELECT channel_id, status, priority, 1 AS n, 0 AS claims FROM new_rows"
UPDATED_ROWS = """
SELECT n.channel_id, n.status, n.priority, 1 AS n,
       (n.status = 'claimed' AND o.status = 'queued')::int AS claims
FROM new_rows n JOIN old_rows o USING (id)
"""
COUNTS = f"""
CREATE FUNCTION task_channel_counts_{{name}}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO channel_queues AS q (
    channel_id, queued_high, queued_normal, queued_low, in_production,
    claims_day, claims_on_day, last_claim_seq)
  SELECT channel_id,
    coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = 'high'), 0),
    coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = 'normal'), 0),
    coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = 'low'), 0),
    coalesce(sum(n) FILTER (WHERE status IN ({IN_PRODUCTION})), 0),
    CASE WHEN sum(claims) > 0 THEN (now() AT TIME ZONE 'UTC')::date END,
    sum(claims),
    CASE WHEN sum(claims) > 0 THEN nextval('channel_claim_seq') END
  FROM ({{rows}}) AS d
  GROUP BY channel_id
  HAVING sum(claims) > 0
      OR coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = 'high'), 0) <> 0
      OR coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = 'normal'), 0) <> 0
      OR coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = 'low'), 0) <> 0
      OR coalesce(sum(n) FILTER (WHERE status IN ({IN_PRODUCTION})), 0) <> 0
      OR bool_or(n > 0) AND {{inserting}}
  ORDER BY channel_id  -- one lock order for every statement: no deadlocks between them
  ON CONFLICT (channel_id) DO UPDATE SET
    queued_high = q.queued_high + EXCLUDED.queued_high,
    queued_normal = q.queued_normal + EXCLUDED.queued_normal,
    queued_low = q.queued_low + EXCLUDED.queued_low,
    in_production = q.in_production + EXCLUDED.in_production,
    claims_on_day = CASE
      WHEN EXCLUDED.claims_on_day = 0 THEN q.claims_on_day
      WHEN q.claims_day = EXCLUDED.claims_day THEN q.claims_on_day + EXCLUDED.claims_on_day
      ELSE EXCLUDED.claims_on_day END,
    claims_day = coalesce(EXCLUDED.claims_day, q.claims_day),
    last_claim_seq = coalesce(EXCLUDED.last_claim_seq, q.last_claim_seq);
  RETURN NULL;
END
$$
"""
COUNTERS = {
    # name: (event, transition tables, the rows' contributions, whether it inserts tasks)
    "insert": ("INSERT", "NEW TABLE AS new_rows", NEW_ROWS, "true"),
    "update": (
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"{OLD_ROWS} UNION ALL {UPDATED_ROWS}",
        "false",
    ),
    "delete": ("DELETE", "OLD TABLE AS old_rows", OLD_ROWS, "false"),
}


def upgrade():
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("daily_claim_quota", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_channels_daily_claim_quota_not_negative"), "daily_claim_quota >= 0"
        )
    status = postgresql.ENUM(name="task_status", create_type=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_from", status, nullable=True))
        batch_op.create_index(
            "ix_tasks_queued_channel",
            ["channel_id", "priority", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.create_index(
            "ix_tasks_claimable",
            ["status", "priority", "status_changed_at", "id"],
            unique=False,
            postgresql_where=sa.text(f"claimed_by IS NULL AND status IN ({CLAIMABLE})"),
        )
        batch_op.create_index(
            "ix_tasks_lease_expires_at",
            ["lease_expires_at"],
            unique=False,
            postgresql_where=sa.text("lease_expires_at IS NOT NULL"),
        )

    transitions = op.create_table(
        "task_transitions",
        sa.Column("from_status", status, nullable=False),
        sa.Column("to_status", status, nullable=False),
        sa.Column("actor", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("from_status", "to_status", name=op.f("pk_task_transitions")),
    )
    op.bulk_insert(
        transitions,
        [{"from_status": old, "to_status": new, "actor": who} for old, new, who in TRANSITIONS],
    )
    op.create_table(
        "channel_queues",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("queued_high", sa.Integer(), server_default="0", nullable=False),
        sa.Column("queued_normal", sa.Integer(), server_default="0", nullable=False),
        sa.Column("queued_low", sa.Integer(), server_default="0", nullable=False),
        sa.Column("in_production", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claims_day", sa.Date(), nullable=True),
        sa.Column("claims_on_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_claim_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_queues_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_queues")),
    )
    op.execute("CREATE SEQUENCE channel_claim_seq")
    op.execute(f"""
        INSERT INTO channel_queues (channel_id, queued_high, queued_normal, queued_low,
                                    in_production)
        SELECT channel_id,
          count(*) FILTER (WHERE status = 'queued' AND priority = 'high'),
          count(*) FILTER (WHERE status = 'queued' AND priority = 'normal'),
          count(*) FILTER (WHERE status = 'queued' AND priority = 'low'),
          count(*) FILTER (WHERE status IN ({IN_PRODUCTION}))
        FROM tasks GROUP BY channel_id
    """)  # fmt: skip

    op.execute(GUARD)
    op.execute(
        "CREATE TRIGGER task_guard BEFORE UPDATE ON tasks "
        "FOR EACH ROW EXECUTE FUNCTION task_guard()"
    )
    for name, (event, tables, rows, inserting) in COUNTERS.items():
        op.execute(COUNTS.format(name=name, rows=rows, inserting=inserting))
        op.execute(
            f"CREATE TRIGGER task_channel_counts_{name} AFTER {event} ON tasks "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION task_channel_counts_{name}()"
        )


def downgrade():
    for name in COUNTERS:
        op.execute(f"DROP TRIGGER task_channel_counts_{name} ON tasks")
        op.execute(f"DROP FUNCTION task_channel_counts_{name}()")
    op.execute("DROP TRIGGER task_guard ON tasks")
    op.execute("DROP FUNCTION task_guard()")
    op.drop_table("channel_queues")
    op.execute("DROP SEQUENCE channel_claim_seq")
    op.drop_table("task_transitions")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_lease_expires_at")
        batch_op.drop_index("ix_tasks_claimable")
        batch_op.drop_index("ix_tasks_queued_channel")
        batch_op.drop_column("failed_from")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_channels_daily_claim_quota_not_negative"), type_="check"
        )
        batch_op.drop_column("daily_claim_quota")
