"""The claim: which task a pipeline worker gets next, taken in one statement.

The intake (stage `assets`, from `queued`) is the fair queue of reference D:
1. priority: any channel with a high task queued comes before any with only normal, and so
   on (a channel's tier is its best queued priority);
2. round-robin across the channels of a tier: the channel whose last claim is oldest
   (`channel_queues.last_claim_seq`, from a sequence at each claim) is served first, a
   channel never claimed before first of all (between those, the oldest task first);
3. FIFO within a channel: its queued task of that priority with the oldest created_at;
4. skipped: a channel at its production capacity (its tasks in production, see
   transitions.IN_PRODUCTION) and one whose daily quota (channels.daily_claim_quota claims
   per UTC day) is used up.
Per channel the figures come from `channel_queues`, kept by triggers (migration 0015), so
the statement sorts one small row per channel and then reads the channels' first queued
tasks from `ix_tasks_queued_channel` in that order, one channel at a time; FOR UPDATE SKIP
LOCKED passes over a head another claimer is taking, and the re-check of
`status = 'queued'` after the lock drops one that was claimed meanwhile. Within one
statement a channel is offered once (its head), so two concurrent claims never take two
tasks of one channel past its capacity.

Later stages are claimed from the state they start from (transitions.STAGE_FLOW), by
priority then by how long the task has waited in that state (`ix_tasks_claimable`). Work
a person retried (its generating state, no worker holding it) is taken first, for every
stage: it is already in production.

A claim is this one statement and its commit: it checks the worker (not revoked, may claim
the stage), takes the task, writes the audit row, and says whether any lease has run out
(the service then returns those tasks to the queue in the same transaction). It runs as a
Core statement and answers with a row, not an ORM entity: at a thousand claims a second
every round trip and every entity built costs a share of the two cores.
"""

import json
import re

from sqlalchemy import Boolean, Row, column, text

from catalog import audit
from catalog.extensions import db
from catalog.models.task import CLAIMABLE, Task
from catalog.production import transitions
from catalog.production.transitions import STAGE_FLOW, WORKER

# How many channels, in claim order, one intake claim considers: enough to pass the heads
# that concurrent claimers hold at that moment (each holds at most one).
FANOUT = 32

LEASE = "now() + make_interval(secs => :lease)"

# A candidate channel's first queued task: FIFO within its best priority.
HEAD = """SELECT {select} FROM tasks h
  WHERE h.channel_id = {channel} AND h.status = 'queued'
  ORDER BY h.priority, h.created_at, h.id LIMIT 1"""

# The intake's choice of a task, the CTE `picked` ({guard}: a condition that keeps it from
# choosing at all, see STATEMENTS). The candidate channels come sorted in claim order (a
# channel never claimed before has no last claim: its head's age decides, looked up for it
# alone), and the join to their heads keeps that order, so no sort follows it: the heads
# are read and locked one channel at a time, and only until one is taken.
INTAKE_PICK = f"""
picked AS (
  SELECT t.id
  FROM (
    SELECT q.channel_id, q.last_claim_seq,
           CASE WHEN q.queued_high > 0 THEN 0 WHEN q.queued_normal > 0 THEN 1 ELSE 2 END AS tier,
           CASE WHEN q.last_claim_seq IS NULL
             THEN ({HEAD.format(select="h.created_at", channel="q.channel_id")}) END AS first_at
    FROM channel_queues q JOIN channels c ON c.id = q.channel_id
    WHERE q.queued_high + q.queued_normal + q.queued_low > 0
      AND q.in_production < c.production_capacity
      AND (c.daily_claim_quota IS NULL
           OR q.claims_day IS DISTINCT FROM (now() AT TIME ZONE 'UTC')::date
           OR q.claims_on_day < c.daily_claim_quota)
    ORDER BY tier, q.last_claim_seq NULLS FIRST, first_at, q.channel_id
    LIMIT {FANOUT}
  ) c
  CROSS JOIN LATERAL ({HEAD.format(select="h.id", channel="c.channel_id")}) head
  JOIN tasks t ON t.id = head.id
  WHERE t.status = 'queued'  -- re-checked after the lock: a head claimed meanwhile is passed
    AND {{guard}}
  ORDER BY c.tier, c.last_claim_seq NULLS FIRST, c.first_at, c.channel_id
  LIMIT 1
  FOR UPDATE OF t SKIP LOCKED
)"""


def _stage_pick(from_status: str, name: str, guard: str = "true") -> str:
    """A later stage's choice, as a CTE `name`: the first task in `from_status` no worker
    holds. The statuses are written into the statement (they come from STAGE_FLOW, never
    from input) so that the planner matches the partial index."""
    assert from_status in CLAIMABLE, from_status
    return f"""
{name} AS (
  SELECT id FROM tasks
  WHERE claimed_by IS NULL AND status = '{from_status}' AND {guard}
  ORDER BY priority, status_changed_at, id
  LIMIT 1
  FOR UPDATE SKIP LOCKED
)"""


# What a claim answers of the task: what a worker is told of it (commands.task_json) and who
# holds it since when. Each column returned costs the client a description per claim.
COLUMNS = tuple(
    Task.__table__.c[name]
    for name in (
        "id", "notion_page_id", "channel_id", "title", "topic", "story_direction", "status",
        "priority", "claimed_by", "claimed_at", "lease_expires_at", "error_log", "youtube_url",
        "asset_url", "composite_url", "video_url", "audio_url", "sfx_url", "final_url",
    )
)  # fmt: skip
RETURNED = ", ".join(f"tasks.{column.name}" for column in COLUMNS)


def _take(name: str, picked: str, to_status: str) -> str:
    """The CTE `name` that moves the task `picked` chose to `to_status`, held by the worker."""
    return f"""
{name} AS (
  UPDATE tasks SET status = '{to_status}', claimed_by = :worker, claimed_at = clock_timestamp(),
                   lease_expires_at = {LEASE}
  FROM {picked} WHERE tasks.id = {picked}.id
  RETURNING {RETURNED}
)"""


def _audit(stage: str, flow: dict) -> str:
    """The CTE `audited`: the claim's audit row, the one service.audit_row makes for it
    (entity "task", its Notion page id as the key, {"status": [from, to]} unless it was
    resumed work, which keeps its state, and {"claimed_by": [None, the worker's name]}; no
    user, the email "worker:<name>"), written by the claim statement itself: no second
    round trip and no ORM entity (tests/production/test_claim.py compares the two)."""
    claimed_by = "'claimed_by', jsonb_build_array(NULL, worker.name)"
    status = f"'status', jsonb_build_array('{flow['from']}'::text, taken.status::text)"
    return f"""
audited AS (
  INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, action, source, changes,
                              user_email)
  SELECT 'task', taken.id, nullif(left(taken.notion_page_id, {audit.KEY_MAX}), ''), 'update',
         :source,
         CASE WHEN taken.resumed THEN jsonb_build_object({claimed_by})
              ELSE jsonb_build_object({status}, {claimed_by}) END,
         'worker:' || worker.name
  FROM taken CROSS JOIN worker
)"""


def _statement(stage: str, flow: dict) -> str:
    """One statement per claim, one round trip: the worker's right to the stage (`worker`:
    its name, if it is not revoked and may claim the stage: otherwise nothing is taken),
    resumed work first (a person's retry: the stage's generating state, no worker holding
    it), and only when there is none the stage's own choice (its guard, NOT EXISTS
    (resumed), is checked once, before it locks anything); then the audit row. The two
    UPDATEs never touch one row (different states); `resumed` says which one took it.

    Exactly one row comes back, taken or not: the task's columns (NULL when nothing was
    taken), `allowed` (the worker may claim here) and `overdue` (some lease has run out:
    one look-up of ix_tasks_lease_expires_at, so that the expiry runs only when due)."""
    working = flow["working"]
    guard = "EXISTS (SELECT FROM worker) AND NOT EXISTS (SELECT FROM resumed_task)"
    if stage == "assets":  # the intake: queued -> claimed (the worker then starts it)
        pick, fresh = INTAKE_PICK.format(guard=guard), "claimed"
    else:
        pick, fresh = _stage_pick(flow["from"], "picked", guard), working
    # The table rules: a claim takes only a worker's step (the trigger refuses others too).
    assert transitions.may(WORKER, flow["from"], fresh), (flow["from"], fresh)
    return f"""
WITH worker AS (
  SELECT name FROM pipeline_workers
  WHERE id = :worker AND revoked_at IS NULL AND '{stage}' = ANY (stages)
),
{_stage_pick(working, "resume_picked", "EXISTS (SELECT FROM worker)")},
{_take("resumed_task", "resume_picked", working)},
{pick},
{_take("fresh_task", "picked", fresh)},
taken AS (
  SELECT *, true AS resumed FROM resumed_task
  UNION ALL
  SELECT *, false AS resumed FROM fresh_task
),
{_audit(stage, flow)}
SELECT taken.*, flags.allowed, flags.overdue
FROM (SELECT EXISTS (SELECT FROM worker) AS allowed,
             EXISTS (SELECT FROM tasks WHERE lease_expires_at < now()) AS overdue) AS flags
LEFT JOIN taken ON true
"""


def _compact(sql: str) -> str:
    """The statement without its comments and runs of blanks: psycopg caches its conversion
    of a statement's parameters for statements of up to 4 kB (MAX_CACHED_STATEMENT_LENGTH),
    and redoes it on every call for a longer one. (No literal in these statements holds
    "--" or a run of blanks.)"""
    return re.sub(r"\s+", " ", re.sub(r"--[^\n]*", "", sql)).strip()


# The intake alone (the bench's EXPLAIN of the fair claim).
INTAKE = text(
    f"WITH {INTAKE_PICK.format(guard='true')},\n{_take('fresh_task', 'picked', 'claimed')}"
    "\nSELECT * FROM fresh_task"
)
FLAGS = (column("resumed", Boolean), column("allowed", Boolean), column("overdue", Boolean))
STATEMENTS = {
    name: text(_compact(_statement(name, flow))).columns(*COLUMNS, *FLAGS)
    for name, flow in STAGE_FLOW.items()
}


def claim_next(stage: str, worker_id: int, lease_seconds: int, source: str) -> Row:
    """Claim the next task for `stage` for the worker, audited: the statement's one row
    (see _statement; `id` is None when nothing was taken). The caller commits. Through
    the session (its pending changes are flushed first) but as a Core statement: the row
    is the answer, no ORM entity is built from it."""
    return db.session.execute(
        STATEMENTS[stage], {"worker": worker_id, "lease": lease_seconds, "source": source}
    ).one()


EXPIRE = text("""
WITH expired AS (
  SELECT t.id, t.status, w.name AS worker
  FROM tasks t LEFT JOIN pipeline_workers w ON w.id = t.claimed_by
  WHERE t.lease_expires_at < now()
  ORDER BY t.lease_expires_at
  LIMIT :limit
  FOR UPDATE OF t SKIP LOCKED
)
UPDATE tasks SET
  status = (:targets ::jsonb ->> expired.status::text)::task_status,
  claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL,
  error_log = CASE WHEN expired.status = 'uploading' THEN tasks.error_log || :upload_line
                   ELSE tasks.error_log END
FROM expired WHERE tasks.id = expired.id
RETURNING tasks.id, tasks.notion_page_id, expired.status AS old, tasks.status AS new,
          expired.worker
""")


def expire(limit: int, targets: dict[str, str], upload_line: str) -> list:
    """Return up to `limit` tasks whose lease has expired to where `targets` says; the
    rows (id, notion_page_id, old, new, worker). Skips tasks locked by a heartbeat."""
    return db.session.execute(
        EXPIRE, {"limit": limit, "targets": json.dumps(targets), "upload_line": upload_line}
    ).all()
