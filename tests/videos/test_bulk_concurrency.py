"""Bulk edits over overlapping sets of videos, at the same moment, in separate transactions:
none deadlocks, none is lost, and the audit trail tells the story in the order it happened."""

import random
import re

from flask_security import hash_password
from sqlalchemy import select, text

from catalog.extensions import db
from catalog.models import CustomField, MetadataSync, User, Video
from catalog.videos import bulk_edit
from tests import factories
from tests.helpers import csrf_token
from tests.race import run_together

EDITS = 20
VIDEOS = 40
WINDOW = 14
CONFLICT = "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = 'deadlock_detected'; END $$"


def _seed(app) -> tuple[list[int], int, int]:
    """Committed videos, a rating field and an editor: (video ids, field id, user id)."""
    with app.app_context():
        factories.use_session(db.session, hash_password("race"))
        videos = factories.VideoFactory.create_batch(VIDEOS)
        stars = factories.CustomFieldFactory(
            name="Stars", field_type="rating", config={"max_rating": 5}
        )
        editor = factories.UserFactory(roles=["editor"])
        db.session.commit()
        return [video.id for video in videos], stars.id, editor.id


def _window(ids: list[int], number: int) -> list[int]:
    """Overlapping windows, listed forwards, backwards or shuffled."""
    start = (number * 3) % (len(ids) - WINDOW)
    window = ids[start : start + WINDOW]
    if number % 3 == 1:
        window.reverse()
    elif number % 3 == 2:
        random.Random(number).shuffle(window)
    return window


def _bulk_edit(ids: list[int], field_id: int, user_id: int, number: int) -> int:
    """One bulk edit, committed: labels, notes and a custom value."""
    editor = db.session.get(User, user_id)
    stars = db.session.get(CustomField, field_id)
    selection = select(Video.id).where(Video.id.in_(_window(ids, number)))
    changed = bulk_edit.bulk_update(
        selection,
        {"label": f"Label {number}", "notes": f"Edit {number}", "hidden": number % 2 == 0},
        actor=editor,
        custom={stars: number % 5 + 1},
    )
    db.session.commit()
    return changed


def test_overlapping_bulk_edits_at_once_neither_deadlock_nor_lose_a_change(race_app):
    ids, field_id, user_id = _seed(race_app)

    # Several rounds, so that the rows' places in the table (the order a plan without an
    # ORDER BY meets them in) are shuffled by the updates of the rounds before.
    for first in range(0, 3 * EDITS, EDITS):
        changed, failures = run_together(
            race_app, EDITS, lambda n, first=first: _bulk_edit(ids, field_id, user_id, first + n)
        )
        assert failures == [], [str(f)[:300] for f in failures]
        assert all(count > 0 for count in changed)

    with race_app.app_context():
        rows = db.session.scalars(
            select(MetadataSync)
            .where(MetadataSync.source == "bulk")
            .order_by(MetadataSync.chain_seq)
        ).all()
        videos = {video.id: video for video in db.session.scalars(select(Video))}
        values = dict(
            db.session.execute(
                db.text("SELECT video_id, value_numeric FROM video_field_values")
            ).all()
        )
    # Each edit is one batch whose first row counts its rows.
    batches: dict = {}
    for row in rows:
        batches.setdefault(row.batch_id, []).append(row)
    assert len(batches) == 3 * EDITS
    assert all(batch[0].batch_size == len(batch) for batch in batches.values())
    # Replayed in the order they were committed, the audit rows give each video as it is:
    # each row starts from what the one before it left, none was lost.
    for video_id, video in videos.items():
        trail = [row for row in rows if row.entity_id == video_id]
        assert video.version == 1 + len(trail)
        state = {"label": None, "notes": None, "hidden": False, "field:Stars": None}
        for row in trail:
            for field, (old, new) in row.changes.items():
                assert state[field] == old, (video_id, row.id, field)
                state[field] = new
        assert (video.label, video.notes, video.hidden) == (
            state["label"],
            state["notes"],
            state["hidden"],
        )
        assert values.get(video_id) == state["field:Stars"]


def test_a_bulk_edit_that_lost_a_race_is_run_again_whole(
    client, db_session, sign_in_as, monkeypatch
):
    """The page's bulk edit goes through the retry: the first run is aborted by PostgreSQL
    after writing (as a deadlock victim is), the second run saves, once."""
    sign_in_as("editor")
    videos = factories.VideoFactory.create_batch(3, label="Before")
    real = bulk_edit.apply_bulk
    runs = []

    def loses_the_first_race(*args, **kwargs):
        done = real(*args, **kwargs)
        runs.append(done.count)
        if len(runs) == 1:
            db.session.execute(text(CONFLICT))
        return done

    ids = ",".join(str(video.id) for video in videos)
    data = {
        "csrf_token": csrf_token(client.get("/videos")), "ids": ids, "scope": "",
        "set_label": "y", "label": "After",
    }  # fmt: skip
    preview = client.post("/videos/bulk", data=data).get_data(as_text=True)
    confirm = re.search(r'name="confirm" value="([0-9a-f]+)"', preview).group(1)
    monkeypatch.setattr(bulk_edit, "apply_bulk", loses_the_first_race)
    response = client.post("/videos/bulk", data={**data, "confirm": confirm})
    assert response.status_code == 302
    assert runs == [3, 3]
    db_session.expire_all()
    assert {video.label for video in videos} == {"After"}
    rows = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_id.in_([video.id for video in videos]))
    ).all()
    assert len(rows) == 3  # one audit row each: the aborted run left none
