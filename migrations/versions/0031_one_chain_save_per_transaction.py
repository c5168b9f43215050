"""the chain's head moved by one deferred event per transaction, not one per audit row

`audit_chain_save` (migrations 0010, 0023) is a deferred constraint trigger FOR EACH ROW: a
transaction that writes N audit rows queued N events, and its commit ran the function N
times, the first doing the work (placing rows chained at commit, moving the head) and the
others finding it done. A report import writes one audit row per changed video: 120,392
at the import benchmark's million rows, whose commit spent 0.42 to 0.75 s on those calls
alone (1 ms now, measured on a copy of the benchmark's database). A bulk edit of a million
videos queued a million.

Now the trigger has a WHEN condition: it is queued only for the transaction's first audit
row since the head was last saved. `audit_chain_row` notes that row's id in a transaction-local
setting (`catalog.audit_chain_first`) and `audit_chain_save` clears it when it runs. So:

- A transaction queues one event, for its first row, and its commit runs the function once,
  after every row: what it places and saves is the transaction's final state, as before.
- A savepoint rolled back takes its events and its settings with it: if it held the first
  row, the setting is back to empty and the next row queues the event again.
- Under SET CONSTRAINTS ... IMMEDIATE the event runs at the end of its statement and clears
  the setting, so the next statement's first row queues another: the head still moves to
  the last row written.

What the chain holds and guarantees is unchanged: every committed row has its place, in
commit order, and the head is the last of them.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

CHAIN_STATE = "catalog.audit_chain"
PENDING = "catalog.audit_chain_pending"
FIRST = "catalog.audit_chain_first"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
CHAINED_AT_COMMIT = "'task'"

# As in migration 0010 (a migration does not import another).
HASH_ARGS = (
    "{p}prev_hash, {p}chain_seq, {p}id, {p}entity_type, {p}entity_id, {p}entity_key, "
    "{p}video_title, {p}channel_display_name, {p}action, {p}source, {p}changes, {p}user_id, "
    "{p}user_email, {p}batch_id, {p}batch_size, {p}report_id, {p}reverts_id, "
    "{p}restored_to, {p}sync_time"
)


def _chain_row(note_first: str) -> str:
    """audit_chain_row as migration 0023 wrote it, with `note_first` at its start."""
    return f"""
CREATE OR REPLACE FUNCTION audit_chain_row() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
  seq bigint;
  last bytea;
BEGIN{note_first}
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


NOTE_FIRST = f"""
  -- The row that queues the transaction's one audit_chain_save event (its WHEN).
  IF coalesce(current_setting('{FIRST}', true), '') = '' THEN
    PERFORM set_config('{FIRST}', NEW.id::text, true);
  END IF;"""


def _chain_save(clear_first: str) -> str:
    """audit_chain_save as migration 0023 wrote it, with `clear_first` at its start."""
    return f"""
CREATE OR REPLACE FUNCTION audit_chain_save() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
  state text;
BEGIN{clear_first}
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


CLEAR_FIRST = f"""
  -- Saved from here on: the next row written (after SET CONSTRAINTS ... IMMEDIATE) queues
  -- the event again.
  PERFORM set_config('{FIRST}', '', true);"""


def _save_trigger(when: str) -> str:
    return (
        "CREATE CONSTRAINT TRIGGER audit_chain_save AFTER INSERT ON metadata_syncs "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when}EXECUTE FUNCTION audit_chain_save()"
    )


def _replace(chain_row: str, chain_save: str, when: str) -> None:
    # Events of this run's earlier migrations, if any, are fired now: a table with pending
    # trigger events cannot be altered.
    op.execute("SET CONSTRAINTS audit_chain_save IMMEDIATE")
    op.execute("SET CONSTRAINTS audit_chain_save DEFERRED")
    op.execute(chain_row)
    op.execute(chain_save)
    op.execute("DROP TRIGGER audit_chain_save ON metadata_syncs")
    op.execute(_save_trigger(when))


def upgrade():
    _replace(
        _chain_row(NOTE_FIRST),
        _chain_save(CLEAR_FIRST),
        f"WHEN (NEW.id::text = current_setting('{FIRST}', true)) ",
    )


def downgrade():
    _replace(_chain_row(""), _chain_save(""), "")
