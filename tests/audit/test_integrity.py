"""The audit trail cannot be edited by the application, and what a superuser edits behind its
back is found: append-only tables, the hash chain, `flask catalog audit verify`, parallel
writers, and the archive move."""

import json
import threading
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from catalog import audit
from catalog.changes import checkpoints, integrity
from catalog.changes.integrity import COLUMNS
from catalog.extensions import db
from catalog.models import MetadataSync, MetadataSyncArchive, Video
from catalog.videos import service
from tests.audit.conftest import as_owner, as_superuser
from tests.jobs.conftest import Workers, wait_for

REFUSED_TO_THE_APP = [
    "UPDATE metadata_syncs SET source = 'cli'",
    "DELETE FROM metadata_syncs",
    "TRUNCATE metadata_syncs",
    f"INSERT INTO metadata_syncs_archive ({COLUMNS}) SELECT {COLUMNS} FROM metadata_syncs",
    "UPDATE metadata_syncs_archive SET source = 'cli'",
    "DELETE FROM metadata_syncs_archive",
    "TRUNCATE metadata_syncs_archive",
]


def note(number: int, *, when: datetime | None = None) -> dict:
    row = audit.entity_row(
        "channel", number, f"UC{number}", action="update",
        changes={"name": [f"old {number}", f"new {number}"]}, source="cli", actor=None,
    )  # fmt: skip
    return {**row, "sync_time": when} if when else row


def write(app, *rows: dict) -> None:
    with app.app_context():
        for row in rows:
            audit.record(row)
        db.session.commit()


def verify(app):
    return app.test_cli_runner().invoke(args=["catalog", "audit", "verify"])


@pytest.mark.parametrize("statement", REFUSED_TO_THE_APP)
def test_the_application_role_cannot_alter_audit_rows(app_ctx, statement):
    audit.record(note(1))
    db.session.flush()
    savepoint = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="permission denied"):
        db.session.execute(text(statement))
    savepoint.rollback()
    assert db.session.scalar(select(func.count()).select_from(MetadataSync)) >= 1


def test_even_a_superuser_is_refused_while_the_triggers_stand(ledger, postgres):
    write(ledger, note(1), note(2))
    for statement in (
        "UPDATE metadata_syncs SET source = 'web'",
        "DELETE FROM metadata_syncs",
        "TRUNCATE metadata_syncs",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            as_superuser(postgres, statement)
        assert "append-only" in str(refused.value)
    assert as_superuser(postgres, "SELECT count(*) FROM metadata_syncs") == "2"


def test_every_row_is_chained_to_the_one_before(ledger):
    write(ledger, note(1))
    write(ledger, note(2), note(3))
    with ledger.app_context():
        rows = db.session.scalars(select(MetadataSync).order_by(MetadataSync.chain_seq)).all()
        assert [row.chain_seq for row in rows] == [1, 2, 3]
        assert rows[0].prev_hash == b""
        assert [row.prev_hash for row in rows[1:]] == [row.row_hash for row in rows[:-1]]
        assert len({row.row_hash for row in rows}) == 3
        assert all(len(row.row_hash) == 32 for row in rows)
        head = db.session.execute(text("SELECT last_seq, last_hash FROM audit_chain_head")).one()
        assert head == (3, rows[-1].row_hash)


def test_verify_passes_on_an_untouched_chain(ledger):
    write(ledger, note(1), note(2))
    with ledger.app_context():
        video = service.create_video({"video_id": "dQw4w9WgXcQ", "title": "A"}, actor=None)
        service.update_video(video, {"title": "B"}, expected_version=None, actor=None)
        db.session.commit()
    result = verify(ledger)
    assert result.exit_code == 0, result.output
    assert "OK: 4 audit rows" in result.output


def test_verify_finds_a_row_changed_by_a_superuser(ledger, postgres):
    write(ledger, *(note(n) for n in range(1, 6)))
    as_superuser(
        postgres,
        "SET session_replication_role = replica; "
        'UPDATE metadata_syncs SET changes = \'{"name": ["old 3", "forged"]}\' '
        "WHERE chain_seq = 3",
    )
    result = verify(ledger)
    assert result.exit_code == 1
    assert "BROKEN at chain position 3" in result.output
    assert "no longer matches its hash" in result.output
    assert "2 rows checked before it" in result.output


def test_verify_finds_a_forged_row_whose_own_hash_was_recomputed(ledger, postgres):
    """A forger who also recomputes the row's hash breaks the link to the next row."""
    write(ledger, *(note(n) for n in range(1, 6)))
    args = (
        "prev_hash, chain_seq, id, entity_type, entity_id, entity_key, video_title, "
        "channel_display_name, action, source, changes, user_id, user_email, batch_id, "
        "batch_size, report_id, reverts_id, restored_to, sync_time"
    )
    as_superuser(
        postgres,
        "SET session_replication_role = replica; "
        'UPDATE metadata_syncs SET changes = \'{"name": ["old 2", "forged"]}\' '
        "WHERE chain_seq = 2;"
        f"UPDATE metadata_syncs SET row_hash = audit_row_hash({args}) WHERE chain_seq = 2",
    )
    result = verify(ledger)
    assert result.exit_code == 1
    assert "BROKEN at chain position 3" in result.output
    assert "does not carry the hash of the row before it" in result.output


def test_verify_finds_a_deleted_row_and_a_deleted_tail(ledger, postgres):
    write(ledger, *(note(n) for n in range(1, 6)))
    replica = "SET session_replication_role = replica; "
    as_superuser(postgres, replica + "DELETE FROM metadata_syncs WHERE chain_seq = 5")
    result = verify(ledger)
    assert result.exit_code == 1
    assert "BROKEN at chain position 5: positions 5 to 5 (the newest) are missing" in result.output
    as_superuser(postgres, replica + "DELETE FROM metadata_syncs WHERE chain_seq = 2")
    result = verify(ledger)
    assert "BROKEN at chain position 2: positions 2 to 2 are missing" in result.output


def test_a_rolled_back_savepoint_leaves_no_hole(ledger):
    with ledger.app_context():
        audit.record(note(1))
        db.session.flush()
        savepoint = db.session.begin_nested()
        audit.record(note(2))
        db.session.flush()
        savepoint.rollback()
        audit.record(note(3))
        db.session.commit()
        seqs = db.session.scalars(select(MetadataSync.chain_seq).order_by("chain_seq")).all()
    assert seqs == [1, 2]
    assert verify(ledger).exit_code == 0


def test_parallel_writers_keep_one_unbroken_chain(ledger):
    """Writers that overlap in time: each transaction writes a row, waits, writes two more
    (one statement) and commits. Positions follow commit order; nothing forks."""
    writers, transactions = 6, 12
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            with ledger.app_context():
                start.wait()
                for n in range(transactions):
                    audit.record(note(number * 1000 + n))
                    db.session.flush()
                    db.session.execute(text("SELECT pg_sleep(0.002)"))
                    audit.record_many([note(number * 1000 + n + 500)] * 2)
                    db.session.commit()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with ledger.app_context():
        seqs = db.session.scalars(select(MetadataSync.chain_seq).order_by("chain_seq")).all()
    assert seqs == list(range(1, writers * transactions * 3 + 1))
    result = verify(ledger)
    assert result.exit_code == 0, result.output


def test_archive_moves_old_months_and_keeps_the_chain(ledger):
    old = datetime(2025, 1, 15, tzinfo=UTC)
    write(ledger, note(1, when=old), note(2, when=old), note(3))
    result = ledger.test_cli_runner().invoke(
        args=["catalog", "audit", "archive", "--before", "2025-02"]
    )
    assert result.exit_code == 0, result.output
    assert "Moved 2 audit rows" in result.output
    with ledger.app_context():
        live = db.session.scalars(select(MetadataSync.chain_seq)).all()
        archived = db.session.scalars(
            select(MetadataSyncArchive.chain_seq).order_by("chain_seq")
        ).all()
        assert (live, archived) == ([3], [1, 2])
        # The move's privileges ended with it.
        with pytest.raises(DBAPIError, match="permission denied"):
            db.session.execute(text("DELETE FROM metadata_syncs"))
        db.session.rollback()
    write(ledger, note(4))
    result = verify(ledger)
    assert result.exit_code == 0, result.output
    assert "OK: 4 audit rows" in result.output


def test_a_superuser_cannot_delete_a_row_that_is_not_archived(ledger, postgres):
    write(ledger, note(1))
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        as_superuser(postgres, "DELETE FROM metadata_syncs")
    assert "append-only" in str(refused.value)


@pytest.mark.parametrize(
    ("month", "message"),
    [("2025-13", "is not a month"), ("soon", "is not a month"), ("2999-01", "past months")],
)
def test_archive_refuses_what_is_not_a_past_month(ledger, month, message):
    write(ledger, note(1))
    result = ledger.test_cli_runner().invoke(
        args=["catalog", "audit", "archive", "--before", month]
    )
    assert result.exit_code != 0
    assert message in result.output
    with ledger.app_context():
        assert db.session.scalar(select(func.count()).select_from(MetadataSync)) == 1


def test_verify_finds_a_row_added_behind_the_chains_back(ledger, postgres):
    write(ledger, note(1), note(2))
    as_superuser(
        postgres,
        "SET session_replication_role = replica; "
        "INSERT INTO metadata_syncs (entity_type, entity_id, action, source, changes, "
        "chain_seq, prev_hash, row_hash) SELECT entity_type, entity_id, action, source, "
        "changes, 9, row_hash, row_hash FROM metadata_syncs WHERE chain_seq = 2",
    )
    result = verify(ledger)
    assert result.exit_code == 1
    assert "BROKEN at chain position 3: positions 3 to 8 are missing" in result.output


def test_verify_holds_while_an_editor_saves(ledger):
    """Verify reads one snapshot: rows committed while it walks the chain are not taken for
    tampering. A writer saves a video through the videos service, commit after commit, while
    verify runs again and again in small slices (many statements, so commits land between
    them); every run must say OK, and runs must overlap commits for this to prove anything."""
    write(ledger, *(note(n) for n in range(1, 301)))
    with ledger.app_context():
        video = service.create_video({"video_id": "dQw4w9WgXcQ", "title": "t0"}, actor=None)
        db.session.commit()
        video_id = video.id
    stop = threading.Event()
    failures: list[BaseException] = []
    saves = []

    def edit() -> None:
        try:
            with ledger.app_context():
                while not stop.is_set():
                    video = db.session.get(Video, video_id)
                    title = f"t{len(saves) + 1}"
                    service.update_video(video, {"title": title}, expected_version=None, actor=None)
                    db.session.commit()
                    saves.append(title)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    def head() -> int:
        seq = db.session.scalar(text("SELECT last_seq FROM audit_chain_head"))
        db.session.rollback()
        return seq

    writer = threading.Thread(target=edit)
    writer.start()
    try:
        with ledger.app_context():
            overlapped = runs = 0
            while overlapped < 5 and runs < 200 and not failures:
                before = head()
                verdict = integrity.verify(slice_size=7)
                assert verdict.ok, verdict.reason
                assert verdict.last_seq >= before
                overlapped += head() > verdict.last_seq >= before
                runs += 1
        result = verify(ledger)
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        writer.join()
    assert not failures
    assert overlapped == 5, f"only {overlapped} of {runs} runs saw a commit land meanwhile"


# -- the application's role, and checkpoints the owner cannot forge -------------------------

REFUSED_TO_THE_APP_ROLE = [
    "ALTER TABLE metadata_syncs DISABLE TRIGGER USER",
    "ALTER TABLE metadata_syncs DISABLE TRIGGER append_only",
    "DROP TRIGGER append_only ON metadata_syncs",
    "DROP TABLE metadata_syncs",
    "ALTER TABLE metadata_syncs RENAME TO metadata_syncs_old",
    "ALTER FUNCTION audit_row_hash RENAME TO audit_row_hash_old",
    "UPDATE audit_chain_head SET last_seq = 0",
    "DROP TABLE videos",
    "ALTER TABLE videos DISABLE TRIGGER USER",
    "CREATE TABLE public.stray (id integer)",
]


@pytest.mark.parametrize("statement", REFUSED_TO_THE_APP_ROLE)
def test_the_application_role_cannot_change_the_schema_or_the_chain(app_ctx, statement):
    savepoint = db.session.begin_nested()
    with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
        db.session.execute(text(statement))
    savepoint.rollback()


def test_the_application_role_owns_nothing_and_cannot_grant_itself_more(app_ctx):
    owned = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles "
            "WHERE rolname = current_user)"
        )
    )
    assert owned == 0
    # Without the grant option PostgreSQL only warns ("no privileges were granted"): what
    # counts is that the privilege is still missing after the attempt.
    db.session.execute(text("GRANT UPDATE, DELETE, TRUNCATE ON metadata_syncs TO CURRENT_USER"))
    granted = {
        privilege: db.session.scalar(
            text("SELECT has_table_privilege('metadata_syncs', :p)"), {"p": privilege}
        )
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
    }
    assert granted == {
        "SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False, "TRUNCATE": False,
        "TRIGGER": False,
    }  # fmt: skip
    savepoint = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="permission denied"):
        db.session.execute(text("UPDATE metadata_syncs SET source = 'cli'"))
    savepoint.rollback()


def checkpoint(app):
    return app.test_cli_runner().invoke(args=["catalog", "audit", "checkpoint"])


# The forgery of issue 12, done by the schema's owner: triggers off, a row rewritten, every
# later hash recomputed with the database's own function, the head moved, triggers back on.
FORGERY = """
ALTER TABLE metadata_syncs DISABLE TRIGGER USER;
GRANT UPDATE ON metadata_syncs TO CURRENT_USER;
UPDATE metadata_syncs SET user_email = 'someone-else@example.com',
       changes = '{"name": ["old 3", "forged"]}' WHERE chain_seq = 3;
DO $$
DECLARE
  r record;
  prev bytea;
  last bytea;
BEGIN
  SELECT row_hash INTO last FROM metadata_syncs WHERE chain_seq = 2;
  FOR r IN SELECT * FROM metadata_syncs WHERE chain_seq >= 3 ORDER BY chain_seq LOOP
    prev := last;
    last := audit_row_hash(prev, r.chain_seq, r.id, r.entity_type, r.entity_id, r.entity_key,
      r.video_title, r.channel_display_name, r.action, r.source, r.changes, r.user_id,
      r.user_email, r.batch_id, r.batch_size, r.report_id, r.reverts_id, r.restored_to,
      r.sync_time);
    UPDATE metadata_syncs SET prev_hash = prev, row_hash = last WHERE id = r.id;
  END LOOP;
  UPDATE audit_chain_head SET last_hash = last;
END $$;
ALTER TABLE metadata_syncs ENABLE TRIGGER USER;
REVOKE UPDATE ON metadata_syncs FROM CURRENT_USER;
"""


def test_a_rewrite_by_the_owner_is_found_by_a_checkpoint(ledger, tmp_path):
    write(ledger, *(note(n) for n in range(1, 6)))
    result = checkpoint(ledger)
    assert result.exit_code == 0, result.output
    assert "Checkpoint at chain position 5" in result.output
    write(ledger, note(6), note(7))
    as_owner(ledger, FORGERY)
    with ledger.app_context():
        forged = db.session.scalars(select(MetadataSync).where(MetadataSync.chain_seq == 3)).one()
        assert forged.user_email == "someone-else@example.com"

    # The chain's own hashes were all recomputed: without the checkpoint it passes.
    kept = ledger.config["AUDIT_CHECKPOINT_DIR"]
    ledger.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "none")
    result = verify(ledger)
    assert result.exit_code == 0, result.output
    assert "No signed checkpoints" in result.output

    ledger.config["AUDIT_CHECKPOINT_DIR"] = kept
    result = verify(ledger)
    assert result.exit_code == 1, result.output
    assert "BROKEN at chain position 5: checkpoint 000000000000005-" in result.output
    assert "no longer has the hash the checkpoint vouched for" in result.output
    # Nor does a new checkpoint vouch for the rewritten chain.
    result = checkpoint(ledger)
    assert result.exit_code == 1
    assert "No checkpoint written" in result.output
    assert len(list(checkpoints.directory(ledger).glob("*.json"))) == 1


def test_checkpoints_follow_the_chain_and_verify_counts_them(ledger):
    assert "nothing to vouch for" in checkpoint(ledger).output
    write(ledger, note(1), note(2))
    assert "position 2" in checkpoint(ledger).output
    assert "position 2" in checkpoint(ledger).output  # the head has not moved: no new file
    write(ledger, note(3))
    assert "position 3" in checkpoint(ledger).output
    assert len(list(checkpoints.directory(ledger).glob("*.json"))) == 2
    result = verify(ledger)
    assert result.exit_code == 0, result.output
    assert "2 signed checkpoints match the chain" in result.output


def test_a_checkpoint_with_a_bad_signature_is_reported(ledger):
    write(ledger, note(1), note(2))
    assert checkpoint(ledger).exit_code == 0
    (path,) = checkpoints.directory(ledger).glob("*.json")
    forged = json.loads(path.read_text())
    forged["seq"] = 1  # vouching for another position, with the old signature
    path.write_text(json.dumps(forged))
    result = verify(ledger)
    assert result.exit_code == 1
    assert f"checkpoint {path.name} has a bad signature" in result.output
    # A checkpoint signed with another key is no better.
    path.unlink()
    assert checkpoint(ledger).exit_code == 0
    ledger.config["AUDIT_CHECKPOINT_KEY"] = "another-key"
    result = verify(ledger)
    assert result.exit_code == 1
    assert "has a bad signature" in result.output


def test_removed_rows_after_a_checkpoint_are_reported(ledger, postgres):
    write(ledger, note(1), note(2), note(3))
    assert checkpoint(ledger).exit_code == 0
    # The owner deletes the newest rows and moves the head back: a chain that holds.
    as_owner(
        ledger,
        "ALTER TABLE metadata_syncs DISABLE TRIGGER USER;"
        "GRANT DELETE ON metadata_syncs TO CURRENT_USER;"
        "DELETE FROM metadata_syncs WHERE chain_seq = 3;"
        "UPDATE audit_chain_head SET last_seq = 2, last_hash = "
        "(SELECT row_hash FROM metadata_syncs WHERE chain_seq = 2);"
        "ALTER TABLE metadata_syncs ENABLE TRIGGER USER;",
    )
    result = verify(ledger)
    assert result.exit_code == 1
    assert "(position 3): the chain ends at position 2" in result.output


def test_workers_write_checkpoints_on_their_schedule(ledger, tmp_path):
    """A real worker process, its checkpoint cron set to every second: a checkpoint of the
    head appears, and follows the chain when it grows."""
    write(ledger, note(1), note(2))
    pool = Workers(
        ledger.config["SQLALCHEMY_DATABASE_URI"], tmp_path,
        AUDIT_CHECKPOINT_CRON="* * * * * */1",
        AUDIT_CHECKPOINT_DIR=ledger.config["AUDIT_CHECKPOINT_DIR"],
        AUDIT_CHECKPOINT_KEY=ledger.config["AUDIT_CHECKPOINT_KEY"],
    )  # fmt: skip
    try:
        pool.start()
        first = wait_for(lambda: checkpoints.latest(ledger), 30, "a first checkpoint")
        assert first.seq == 2
        write(ledger, note(3))
        wait_for(lambda: checkpoints.latest(ledger).seq == 3, 30, "a checkpoint of position 3")
    except BaseException:
        pool.stop_all()
        pool.dump()
        raise
    pool.stop_all()
    result = verify(ledger)
    assert result.exit_code == 0, result.output
    assert "2 signed checkpoints match the chain" in result.output
