"""Undoing a whole batch (a bulk edit, a report import, an undo): counts, conflicts skipped or
overwritten, created videos deleted, one transaction, one new batch, set-based."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DataError

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync, Video
from catalog.reports import importer
from catalog.revert import batch as batch_undo
from catalog.revert import states
from catalog.videos import bulk_edit, service
from tests.changes.conftest import create, now_state, rows_of, update
from tests.factories import CustomFieldFactory
from tests.reports.conftest import opener


def bulk(videos, values, *, actor, custom=None):
    """A bulk edit of `videos`; returns its batch id."""
    selection = select(Video.id).where(Video.id.in_([v.id for v in videos]))
    bulk_edit.bulk_update(selection, values, actor=actor, custom=custom)
    return db.session.scalar(
        select(MetadataSync.batch_id).order_by(MetadataSync.chain_seq.desc()).limit(1)
    )


def undo(batch_id, *, overwrite=False, actor=None) -> batch_undo.BatchPlan:
    plan = batch_undo.plan_batch(batch_id, overwrite=overwrite)
    return batch_undo.undo_batch(batch_id, overwrite=overwrite, seen=plan.seen, actor=actor)


@pytest.fixture
def videos(editor):
    made = []
    for n in range(4):
        values = {"title": f"Song {n}", "claimed_status": "claim", "label": "Before"}
        made.append(create(f"batch{n:06d}", actor=editor, **values))
    return made


def test_undoing_a_bulk_edit_puts_every_value_back_in_one_new_batch(editor, videos):
    stars = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    batch_id = bulk(videos, {"claimed_status": "appeal", "label": "After"}, actor=editor,
                    custom={stars: 3})  # fmt: skip
    bulk_rows = {row.entity_key: row for row in db.session.scalars(
        select(MetadataSync).where(MetadataSync.batch_id == batch_id))}  # fmt: skip

    plan = batch_undo.plan_batch(batch_id)
    assert (plan.rows, plan.videos, plan.fields, plan.conflicts) == (4, 4, 12, 0)
    assert plan.by_field == {"claimed_status": 4, "label": 4, "field:Stars": 4}
    done = batch_undo.undo_batch(batch_id, overwrite=False, seen=plan.seen, actor=editor)

    for video in videos:
        state = now_state(video.video_id)
        assert (state["claimed_status"], state["label"]) == ("claim", "Before")
        assert "field:Stars" not in state
    undo_rows = db.session.scalars(
        select(MetadataSync)
        .where(MetadataSync.batch_id == done.undo_batch_id)
        .order_by(MetadataSync.chain_seq)
    ).all()
    assert len(undo_rows) == 4
    assert undo_rows[0].batch_size == 4
    assert all(row.batch_size is None for row in undo_rows[1:])
    for row in undo_rows:
        assert (row.source, row.action, row.user_id) == ("revert", "update", editor.id)
        assert row.reverts_id == bulk_rows[row.entity_key].id
        assert row.changes == {"claimed_status": ["appeal", "claim"],
                               "label": ["After", "Before"], "field:Stars": [3, None]}  # fmt: skip
        assert states.replay(rows_of(row.entity_key)) == now_state(row.entity_key)


def test_conflicts_are_kept_by_default(editor, videos):
    batch_id = bulk(videos, {"claimed_status": "appeal", "label": "After"}, actor=editor)
    update(db.session.get(Video, videos[0].id), actor=editor, label="Edited since")

    plan = batch_undo.plan_batch(batch_id)
    assert (plan.videos, plan.fields, plan.conflicts, plan.conflict_videos) == (4, 7, 1, 1)
    [example] = plan.examples
    assert (example.video_key, example.key, example.then, example.set_to, example.now) == (
        videos[0].video_id, "label", "Before", "After", "Edited since"
    )  # fmt: skip
    batch_undo.undo_batch(batch_id, overwrite=False, seen=plan.seen, actor=editor)

    first = now_state(videos[0].video_id)
    assert (first["claimed_status"], first["label"]) == ("claim", "Edited since")
    assert now_state(videos[1].video_id)["label"] == "Before"


def test_conflicts_can_be_overwritten(editor, videos):
    batch_id = bulk(videos, {"label": "After"}, actor=editor)
    update(db.session.get(Video, videos[0].id), actor=editor, label="Edited since")
    done = undo(batch_id, overwrite=True, actor=editor)
    assert (done.fields, done.conflicts) == (4, 1)
    assert [now_state(v.video_id)["label"] for v in videos] == ["Before"] * 4


def test_undoing_the_undo_puts_the_batch_back(editor, videos):
    batch_id = bulk(videos, {"label": "After"}, actor=editor)
    done = undo(batch_id, actor=editor)
    undo(done.undo_batch_id, actor=editor)
    assert [now_state(v.video_id)["label"] for v in videos] == ["After"] * 4


def test_a_video_deleted_since_is_left_alone(editor, videos):
    batch_id = bulk(videos, {"label": "After"}, actor=editor)
    service.delete_video(db.session.get(Video, videos[0].id), actor=editor)
    done = undo(batch_id, actor=editor)
    assert (done.videos, done.gone) == (3, 1)
    assert now_state(videos[0].video_id) is None


def test_a_batch_changed_after_the_preview_writes_nothing(editor, videos):
    batch_id = bulk(videos, {"label": "After"}, actor=editor)
    plan = batch_undo.plan_batch(batch_id)
    update(db.session.get(Video, videos[1].id), actor=editor, title="Meanwhile")
    with pytest.raises(batch_undo.Changed):
        batch_undo.undo_batch(batch_id, overwrite=False, seen=plan.seen, actor=editor)
    reverts = select(func.count()).where(MetadataSync.source == "revert")
    assert db.session.scalar(reverts) == 0
    assert [now_state(v.video_id)["label"] for v in videos] == ["After"] * 4


def test_a_batch_without_videos_is_refused(app_ctx):
    with pytest.raises(batch_undo.RevertError):
        batch_undo.plan_batch(uuid.uuid4())


def test_undoing_a_report_import_deletes_the_videos_it_created(editor):
    outcome = importer.apply(opener("youtube_video_report_a2.csv"), actor=editor, report_id=None,
                             max_bytes=10**9)  # fmt: skip
    batch_id = outcome.batch_id
    created = db.session.scalars(
        select(MetadataSync.entity_key).where(
            MetadataSync.batch_id == batch_id, MetadataSync.entity_type == "video"
        )
    ).all()
    assert len(created) == 4
    kept = created[0]
    update(db.session.scalars(select(Video).where(Video.video_id == kept)).one(), actor=editor,
           notes="worked on since")  # fmt: skip

    plan = batch_undo.plan_batch(batch_id)
    assert (plan.deletes, plan.kept, plan.conflict_videos) == (3, 1, 1)
    assert [e.key for e in plan.examples] == ["notes"]
    done = batch_undo.undo_batch(batch_id, overwrite=False, seen=plan.seen, actor=editor)

    assert now_state(kept) is not None
    for key in created[1:]:
        assert now_state(key) is None
        deletion = rows_of(key)[-1]
        assert (deletion.action, deletion.source, deletion.batch_id) == (
            "delete", "revert", done.undo_batch_id
        )  # fmt: skip
        assert deletion.reverts_id == rows_of(key)[0].id
        # The deletion recorded every last value: undoing the undo brings the video back.
    again = undo(done.undo_batch_id, actor=editor)
    assert again.recreates == 3
    for key in created:
        assert now_state(key) is not None
        assert states.replay(rows_of(key)) == now_state(key)


def test_overwrite_deletes_created_videos_changed_since(editor):
    outcome = importer.apply(opener("youtube_video_report_a2.csv"), actor=editor, report_id=None,
                             max_bytes=10**9)  # fmt: skip
    keys = db.session.scalars(
        select(MetadataSync.entity_key).where(
            MetadataSync.batch_id == outcome.batch_id, MetadataSync.entity_type == "video"
        )
    ).all()
    update(db.session.scalars(select(Video).where(Video.video_id == keys[0])).one(), actor=editor,
           notes="worked on since")  # fmt: skip
    done = undo(outcome.batch_id, overwrite=True, actor=editor)
    assert done.deletes == 4
    assert all(now_state(key) is None for key in keys)


@pytest.mark.parametrize("chunk", [2, 5000])
def test_a_batch_is_undone_in_a_few_statements_whatever_its_size(editor, monkeypatch, chunk):
    """Set-based: the statements of an undo grow with the number of chunks, not of videos."""
    monkeypatch.setattr(batch_undo, "CHUNK", chunk)

    def statements(count: int) -> int:
        made = [create(f"sz{count:03d}{n:06d}", actor=editor, label="Before") for n in range(count)]
        batch_id = bulk(made, {"label": "After", "notes": "n"}, actor=editor)
        plan = batch_undo.plan_batch(batch_id)
        executed = []

        def count_statement(*args):
            executed.append(args[2])

        connection = db.session.connection()
        event.listen(connection, "before_cursor_execute", count_statement)
        try:
            batch_undo.undo_batch(batch_id, overwrite=False, seen=plan.seen, actor=editor)
        finally:
            event.remove(connection, "before_cursor_execute", count_statement)
        assert [now_state(v.video_id)["label"] for v in made] == ["Before"] * count
        return len(executed)

    small, large = statements(4), statements(40)
    if chunk == 2:  # one chunk more per 2 videos: a handful of statements each
        assert large - small <= (40 - 4) // 2 * 8
    else:
        assert large == small


def test_record_many_writes_rows_in_order_with_their_types(editor):
    """Audit rows travel to the database as JSON: order, times, ids and nulls survive."""
    video = create("many0000001", actor=editor)
    batch_id, when = uuid.uuid4(), datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    rows = [
        audit.video_row(video, action="update", changes={"views": [n, n + 1]}, source="revert",
                        actor=editor, batch_id=batch_id, reverts_id=n, restored_to=when)
        for n in range(1, 4)
    ]  # fmt: skip
    audit.record_many(rows)
    written = db.session.scalars(
        select(MetadataSync)
        .where(MetadataSync.batch_id == batch_id)
        .order_by(MetadataSync.chain_seq)
    ).all()
    assert [row.reverts_id for row in written] == [1, 2, 3]
    assert [row.batch_size for row in written] == [3, None, None]
    assert {row.restored_to for row in written} == {when}
    assert written[0].changes == {"views": [1, 2]}
    assert (written[0].user_id, written[0].video_title) == (editor.id, video.title)


def test_record_many_refuses_a_value_too_long_for_its_column(editor):
    video = create("many0000002", actor=editor)
    row = audit.video_row(video, action="update", changes={}, source="x" * 50, actor=None)
    with pytest.raises(DataError):
        audit.record_many([row])


def test_a_batch_that_changed_a_video_twice_is_not_guessed_at(editor):
    video = create("twice000002", actor=editor, label="A")
    batch_id = uuid.uuid4()
    for old, new in (("A", "B"), ("B", "C")):
        changes = {"label": [old, new]}
        row = audit.video_row(
            video, action="update", changes=changes, source="bulk", actor=None, batch_id=batch_id
        )
        audit.record_many([row])
    with pytest.raises(batch_undo.RevertError, match="more than once"):
        batch_undo.plan_batch(batch_id)
