"""Undoing batches while bulk edits change the same videos, at the same moment, in separate
transactions: each undo either happens or says the videos changed since; none deadlocks,
and the audit trail still replays to the videos as they are."""

import uuid

from flask_security import hash_password
from sqlalchemy import func, select, text

from catalog import audit
from catalog.extensions import db
from catalog.models import MetadataSync, User, Video
from catalog.revert import batch as batch_undo
from catalog.videos import bulk_edit, service
from tests import factories
from tests.helpers import csrf_token
from tests.race import run_together

VIDEOS = 30
BATCHES = 5
EDITS = 5
CONFLICT = "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = 'deadlock_detected'; END $$"


def _seed(app) -> tuple[list[uuid.UUID], int, int]:
    """Videos with a history, and batches that list them from the highest id down (as an
    import may: in the file's order): (batch ids, chain position, editor id)."""
    with app.app_context():
        factories.use_session(db.session, hash_password("race"))
        editor = factories.UserFactory(roles=["editor"])
        videos = [
            service.create_video({"video_id": f"undoRace{n:03d}", "label": "Before"}, actor=editor)
            for n in range(VIDEOS)
        ]
        db.session.commit()
        batches = []
        for number in range(BATCHES):
            batch_id, rows = uuid.uuid4(), []
            for video in sorted(videos, key=lambda v: v.id, reverse=True):
                old, video.label = video.label, f"Batch {number}"
                rows.append(
                    audit.video_row(
                        video,
                        action="update",
                        changes={"label": [old, video.label]},
                        source="bulk",
                        actor=editor,
                        batch_id=batch_id,
                    )
                )
            db.session.flush()
            audit.record_many(rows)
            db.session.commit()
            batches.append(batch_id)
        seen = db.session.scalar(select(func.max(MetadataSync.chain_seq)))
        return batches, seen, editor.id


def test_batch_undos_and_bulk_edits_at_once_do_not_deadlock(race_app, monkeypatch):
    # Small chunks: the undo meets the batch's videos a few at a time, highest ids first.
    monkeypatch.setattr(batch_undo, "CHUNK", 4)
    batches, seen, user_id = _seed(race_app)

    def work(number: int) -> str:
        editor = db.session.get(User, user_id)
        if number < BATCHES:
            try:
                batch_undo.undo_batch(batches[number], overwrite=True, seen=seen, actor=editor)
            except batch_undo.Changed:
                db.session.rollback()
                return "changed since"  # a refusal people see, not a failure
            db.session.commit()
            return "undone"
        bulk_edit.bulk_update(select(Video.id), {"label": f"Edit {number}"}, actor=editor)
        db.session.commit()
        return "edited"

    outcomes, failures = run_together(race_app, BATCHES + EDITS, work)
    assert failures == [], [str(f)[:300] for f in failures]
    assert outcomes[BATCHES:] == ["edited"] * EDITS
    assert set(outcomes[:BATCHES]) <= {"undone", "changed since"}

    with race_app.app_context():
        rows = db.session.scalars(select(MetadataSync).order_by(MetadataSync.chain_seq)).all()
        videos = db.session.scalars(select(Video)).all()
    for video in videos:
        label = None
        trail = [row for row in rows if row.entity_id == video.id]
        for row in trail:
            if "label" in row.changes:
                old, new = row.changes["label"]
                assert old == label, (video.video_id, row.id)
                label = new
        assert video.label == label
        assert video.version == len(trail)


def test_an_undo_that_lost_a_race_is_run_again_whole(
    app, client, db_session, sign_in_as, monkeypatch
):
    """The undo pages go through the retry: the first run is aborted by PostgreSQL after
    writing (as a deadlock victim is), the second run undoes the batch, once."""
    sign_in_as("editor")
    videos = factories.VideoFactory.create_batch(3, label="Before")
    with app.app_context():
        selection = select(Video.id).where(Video.id.in_([video.id for video in videos]))
        bulk_edit.bulk_update(selection, {"label": "Bulk"}, actor=None)
        batch = db.session.scalar(
            select(MetadataSync.batch_id).where(MetadataSync.source == "bulk")
        )
        seen = db.session.scalar(select(func.max(MetadataSync.chain_seq)))
        db.session.commit()
    real = batch_undo.undo_batch
    runs = []

    def loses_the_first_race(*args, **kwargs):
        plan = real(*args, **kwargs)
        runs.append(plan.videos)
        if len(runs) == 1:
            db.session.execute(text(CONFLICT))
        return plan

    monkeypatch.setattr(batch_undo, "undo_batch", loses_the_first_race)
    response = client.post(f"/audit/batch/{batch}/undo", data={
        "csrf_token": csrf_token(client.get("/videos")), "seen": seen, "conflicts": "skip",
    })  # fmt: skip
    assert response.status_code == 302
    assert runs == [3, 3]
    db_session.expire_all()
    assert {video.label for video in videos} == {"Before"}
    undo_rows = db_session.scalars(select(MetadataSync).where(MetadataSync.source == "revert"))
    assert len(undo_rows.all()) == 3  # one each: the aborted run left none
