"""Proving the audit trail whole, and moving old months to the archive.

The chain itself is written by the database (migration 0010): each audit row's `row_hash`
is sha256 of the previous row's hash and the row's own content, and positions (`chain_seq`)
run 1, 2, 3... across the live table and the archive (a task's row gets its place at its
transaction's commit, migration 0023; every committed row has one). `verify` recomputes
every hash in PostgreSQL, a slice at a time, and names the first link that does not hold
(or a committed row without a place); then it checks the chain against the signed
checkpoints kept outside the database (catalog.changes.checkpoints), which catch a rewrite
whose hashes were all recomputed."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from catalog.changes import checkpoints
from catalog.extensions import db

SLICE = 200_000
COLUMNS = (
    "id, entity_type, entity_id, entity_key, video_title, channel_display_name, action, "
    "source, changes, user_id, user_email, batch_id, batch_size, report_id, reverts_id, "
    "restored_to, sync_time, chain_seq, prev_hash, row_hash"
)
HASH_ARGS = (
    "prev_hash, chain_seq, id, entity_type, entity_id, entity_key, video_title, "
    "channel_display_name, action, source, changes, user_id, user_email, batch_id, "
    "batch_size, report_id, reverts_id, restored_to, sync_time"
)

# One slice of positions from both tables, each row beside the hash it should carry and the
# row before it; only rows that break the chain come back, the first one first.
SLICE_CHECK = text(f"""
WITH slice AS (
  SELECT chain_seq, id, prev_hash, row_hash, audit_row_hash({HASH_ARGS}) AS expected,
         'live' AS place
  FROM metadata_syncs WHERE chain_seq > :after AND chain_seq <= :after + :size
  UNION ALL
  SELECT chain_seq, id, prev_hash, row_hash, audit_row_hash({HASH_ARGS}), 'archive'
  FROM metadata_syncs_archive WHERE chain_seq > :after AND chain_seq <= :after + :size
), linked AS (
  SELECT *, coalesce(lag(chain_seq) OVER w, :after) AS before_seq,
         coalesce(lag(row_hash) OVER w, CAST(:after_hash AS bytea)) AS before_hash
  FROM slice WINDOW w AS (ORDER BY chain_seq, place)
)
SELECT chain_seq, id, place,
       CASE WHEN chain_seq = before_seq THEN 'duplicate'
            WHEN chain_seq > before_seq + 1 THEN 'missing'
            WHEN row_hash IS DISTINCT FROM expected THEN 'altered'
            ELSE 'relinked' END AS problem,
       before_seq
FROM linked
WHERE chain_seq <> before_seq + 1 OR row_hash IS DISTINCT FROM expected
   OR prev_hash IS DISTINCT FROM before_hash
ORDER BY chain_seq, place LIMIT 1
""")

SLICE_END = text("""
SELECT chain_seq, row_hash FROM (
  SELECT chain_seq, row_hash FROM metadata_syncs
  WHERE chain_seq > :after AND chain_seq <= :after + :size
  UNION ALL
  SELECT chain_seq, row_hash FROM metadata_syncs_archive
  WHERE chain_seq > :after AND chain_seq <= :after + :size
) s ORDER BY chain_seq DESC LIMIT 1
""")

BEYOND_HEAD = text(
    "SELECT EXISTS (SELECT FROM metadata_syncs WHERE chain_seq > :seq) "
    "OR EXISTS (SELECT FROM metadata_syncs_archive WHERE chain_seq > :seq)"
)

# A committed row without a place: task rows are placed at their commit (migration 0023),
# so only a commit that bypassed the chain's triggers leaves one. (Rows of transactions still
# in flight are not in the snapshot.)
UNCHAINED = text("SELECT id FROM metadata_syncs WHERE chain_seq IS NULL ORDER BY id LIMIT 1")

PROBLEMS = {
    "altered": "its content no longer matches its hash (the row was changed)",
    "relinked": "it does not carry the hash of the row before it (rows were replaced)",
    "duplicate": "two rows hold the same position",
}


@dataclass
class Verdict:
    checked: int
    last_seq: int
    broken_at: int | None = None  # the first chain position that does not hold
    reason: str = ""
    checkpoints: int = 0  # signed checkpoints the chain matches
    # The chain's own hashes hold, but a checkpoint does not: rewritten and rehashed.
    against_checkpoint: bool = False

    @property
    def ok(self) -> bool:
        return self.broken_at is None


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """A read-only REPEATABLE READ transaction: the head and every row from one snapshot, so
    rows that writers commit meanwhile are neither walked nor taken for rows beyond the head
    (they are not in the snapshot at all)."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET TRANSACTION READ ONLY"))
            yield connection


def _head(connection: Connection) -> tuple[int, bytes]:
    return connection.execute(
        text("SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1")
    ).one()


def verify(slice_size: int = SLICE) -> Verdict:
    """Walk the whole chain, live and archived rows, in order of position, then check it
    against every signed checkpoint (catalog.changes.checkpoints). CheckpointError when
    checkpoints cannot be checked (no key)."""
    with _snapshot() as connection:
        verdict = _walk(connection, slice_size)
        if not verdict.ok:
            return verdict
        held, problems = checkpoints.check(current_app, connection, verdict.last_seq)
    if problems:
        first = problems[0]
        return Verdict(verdict.checked, verdict.last_seq, first.seq, first.reason, held, True)
    verdict.checkpoints = held
    return verdict


def checkpoint(slice_size: int = SLICE) -> checkpoints.Checkpoint | None:
    """Write a signed checkpoint of the chain's head, after verifying the chain from the
    newest checkpoint to the head (a checkpoint must never vouch for a rewrite): the
    checkpoint, the newest one when the head has not moved since, None when there is no
    audit row yet. CheckpointError, and nothing written, when the chain does not hold."""
    app = current_app
    with _snapshot() as connection:
        head_seq, head_hash = _head(connection)
        _, problems = checkpoints.check(app, connection, head_seq)
        if problems:
            raise checkpoints.CheckpointError(f"No checkpoint written: {problems[0].reason}.")
        last = checkpoints.latest(app)
        if head_seq == 0 or (last is not None and last.seq == head_seq):
            return last
        after = (last.seq, last.row_hash) if last else (0, b"")
        verdict = _walk(connection, slice_size, *after)
    if not verdict.ok:
        raise checkpoints.CheckpointError(
            f"No checkpoint written: the chain is broken at position {verdict.broken_at}: "
            f"{verdict.reason}."
        )
    return checkpoints.write(app, head_seq, head_hash)


def _walk(
    connection: Connection, slice_size: int, after: int = 0, after_hash: bytes = b""
) -> Verdict:
    """Walk the chain from position `after` (whose hash is `after_hash`) to the head."""
    head_seq, head_hash = _head(connection)
    while after < head_seq:
        params = {"after": after, "after_hash": after_hash, "size": slice_size}
        broken = connection.execute(SLICE_CHECK, params).first()
        if broken and broken.problem == "missing":
            first = broken.before_seq + 1
            reason = f"positions {first} to {broken.chain_seq - 1} are missing"
            return Verdict(first - 1, head_seq, first, reason)
        if broken:
            where = "" if broken.place == "live" else " (archived)"
            reason = f"audit row {broken.id}{where}: {PROBLEMS[broken.problem]}"
            return Verdict(broken.chain_seq - 1, head_seq, broken.chain_seq, reason)
        end = connection.execute(SLICE_END, params).first()
        if end is None:
            reason = f"positions {after + 1} to {head_seq} (the newest) are missing"
            return Verdict(after, head_seq, after + 1, reason)
        after, after_hash = end.chain_seq, end.row_hash
    if after_hash != head_hash:
        reason = "the newest row's hash is not the one the chain's head holds"
        return Verdict(head_seq - 1, head_seq, head_seq, reason)
    if connection.scalar(BEYOND_HEAD, {"seq": head_seq}):
        reason = f"rows lie beyond the chain's head (position {head_seq})"
        return Verdict(head_seq, head_seq, head_seq + 1, reason)
    if (unchained := connection.scalar(UNCHAINED)) is not None:
        reason = f"audit row {unchained} was committed without a place in the chain"
        return Verdict(head_seq, head_seq, head_seq + 1, reason)
    return Verdict(head_seq, head_seq)


class ArchiveRefused(ValueError):
    pass


def month_start(value: str) -> datetime:
    """`2025-01` → 2025-01-01T00:00Z; ArchiveRefused if it is not a past month."""
    try:
        year, month = (int(part) for part in value.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError as exc:
        raise ArchiveRefused(f"{value!r} is not a month (YYYY-MM).") from exc
    today = datetime.now(UTC)
    if start > datetime(today.year, today.month, 1, tzinfo=UTC):
        raise ArchiveRefused("Only whole past months can be archived.")
    return start


def archive_before(cutoff: datetime, session: Session | None = None) -> int:
    """Move every audit row older than `cutoff` to the archive, in the transaction of
    `session` (default: db.session), which must be the schema owner's; returns how many
    moved.

    The application's role may not move rows: it holds neither INSERT on the archive nor
    DELETE on the live table, and cannot grant them to itself (migration 0013). The owner
    has them revoked as well (migration 0010) and grants itself both for this transaction
    only; the database still lets a row leave the live table only once its identical copy
    is in the archive. Nothing is deleted: rows change table, hashes and positions
    unchanged."""
    session = session or db.session
    session.execute(text("GRANT INSERT ON metadata_syncs_archive TO CURRENT_USER"))
    session.execute(text("GRANT DELETE ON metadata_syncs TO CURRENT_USER"))
    moved = session.scalar(
        text(f"""
WITH moved AS (
  INSERT INTO metadata_syncs_archive ({COLUMNS})
  SELECT {COLUMNS} FROM metadata_syncs WHERE sync_time < :cutoff ORDER BY chain_seq
  RETURNING 1
) SELECT count(*) FROM moved
"""),
        {"cutoff": cutoff},
    )
    deleted = session.execute(
        text("DELETE FROM metadata_syncs WHERE sync_time < :cutoff"), {"cutoff": cutoff}
    ).rowcount
    session.execute(text("REVOKE DELETE ON metadata_syncs FROM CURRENT_USER"))
    session.execute(text("REVOKE INSERT ON metadata_syncs_archive FROM CURRENT_USER"))
    if deleted != moved:  # a row written meanwhile with an old time: move nothing
        raise ArchiveRefused(f"{moved} rows copied but {deleted} removed; nothing was moved.")
    return moved
