"""a cheaper chain step at commit: the pending rows placed one UPDATE each, the append-only
check without jsonb

A claim is one statement and its commit (catalog/production/claim.py); of the server's work
per claim, placing its task audit row in the chain at commit (migration 0023) was a third:
about 0.45 ms of 1.4 ms at the production bench's million tasks, against 0.2 ms for the
row's insert. Two parts of that step were costlier than they need be, and are replaced
without changing what the chain holds or guarantees:

- `audit_chain_take()` read each pending row whole (`SELECT *` into a record), hashed it in
  PL/pgSQL, collected ids, positions and hashes into arrays and wrote them with one
  `UPDATE ... FROM unnest(...)`. Now each pending row, in id order, is placed by one
  `UPDATE ... RETURNING` whose SET computes the same hash from the row's own columns, and
  the position and hash it returns are the next row's starting point. A claim has one
  pending row: one statement instead of a read, the array work and a join. (A bulk action's
  transaction has many: one UPDATE per row, each by primary key, which is what the joined
  UPDATE did per row anyway.)
- `audit_append_only()` let the placing UPDATE through after comparing the old and new rows
  as jsonb, each row converted whole (`to_jsonb(NEW) - chain columns`): a third of the
  UPDATE's cost. Now the new row with its three chain columns cleared is compared with the
  old row as a row value (IS NOT DISTINCT FROM, column by column): the same condition, no
  conversion.

The trade-off considered and not taken: placing task rows later, in batches (by a periodic
job or the next writer that takes the chain's head), would take the head and the function
calls out of every claim's commit, but a committed row would have no place for a while, and
within that while a superuser could change or delete it unnoticed. Every committed row
still has its place at commit.

Revision ID: 0029
Revises: 0027
Create Date: 2026-12-02
"""

from alembic import op

revision = "0029"
down_revision = "0027"
branch_labels = None
depends_on = None

CHAIN_STATE = "catalog.audit_chain"
PENDING = "catalog.audit_chain_pending"

# As in migrations 0010 and 0023 (a migration does not import another).
HASH_ARGS = (
    "{p}prev_hash, {p}chain_seq, {p}id, {p}entity_type, {p}entity_id, {p}entity_key, "
    "{p}video_title, {p}channel_display_name, {p}action, {p}source, {p}changes, {p}user_id, "
    "{p}user_email, {p}batch_id, {p}batch_size, {p}report_id, {p}reverts_id, "
    "{p}restored_to, {p}sync_time"
)
# The hash of row m placed after (seq, last): its new position and previous hash first.
PLACED_HASH = HASH_ARGS.format(p="m.").replace("m.prev_hash, m.chain_seq", "last, seq + 1")

TAKE = f"""
CREATE OR REPLACE FUNCTION audit_chain_take() RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
  pending text := current_setting('{PENDING}', true);
  seq bigint;
  last bytea;
  r record;
BEGIN
  IF coalesce(state, '') = '' THEN
    SELECT last_seq, last_hash INTO seq, last FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  ELSE
    seq := split_part(state, ':', 1)::bigint;
    last := decode(split_part(state, ':', 2), 'hex');
  END IF;
  IF coalesce(pending, '') <> '' THEN
    -- The loop's query sees the rows as they were when it began: the new versions this
    -- UPDATE writes are not read again.
    FOR r IN SELECT id FROM metadata_syncs
             WHERE chain_seq IS NULL AND id >= pending::bigint ORDER BY id LOOP
      UPDATE metadata_syncs m
      SET chain_seq = seq + 1, prev_hash = last, row_hash = audit_row_hash({PLACED_HASH})
      WHERE m.id = r.id
      RETURNING m.chain_seq, m.row_hash INTO seq, last;
    END LOOP;
    PERFORM set_config('{PENDING}', '', true);
  END IF;
  state := seq || ':' || encode(last, 'hex');
  PERFORM set_config('{CHAIN_STATE}', state, true);
  RETURN state;
END $$
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unplaced metadata_syncs;
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'metadata_syncs' AND EXISTS (
      SELECT 1 FROM metadata_syncs_archive a
      WHERE a.id = OLD.id AND a.chain_seq = OLD.chain_seq AND a.row_hash = OLD.row_hash) THEN
    RETURN OLD;  -- moved to the archive, not lost
  END IF;
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'metadata_syncs' AND OLD.chain_seq IS NULL
     AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL
  THEN
    unplaced := NEW;
    unplaced.chain_seq := NULL;
    unplaced.prev_hash := NULL;
    unplaced.row_hash := NULL;
    IF unplaced IS NOT DISTINCT FROM OLD THEN
      RETURN NEW;  -- a row chained at commit given its place, once
    END IF;
  END IF;
  RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$
"""

# Migration 0023's versions, for the downgrade.
OLD_TAKE = f"""
CREATE OR REPLACE FUNCTION audit_chain_take() RETURNS text LANGUAGE plpgsql
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

CHAIN_COLUMNS = "ARRAY['chain_seq', 'prev_hash', 'row_hash']"
OLD_APPEND_ONLY = f"""
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


def upgrade():
    op.execute(TAKE)
    op.execute(APPEND_ONLY)


def downgrade():
    op.execute(OLD_APPEND_ONLY)
    op.execute(OLD_TAKE)
