"""A transaction that lost a race runs again, whole; anything else is raised at once."""

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, OperationalError

from catalog.extensions import db
from catalog.models import Video
from catalog.web import db_retry
from tests import factories
from tests.race import run_together

CONFLICT = "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '{}'; END $$"


def _lock(video_id: int) -> None:
    db.session.execute(select(Video.id).where(Video.id == video_id).with_for_update())


def _note(video_id: int, text_: str) -> None:
    video = db.session.get(Video, video_id)
    video.notes = f"{video.notes or ''}{text_}"
    db.session.flush()


def test_a_deadlock_victim_runs_its_whole_work_again(race_app):
    with race_app.app_context():
        factories.use_session(db.session, "unused")
        first, second = (v.id for v in factories.VideoFactory.create_batch(2))
        db.session.commit()
    both_hold_one = threading.Barrier(2)
    runs = [0, 0]

    def crosswise(number: int) -> None:
        """Thread 0 locks first then second, thread 1 the other way round; each writes a
        note on its first video before it reaches for the second one."""
        mine, theirs = (first, second) if number == 0 else (second, first)

        def work() -> None:
            runs[number] += 1
            _lock(mine)
            _note(mine, str(number))
            if runs[number] == 1:
                both_hold_one.wait()
            _lock(theirs)

        db_retry.run_in_transaction(work)

    _, failures = run_together(race_app, 2, crosswise)
    assert failures == []
    assert sorted(runs) == [1, 2]  # PostgreSQL aborted one; it ran again, from the start
    with race_app.app_context():
        notes = db.session.execute(select(Video.id, Video.notes)).all()
    # Each note once: the victim's first write went with its transaction.
    assert dict(notes) == {first: "0", second: "1"}


@pytest.mark.parametrize("state", ["40P01", "40001"])
def test_after_the_last_attempt_the_conflict_is_raised_and_nothing_kept(app_ctx, state):
    video = factories.VideoFactory(notes=None)
    db.session.commit()
    calls = []

    def work() -> None:
        calls.append(1)
        _note(video.id, "x")
        db.session.execute(text(CONFLICT.format(state)))

    with pytest.raises(OperationalError) as raised:
        db_retry.run_in_transaction(work, attempts=3)
    assert db_retry.kind(raised.value) == "conflict"
    assert len(calls) == 3
    assert db.session.get(Video, video.id).notes is None


def test_other_errors_are_not_run_again(app_ctx):
    calls = []

    def work() -> None:
        calls.append(1)
        db.session.execute(text("SELECT 1 / 0"))

    with pytest.raises(DataError):
        db_retry.run_in_transaction(work)
    assert len(calls) == 1

    def refused() -> None:
        calls.append(1)
        raise ValueError("a rule said no")

    with pytest.raises(ValueError, match="a rule said no"):
        db_retry.run_in_transaction(refused)
    assert len(calls) == 2


def test_what_the_result_of_work_is_returned_once_committed(app_ctx):
    video = factories.VideoFactory(notes=None)
    assert db_retry.run_in_transaction(lambda: _note(video.id, "saved") or "done") == "done"
    db.session.rollback()  # nothing left to roll back: the helper committed
    assert db.session.get(Video, video.id).notes == "saved"
