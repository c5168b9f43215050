"""claims at speed: task audit rows chained at commit, one counting trigger per event on
tasks, the board's age filter by priority

- The audit chain (migration 0010) gave a row its place when it was inserted, so the first
  audit row of a transaction locked the chain's head until the transaction ended: through
  the client's round trip from that INSERT to its COMMIT, and through whatever the client
  did in between. Every claim writes a task audit row, so 16 concurrent claimers took
  turns on the head, each holding it across two round trips (and across being descheduled
  on a busy machine). Now a transaction whose first audit row is a task's leaves its rows
  unchained (chain_seq, prev_hash and row_hash NULL) and they are chained at COMMIT, by the
  deferred trigger that already moved the head: it locks the head, gives the transaction's
  rows their places and hashes in id order, moves the head and the transaction commits.
  The head is held only inside the server's commit, never across a round trip.
  The chain's guarantees are the same: every committed row has a place, positions follow
  commit order (the head is held from the moment places are given until the commit), the
  hash covers the same content, and `flask audit verify` walks the same columns; it also
  reports a committed row without a place (which only a bypass of the triggers can make).
  The cost: each such row is written twice (inserted, then given its place by an UPDATE
  that only the chain's own function may make: the owner holds UPDATE on the three chain
  columns alone and the append-only trigger lets only that update through, once, on a row
  that has no place yet). Other audit rows are chained on insert as before, so reading
  `chain_seq` back in the same transaction (imports, reverts, bulk edits) works as it did;
  a transaction that has unchained task rows and then writes another audit row chains its
  pending rows first, so a transaction's rows keep their id order in the chain.
- `tasks` had two statement-level counting triggers per event (channel_queues, migration
  0015; task_counts, migration 0020): now one per event updates both from the same
  transition tables. The row-level `task_guard` stays apart: it is a BEFORE trigger that
  sets columns of the new row, which a statement-level AFTER trigger cannot.
- The board's age filter counts the tasks that entered their state after a cutoff:
  `ix_tasks_status_changed_at` read every recent task, then dropped the other priorities.
  `ix_tasks_priority_status_changed_at` (priority, status_changed_at) reads only the
  filtered priority's; without a priority filter the queries ask for all three, which the
  index serves as three ranges. It replaces the old index (one more index on tasks would
  slow every claim).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

CHAIN_STATE = "catalog.audit_chain"
# The id of the transaction's first audit row still without a place: its pending rows are
# those without a place from that id on (the others without one belong to transactions in
# flight, which this one cannot see).
PENDING = "catalog.audit_chain_pending"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
CHAINED_AT_COMMIT = "'task'"

# As in migration 0010 (a migration does not import another).
HASH_ARGS = (
    "{p}prev_hash, {p}chain_seq, {p}id, {p}entity_type, {p}entity_id, {p}entity_key, "
    "{p}video_title, {p}channel_display_name, {p}action, {p}source, {p}changes, {p}user_id, "
    "{p}user_email, {p}batch_id, {p}batch_size, {p}report_id, {p}reverts_id, "
    "{p}restored_to, {p}sync_time"
)

# Takes the head (unless this transaction holds it already) and gives the transaction's
# pending rows their places, in id order, in one UPDATE; returns the chain's state.
TAKE = f"""
CREATE FUNCTION audit_chain_take() RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
  pending text := current_setting('{PENDING}', true);
  seq bigint;
  last bytea;
  r record;
  ids bigint[] := '{{}}';
  seqs bigint[] := '{{}}';
  prevs bytea[] := '{{}}';
  hashes bytea[] := '{{}}';
BEGIN
  IF coalesce(state, '') = '' THEN
    SELECT last_seq, last_hash INTO seq, last FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  ELSE
    seq := split_part(state, ':', 1)::bigint;
    last := decode(split_part(state, ':', 2), 'hex');
  END IF;
  IF coalesce(pending, '') <> '' THEN
    FOR r IN SELECT * FROM metadata_syncs
             WHERE chain_seq IS NULL AND id >= pending::bigint ORDER BY id LOOP
      seq := seq + 1;
      r.chain_seq := seq;
      r.prev_hash := last;
      last := audit_row_hash({HASH_ARGS.format(p="r.")});
      ids := ids || r.id;
      seqs := seqs || seq;
      prevs := prevs || r.prev_hash;
      hashes := hashes || last;
    END LOOP;
    UPDATE metadata_syncs m SET chain_seq = u.seq, prev_hash = u.prev, row_hash = u.hash
    FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev, hash) WHERE m.id = u.id;
    PERFORM set_config('{PENDING}', '', true);
  END IF;
  state := seq || ':' || encode(last, 'hex');
  PERFORM set_config('{CHAIN_STATE}', state, true);
  RETURN state;
END $$
"""

CHAIN_ROW = f"""
CREATE OR REPLACE FUNCTION audit_chain_row() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
  seq bigint;
  last bytea;
BEGIN
  IF coalesce(state, '') = '' AND NEW.entity_type IN ({CHAINED_AT_COMMIT}) THEN
    -- Placed at commit (audit_chain_save): the head is not taken now.
    NEW.chain_seq := NULL;
    NEW.prev_hash := NULL;
    NEW.row_hash := NULL;
    IF coalesce(current_setting('{PENDING}', true), '') = '' THEN
      PERFORM set_config('{PENDING}', NEW.id::text, true);
    END IF;
    RETURN NEW;
  END IF;
  IF coalesce(state, '') = '' THEN
    -- This transaction's first row chained now: wait for the chain, hold it until commit
    -- (its rows waiting for commit, if any, are placed first).
    state := audit_chain_take();
  END IF;
  seq := split_part(state, ':', 1)::bigint;
  last := decode(split_part(state, ':', 2), 'hex');
  NEW.chain_seq := seq + 1;
  NEW.prev_hash := last;
  NEW.row_hash := audit_row_hash({HASH_ARGS.format(p="NEW.")});
  PERFORM set_config('{CHAIN_STATE}', NEW.chain_seq || ':' || encode(NEW.row_hash, 'hex'), true);
  RETURN NEW;
END $$
"""

# At commit (deferred), once per audit row: the pending rows are placed by the first call,
# and the head moves once to the transaction's last position.
CHAIN_SAVE = f"""
CREATE OR REPLACE FUNCTION audit_chain_save() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  state text;
BEGIN
  IF coalesce(current_setting('{PENDING}', true), '') <> '' THEN
    PERFORM audit_chain_take();
  END IF;
  state := current_setting('{CHAIN_STATE}', true);
  IF coalesce(state, '') <> ''
     AND state IS DISTINCT FROM current_setting('{CHAIN_STATE}_saved', true) THEN
    UPDATE audit_chain_head SET last_seq = split_part(state, ':', 1)::bigint,
           last_hash = decode(split_part(state, ':', 2), 'hex')
    WHERE id = 1;
    PERFORM set_config('{CHAIN_STATE}_saved', state, true);
  END IF;
  RETURN NULL;
END $$
"""

CHAIN_COLUMNS = "ARRAY['chain_seq', 'prev_hash', 'row_hash']"
APPEND_ONLY = f"""
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'metadata_syncs' AND EXISTS (
      SELECT 1 FROM metadata_syncs_archive a
      WHERE a.id = OLD.id AND a.chain_seq = OLD.chain_seq AND a.row_hash = OLD.row_hash) THEN
    RETURN OLD;  -- moved to the archive, not lost
  END IF;
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'metadata_syncs' AND OLD.chain_seq IS NULL
     AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL
     AND to_jsonb(NEW) - {CHAIN_COLUMNS} = to_jsonb(OLD) - {CHAIN_COLUMNS} THEN
    RETURN NEW;  -- a row chained at commit given its place, once
  END IF;
  RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$
"""

# --- the counting triggers on tasks, as migrations 0015 and 0020 wrote them, in one ---
ERRORS = "'asset_error', 'video_error', 'audio_error', 'upload_error'"
IN_PRODUCTION = (
    "'claimed', 'generating_assets', 'assets_ready', 'assets_approved', "
    "'generating_composites', 'composites_ready', 'generating_video', 'video_ready', "
    "'video_approved', 'generating_audio', 'audio_ready', 'audio_approved', "
    "'generating_sfx', 'sfx_ready', 'assembling', 'assembly_ready', 'final_review', "
    "'approved', 'uploading'"
)
ORIGIN = f"CASE WHEN status IN ({ERRORS}) THEN coalesce(failed_from, status) ELSE status END"

QUEUE_OLD = "SELECT channel_id, status, priority, -1 AS n, 0 AS claims FROM old_rows"
QUEUE_NEW = "SELECT channel_id, status, priority, 1 AS n, 0 AS claims FROM new_rows"
QUEUE_UPDATED = """
SELECT n.channel_id, n.status, n.priority, 1 AS n,
       (n.status = 'claimed' AND o.status = 'queued')::int AS claims
FROM new_rows n JOIN old_rows o USING (id)
"""
STATUS_OLD = f"SELECT channel_id, status, priority, {ORIGIN} AS origin, -1 AS n FROM old_rows"
STATUS_NEW = f"SELECT channel_id, status, priority, {ORIGIN} AS origin, 1 AS n FROM new_rows"


def _queued(priority: str) -> str:
    return f"coalesce(sum(n) FILTER (WHERE status = 'queued' AND priority = '{priority}'), 0)"


PRODUCING = f"coalesce(sum(n) FILTER (WHERE status IN ({IN_PRODUCTION})), 0)"
# channel_queues: the fair claim's figures per channel (migration 0015)
QUEUE_COUNTS = f"""
  INSERT INTO channel_queues AS q (
    channel_id, queued_high, queued_normal, queued_low, in_production,
    claims_day, claims_on_day, last_claim_seq)
  SELECT channel_id, {_queued("high")}, {_queued("normal")}, {_queued("low")}, {PRODUCING},
    CASE WHEN sum(claims) > 0 THEN (now() AT TIME ZONE 'UTC')::date END,
    sum(claims),
    CASE WHEN sum(claims) > 0 THEN nextval('channel_claim_seq') END
  FROM ({{queue_rows}}) AS d
  GROUP BY channel_id
  HAVING sum(claims) > 0 OR {_queued("high")} <> 0 OR {_queued("normal")} <> 0
      OR {_queued("low")} <> 0 OR {PRODUCING} <> 0 OR bool_or(n > 0) AND {{inserting}}
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
"""
# task_counts: the board's counts (migration 0020)
STATUS_COUNTS = """
  INSERT INTO task_counts AS c (channel_id, status, priority, origin, tasks)
  SELECT channel_id, status, priority, origin, sum(n)
  FROM ({status_rows}) AS d
  GROUP BY channel_id, status, priority, origin
  HAVING sum(n) <> 0
  ORDER BY channel_id, status, priority, origin
  ON CONFLICT (channel_id, status, priority, origin) DO UPDATE SET
    tasks = c.tasks + EXCLUDED.tasks;
"""
FUNCTION = """
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body}
  RETURN NULL;
END
$$
"""
COUNTERS = {
    # name: (event, transition tables, channel_queues' rows, task_counts' rows, inserting)
    "insert": ("INSERT", "NEW TABLE AS new_rows", QUEUE_NEW, STATUS_NEW, "true"),
    "update": (
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"{QUEUE_OLD} UNION ALL {QUEUE_UPDATED}",
        f"{STATUS_OLD} UNION ALL {STATUS_NEW}",
        "false",
    ),
    "delete": ("DELETE", "OLD TABLE AS old_rows", QUEUE_OLD, STATUS_OLD, "false"),
}
OLD_TRIGGERS = ("task_channel_counts", "task_status_counts")

# The chain's functions as migrations 0010 and 0013 left them, for the downgrade.
OLD_CHAIN_ROW = f"""
CREATE OR REPLACE FUNCTION audit_chain_row() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
  seq bigint;
  last bytea;
BEGIN
  IF coalesce(state, '') = '' THEN
    SELECT last_seq, last_hash INTO seq, last FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  ELSE
    seq := split_part(state, ':', 1)::bigint;
    last := decode(split_part(state, ':', 2), 'hex');
  END IF;
  NEW.chain_seq := seq + 1;
  NEW.prev_hash := last;
  NEW.row_hash := audit_row_hash({HASH_ARGS.format(p="NEW.")});
  PERFORM set_config('{CHAIN_STATE}', NEW.chain_seq || ':' || encode(NEW.row_hash, 'hex'), true);
  RETURN NEW;
END $$
"""
OLD_CHAIN_SAVE = f"""
CREATE OR REPLACE FUNCTION audit_chain_save() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
BEGIN
  IF coalesce(state, '') <> ''
     AND state IS DISTINCT FROM current_setting('{CHAIN_STATE}_saved', true) THEN
    UPDATE audit_chain_head SET last_seq = split_part(state, ':', 1)::bigint,
           last_hash = decode(split_part(state, ':', 2), 'hex')
    WHERE id = 1;
    PERFORM set_config('{CHAIN_STATE}_saved', state, true);
  END IF;
  RETURN NULL;
END $$
"""
OLD_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'metadata_syncs' AND EXISTS (
      SELECT 1 FROM metadata_syncs_archive a
      WHERE a.id = OLD.id AND a.chain_seq = OLD.chain_seq AND a.row_hash = OLD.row_hash) THEN
    RETURN OLD;  -- moved to the archive, not lost
  END IF;
  RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$
"""


def upgrade():
    # The chain: task rows placed at commit. An earlier migration of this same run may have
    # written audit rows whose head update waits for the commit: done now, since the table
    # cannot be altered with trigger events pending; then deferred again as declared.
    op.execute("SET CONSTRAINTS audit_chain_save IMMEDIATE")
    op.execute("SET CONSTRAINTS audit_chain_save DEFERRED")
    op.execute("ALTER TABLE metadata_syncs ALTER COLUMN chain_seq DROP NOT NULL")
    op.execute("ALTER TABLE metadata_syncs ALTER COLUMN prev_hash DROP NOT NULL")
    op.execute("ALTER TABLE metadata_syncs ALTER COLUMN row_hash DROP NOT NULL")
    op.execute(
        "ALTER TABLE metadata_syncs ADD CONSTRAINT ck_metadata_syncs_chained_whole CHECK "
        "((chain_seq IS NULL) = (prev_hash IS NULL) AND (chain_seq IS NULL) = (row_hash IS NULL))"
    )
    op.execute(
        "CREATE INDEX ix_metadata_syncs_unchained ON metadata_syncs (id) WHERE chain_seq IS NULL"
    )
    op.execute(TAKE)
    op.execute("REVOKE EXECUTE ON FUNCTION audit_chain_take() FROM PUBLIC")
    op.execute(CHAIN_ROW)
    op.execute(CHAIN_SAVE)
    op.execute(APPEND_ONLY)
    # The owner (the chain's functions run as it) may set the three chain columns and
    # nothing else; the app's role still may not update audit rows at all.
    op.execute("GRANT UPDATE (chain_seq, prev_hash, row_hash) ON metadata_syncs TO CURRENT_USER")

    # One counting trigger per event on tasks.
    for name, (event, tables, queue_rows, status_rows, inserting) in COUNTERS.items():
        for old in OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER {old}_{name} ON tasks")
            op.execute(f"DROP FUNCTION {old}_{name}()")
        queue = QUEUE_COUNTS.format(queue_rows=queue_rows, inserting=inserting)
        body = queue + STATUS_COUNTS.format(status_rows=status_rows)
        _counter(f"task_counts_{name}", event, tables, body)

    # The board's age filter, by priority.
    op.execute("DROP INDEX ix_tasks_status_changed_at")
    op.execute(
        "CREATE INDEX ix_tasks_priority_status_changed_at ON tasks "
        "(priority, status_changed_at) INCLUDE (status, channel_id, failed_from)"
    )


def _counter(function: str, event: str, tables: str, body: str) -> None:
    op.execute(FUNCTION.format(function=function, body=body))
    op.execute(
        f"CREATE TRIGGER {function} AFTER {event} ON tasks "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


def downgrade():
    op.execute("DROP INDEX ix_tasks_priority_status_changed_at")
    op.execute(
        "CREATE INDEX ix_tasks_status_changed_at ON tasks (status_changed_at) "
        "INCLUDE (status, priority, channel_id, failed_from)"
    )
    for name, (event, tables, queue_rows, status_rows, inserting) in COUNTERS.items():
        op.execute(f"DROP TRIGGER task_counts_{name} ON tasks")
        op.execute(f"DROP FUNCTION task_counts_{name}()")
        queue = QUEUE_COUNTS.format(queue_rows=queue_rows, inserting=inserting)
        _counter(f"task_channel_counts_{name}", event, tables, queue)
        _counter(f"task_status_counts_{name}", event, tables, STATUS_COUNTS.format(
            status_rows=status_rows))  # fmt: skip

    # Every committed row has its place: the chain goes back to placing rows on insert.
    # (This run's own pending rows, if any, are placed first: see upgrade.)
    op.execute("SET CONSTRAINTS audit_chain_save IMMEDIATE")
    op.execute("SET CONSTRAINTS audit_chain_save DEFERRED")
    op.execute("REVOKE UPDATE (chain_seq, prev_hash, row_hash) ON metadata_syncs FROM CURRENT_USER")
    op.execute(OLD_APPEND_ONLY)
    op.execute(OLD_CHAIN_SAVE)
    op.execute(OLD_CHAIN_ROW)
    op.execute("DROP FUNCTION audit_chain_take()")
    op.execute("DROP INDEX ix_metadata_syncs_unchained")
    op.execute("ALTER TABLE metadata_syncs DROP CONSTRAINT ck_metadata_syncs_chained_whole")
    for column in ("chain_seq", "prev_hash", "row_hash"):
        op.execute(f"ALTER TABLE metadata_syncs ALTER COLUMN {column} SET NOT NULL")
