"""The audit trail made trustworthy: append-only rows, a hash chain, an archive, batches and
reverts.

- Every audit row carries `chain_seq`, `prev_hash` and `row_hash` = sha256(prev_hash ||
  the row's content), set by a BEFORE INSERT trigger. The first audit row of a transaction
  locks `audit_chain_head` until commit, so positions follow commit order even with many
  concurrent writers; later rows of the same transaction continue from a transaction-local
  setting, and the head moves once, at commit.
- UPDATE, DELETE and TRUNCATE of audit rows are refused twice over: the privileges are
  revoked from everyone including the owner (the application's role), and triggers refuse
  them for any role, superusers included. The one exception is the archive move: a row may
  leave `metadata_syncs` once its identical copy (same id, position and hash) is in
  `metadata_syncs_archive`, which is append-only too.
- `batch_size` marks the first row of a batch (for the collapsed log); `reverts_id` and
  `restored_to` say what a revert undid.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

EVENT = "batch_id IS NULL OR batch_size IS NOT NULL"
CHAIN_STATE = "catalog.audit_chain"

# The content a row's hash covers: every column but the hash itself, in a fixed order, each
# quoted or NULL (unambiguous, and cheaper than building jsonb), times as microseconds since
# the epoch (whatever the session's time zone or date style).
ROW_HASH = """
CREATE FUNCTION audit_row_hash(
    prev_hash bytea, chain_seq bigint, id bigint, entity_type text, entity_id bigint,
    entity_key text, video_title text, channel_display_name text, action text, source text,
    changes jsonb, user_id bigint, user_email text, batch_id uuid, batch_size integer,
    report_id bigint, reverts_id bigint, restored_to timestamptz, sync_time timestamptz
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(prev_hash || convert_to(concat_ws(',',
    chain_seq, id, quote_nullable(entity_type), entity_id, quote_nullable(entity_key),
    quote_nullable(video_title), quote_nullable(channel_display_name), quote_nullable(action),
    quote_nullable(source), quote_nullable(changes::text), quote_nullable(user_id),
    quote_nullable(user_email), quote_nullable(batch_id::text), quote_nullable(batch_size),
    quote_nullable(report_id), quote_nullable(reverts_id),
    quote_nullable((extract(epoch FROM restored_to) * 1000000)::bigint),
    (extract(epoch FROM sync_time) * 1000000)::bigint
  ), 'UTF8'))
$$
"""

HASH_ARGS = (
    "{p}prev_hash, {p}chain_seq, {p}id, {p}entity_type, {p}entity_id, {p}entity_key, "
    "{p}video_title, {p}channel_display_name, {p}action, {p}source, {p}changes, {p}user_id, "
    "{p}user_email, {p}batch_id, {p}batch_size, {p}report_id, {p}reverts_id, "
    "{p}restored_to, {p}sync_time"
)

CHAIN_ROW = f"""
CREATE FUNCTION audit_chain_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  state text := current_setting('{CHAIN_STATE}', true);
  seq bigint;
  last bytea;
BEGIN
  IF coalesce(state, '') = '' THEN
    -- This transaction's first audit row: wait for the chain, hold it until commit.
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

# The head moves once per transaction, at commit: a deferred trigger whose first call saves
# the transaction's last position and hash, the others finding it saved. (Moving it once per
# statement would update one row again and again in a transaction of many small inserts,
# and every such update walks the versions before it: quadratic.)
CHAIN_SAVE = f"""
CREATE FUNCTION audit_chain_save() RETURNS trigger LANGUAGE plpgsql AS $$
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

APPEND_ONLY = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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

# Existing rows are chained in id order. The hashes are computed in one pass into a
# temporary table and written by one joined UPDATE (an UPDATE per row would cost a
# million index updates per million rows, one at a time).
BACKFILL = f"""
CREATE TEMP TABLE audit_chain_backfill (
    id bigint, chain_seq bigint, prev_hash bytea, row_hash bytea
) ON COMMIT DROP;
UPDATE metadata_syncs m SET batch_size = b.n
FROM (SELECT min(id) AS first, count(*) AS n FROM metadata_syncs
      WHERE batch_id IS NOT NULL GROUP BY batch_id) b
WHERE m.id = b.first;
DO $$
DECLARE
  r record;
  seq bigint := 0;
  last bytea := '\\x'::bytea;
BEGIN
  FOR r IN SELECT * FROM metadata_syncs ORDER BY id LOOP
    seq := seq + 1;
    r.chain_seq := seq;
    r.prev_hash := last;
    last := audit_row_hash({HASH_ARGS.format(p="r.")});
    INSERT INTO audit_chain_backfill VALUES (r.id, seq, r.prev_hash, last);
  END LOOP;
  INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, seq, last);
END $$;
UPDATE metadata_syncs m SET chain_seq = b.chain_seq, prev_hash = b.prev_hash,
       row_hash = b.row_hash
FROM audit_chain_backfill b WHERE b.id = m.id;
"""


def _archive_columns() -> list[sa.Column]:
    """The live table's columns; the user is a plain number here (no foreign key)."""
    return [
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=30), server_default="video", nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("entity_key", sa.String(length=100), nullable=True),
        sa.Column("video_title", sa.String(length=200), nullable=True),
        sa.Column("channel_display_name", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("user_email", sa.String(length=255), nullable=True),
        sa.Column("batch_id", sa.UUID(), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("reverts_id", sa.BigInteger(), nullable=True),
        sa.Column("restored_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "sync_time", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("row_hash", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
    ]


def upgrade():
    with op.batch_alter_table("metadata_syncs") as batch_op:
        batch_op.add_column(sa.Column("batch_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reverts_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("restored_to", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.LargeBinary(), nullable=True))

    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "metadata_syncs_archive",
        *_archive_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_syncs_archive")),
    )
    archive = "metadata_syncs_archive"
    op.create_index("ix_metadata_syncs_archive_time", archive, ["sync_time", "id"])
    op.create_index("ix_metadata_syncs_archive_user_time", archive, ["user_id", "sync_time", "id"])
    op.create_index("ix_metadata_syncs_archive_source_time", archive, ["source", "sync_time", "id"])
    op.create_index(
        "ix_metadata_syncs_archive_entity_key_time",
        archive,
        ["entity_type", "entity_key", "sync_time", "id"],
    )
    op.create_index(
        "ix_metadata_syncs_archive_entity_time",
        archive,
        ["entity_type", "entity_id", "sync_time", "id"],
    )
    for name, columns in (
        ("ix_metadata_syncs_archive_event_time", ["sync_time", "id"]),
        ("ix_metadata_syncs_archive_event_user_time", ["user_id", "sync_time", "id"]),
        ("ix_metadata_syncs_archive_event_source_time", ["source", "sync_time", "id"]),
    ):
        op.create_index(name, archive, columns, postgresql_where=sa.text(EVENT))
    op.create_index(
        "ix_metadata_syncs_archive_batch",
        archive,
        ["batch_id"],
        postgresql_where=sa.text("batch_id IS NOT NULL"),
    )
    op.create_index(
        "ix_metadata_syncs_archive_changes", archive, ["changes"], postgresql_using="gin"
    )
    op.create_index("uq_metadata_syncs_archive_chain_seq", archive, ["chain_seq"], unique=True)

    op.execute(ROW_HASH)
    op.execute(BACKFILL)
    with op.batch_alter_table("metadata_syncs") as batch_op:
        batch_op.alter_column("chain_seq", nullable=False)
        batch_op.alter_column("prev_hash", nullable=False)
        batch_op.alter_column("row_hash", nullable=False)

    live = "metadata_syncs"
    op.create_index("uq_metadata_syncs_chain_seq", live, ["chain_seq"], unique=True)
    op.create_index(
        "ix_metadata_syncs_event_time", live, ["sync_time", "id"],
        postgresql_where=sa.text(EVENT),
    )  # fmt: skip
    op.create_index(
        "ix_metadata_syncs_event_user_time", live, ["user_id", "sync_time", "id"],
        postgresql_where=sa.text(EVENT),
    )  # fmt: skip
    op.create_index(
        "ix_metadata_syncs_event_source_time", live, ["source", "sync_time", "id"],
        postgresql_where=sa.text(EVENT),
    )  # fmt: skip
    op.create_index(
        "ix_metadata_syncs_reverts", live, ["reverts_id"],
        postgresql_where=sa.text("reverts_id IS NOT NULL"),
    )  # fmt: skip

    # Rows of one transaction share their time: the id orders them in an entity's history.
    op.drop_index("ix_metadata_syncs_entity_time", table_name=live)
    op.execute(
        "CREATE INDEX ix_metadata_syncs_entity_time ON metadata_syncs "
        "(entity_type, entity_id, sync_time DESC, id DESC)"
    )

    op.execute(CHAIN_ROW)
    op.execute(CHAIN_SAVE)
    op.execute(APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER audit_chain BEFORE INSERT ON metadata_syncs "
        "FOR EACH ROW EXECUTE FUNCTION audit_chain_row()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER audit_chain_save AFTER INSERT ON metadata_syncs "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain_save()"
    )
    for table in (live, archive):
        op.execute(
            f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
    # The owner is the application's role: it keeps SELECT and INSERT on the live table,
    # SELECT only on the archive (the archive command grants itself the move, see
    # catalog.audit_integrity.archive).
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {live} FROM PUBLIC, CURRENT_USER")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {archive} FROM PUBLIC, CURRENT_USER")


def downgrade():
    live, archive = "metadata_syncs", "metadata_syncs_archive"
    op.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {live} TO CURRENT_USER")
    for table in (live, archive):
        op.execute(f"DROP TRIGGER append_only_truncate ON {table}")
        op.execute(f"DROP TRIGGER append_only ON {table}")
    op.execute(f"DROP TRIGGER audit_chain_save ON {live}")
    op.execute(f"DROP TRIGGER audit_chain ON {live}")
    op.execute("DROP FUNCTION audit_append_only()")
    op.execute("DROP FUNCTION audit_chain_save()")
    op.execute("DROP FUNCTION audit_chain_row()")
    op.execute("DROP FUNCTION audit_row_hash")
    op.drop_index("ix_metadata_syncs_entity_time", table_name=live)
    op.execute(
        "CREATE INDEX ix_metadata_syncs_entity_time ON metadata_syncs "
        "(entity_type, entity_id, sync_time DESC)"
    )
    for name in (
        "ix_metadata_syncs_reverts", "ix_metadata_syncs_event_source_time",
        "ix_metadata_syncs_event_user_time", "ix_metadata_syncs_event_time",
        "uq_metadata_syncs_chain_seq",
    ):  # fmt: skip
        op.drop_index(name, table_name=live)
    with op.batch_alter_table(live) as batch_op:
        for column in (
            "row_hash", "prev_hash", "chain_seq", "restored_to", "reverts_id", "batch_size"
        ):  # fmt: skip
            batch_op.drop_column(column)
    op.drop_table(archive)
    op.drop_table("audit_chain_head")
