"""Task audit rows get their place in the chain at their transaction's commit (migration
0023): none before, every committed one after, in commit order, mixed with rows chained on
insert, and a row committed without a place is reported by verify."""

import threading

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync
from tests.audit.conftest import as_owner, as_superuser
from tests.audit.test_integrity import note, verify, write


def task_note(number: int) -> dict:
    return audit.entity_row(
        "task", number, f"{number:032x}", action="update",
        changes={"status": ["queued", "claimed"]}, source="api", actor=None,
    )  # fmt: skip


def chain(app) -> list[tuple[str, int, int]]:
    """(entity_type, entity_id, chain_seq) of every row, in chain order; checks the links."""
    with app.app_context():
        rows = db.session.scalars(select(MetadataSync).order_by(MetadataSync.chain_seq)).all()
        assert [row.prev_hash for row in rows[1:]] == [row.row_hash for row in rows[:-1]]
        return [(row.entity_type, row.entity_id, row.chain_seq) for row in rows]


def test_a_task_row_is_placed_at_commit(ledger):
    with ledger.app_context():
        row = audit.record(task_note(1))
        db.session.flush()
        assert (row.chain_seq, row.prev_hash, row.row_hash) == (None, None, None)
        # The head is not held by this transaction: another one chains meanwhile.
        other = subprocess_free_write(ledger, note(7))
        assert other == 1
        db.session.commit()
    assert chain(ledger) == [("channel", 7, 1), ("task", 1, 2)]
    result = verify(ledger)
    assert result.exit_code == 0, result.output
    assert "OK: 2 audit rows" in result.output


def subprocess_free_write(app, row: dict) -> int:
    """Commit `row` from another thread (its own connection); its chain position."""
    found: list[int] = []

    def work() -> None:
        with app.app_context():
            entry = audit.record(row)
            db.session.commit()
            found.append(entry.chain_seq)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the other writer waited for this transaction"
    return found[0]


def test_pending_task_rows_keep_their_order_before_a_row_chained_on_insert(ledger):
    with ledger.app_context():
        audit.record(task_note(1))
        audit.record(task_note(2))
        db.session.flush()
        audit.record(note(3))  # takes the chain now: the task rows are placed first
        db.session.flush()
        audit.record(task_note(4))  # the chain is held already: placed on insert
        db.session.commit()
    assert chain(ledger) == [("task", 1, 1), ("task", 2, 2), ("channel", 3, 3), ("task", 4, 4)]
    assert verify(ledger).exit_code == 0


def test_a_rolled_back_task_row_leaves_no_hole(ledger):
    with ledger.app_context():
        audit.record(task_note(1))
        db.session.flush()
        savepoint = db.session.begin_nested()
        audit.record(task_note(2))
        db.session.flush()
        savepoint.rollback()
        audit.record(task_note(3))
        db.session.commit()
    assert chain(ledger) == [("task", 1, 1), ("task", 3, 2)]
    assert verify(ledger).exit_code == 0


def test_parallel_task_writers_keep_one_unbroken_chain(ledger):
    writers, transactions = 6, 10
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            with ledger.app_context():
                start.wait()
                for n in range(transactions):
                    audit.record(task_note(number * 1000 + n))
                    db.session.flush()
                    db.session.execute(text("SELECT pg_sleep(0.001)"))
                    if n % 3 == 0:  # some transactions take the chain before their commit
                        audit.record(note(number * 1000 + n))
                    db.session.commit()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    rows = chain(ledger)
    expected = writers * (transactions + len(range(0, transactions, 3)))
    assert [seq for _, _, seq in rows] == list(range(1, expected + 1))
    result = verify(ledger)
    assert result.exit_code == 0, result.output


def test_a_transaction_saves_the_head_once_however_many_rows_it_writes(ledger, postgres):
    """One deferred save event per transaction, queued by its first row (migration 0031): a
    transaction of 40 rows, 10 of them placed at commit, runs the save once, not 40 times.
    Counted by the server's function statistics, the save fired before the commit."""
    calls = as_superuser(
        postgres,
        "SET track_functions = 'pl'; BEGIN; "
        "INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, action, source, changes) "
        "SELECT 'task', n, lpad(to_hex(n), 32, '0'), 'update', 'api', '{}' "
        "FROM generate_series(1, 10) n; "
        "INSERT INTO metadata_syncs (entity_type, entity_id, entity_key, action, source, changes) "
        "SELECT 'channel', n, 'UC' || n, 'update', 'cli', '{}' FROM generate_series(11, 40) n; "
        "SET CONSTRAINTS audit_chain_save IMMEDIATE; "
        "SELECT (SELECT calls FROM pg_stat_xact_user_functions "
        "WHERE funcname = 'audit_chain_save'), "
        "(SELECT last_seq FROM audit_chain_head), (SELECT max(chain_seq) FROM metadata_syncs)",
    )
    assert calls == "1|40|40"


def test_rows_written_after_an_immediate_save_move_the_head_again(ledger):
    """Under SET CONSTRAINTS ... IMMEDIATE the save runs at the end of each statement; the
    next statement's first row queues it again, so the head follows every row: the next
    transaction continues the chain after the last of them."""
    with ledger.app_context():
        db.session.execute(text("SET CONSTRAINTS audit_chain_save IMMEDIATE"))
        audit.record(note(1))
        db.session.flush()
        audit.record(task_note(2))
        db.session.flush()
        audit.record(note(3))
        db.session.commit()
    write(ledger, note(4))
    assert chain(ledger) == [
        ("channel", 1, 1),
        ("task", 2, 2),
        ("channel", 3, 3),
        ("channel", 4, 4),
    ]
    assert verify(ledger).exit_code == 0


def test_a_first_row_rolled_back_with_its_savepoint_leaves_the_save_to_the_next(ledger):
    """The row that queued the save is rolled back with its savepoint, event and all: the
    next row queues it again, and the head still ends on the transaction's last row."""
    with ledger.app_context():
        savepoint = db.session.begin_nested()
        audit.record(note(1))
        db.session.flush()
        savepoint.rollback()
        audit.record(task_note(2))
        audit.record(note(3))
        db.session.commit()
    write(ledger, note(4))
    assert chain(ledger) == [("task", 2, 1), ("channel", 3, 2), ("channel", 4, 3)]
    assert verify(ledger).exit_code == 0


def test_verify_reports_a_row_committed_without_a_place(ledger, postgres):
    with ledger.app_context():
        audit.record(task_note(1))
        db.session.commit()
    # Only a bypass of the triggers can commit a row without its place.
    as_superuser(
        postgres,
        "SET session_replication_role = replica; "
        "INSERT INTO metadata_syncs (entity_type, entity_id, action, source, changes) "
        "VALUES ('task', 2, 'update', 'api', '{}')",
    )
    result = verify(ledger)
    assert result.exit_code == 1
    assert "was committed without a place in the chain" in result.output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE metadata_syncs SET chain_seq = chain_seq + 100",
        "UPDATE metadata_syncs SET row_hash = prev_hash",
    ],
)
def test_a_placed_row_cannot_be_placed_again_even_by_the_owner(ledger, statement):
    with ledger.app_context():
        audit.record(task_note(1))
        db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        as_owner(ledger, statement)
    assert verify(ledger).exit_code == 0


def test_the_owner_may_not_update_other_columns_of_a_pending_row(ledger):
    with pytest.raises(DBAPIError, match="permission denied"):
        as_owner(
            ledger,
            "INSERT INTO metadata_syncs (entity_type, entity_id, action, source, changes) "
            "VALUES ('task', 1, 'update', 'api', '{}'); "
            "UPDATE metadata_syncs SET source = 'web' WHERE chain_seq IS NULL",
        )


def test_the_app_role_may_not_place_its_own_pending_row(app_ctx):
    audit.record(task_note(1))
    db.session.flush()
    savepoint = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="permission denied"):
        db.session.execute(
            text(
                "UPDATE metadata_syncs SET chain_seq = 1, prev_hash = '', row_hash = '' "
                "WHERE chain_seq IS NULL"
            )
        )
    savepoint.rollback()


def test_superuser_psql_is_refused_placing_a_chained_row(ledger, postgres):
    with ledger.app_context():
        audit.record(task_note(1))
        db.session.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        as_superuser(postgres, "UPDATE metadata_syncs SET chain_seq = 5")
    assert "append-only" in str(refused.value)
