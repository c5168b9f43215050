"""Report imports while bulk edits change the same videos, at the same moment, in separate
transactions: none deadlocks, and the audit trail still replays to the videos as they are."""

import random
import threading

from flask_security import hash_password
from sqlalchemy import func, select, text

from catalog.extensions import db
from catalog.models import MetadataSync, User, Video
from catalog.reports import importer
from catalog.reports.importer import pipeline, writing
from catalog.videos import bulk_edit, service
from tests import factories
from tests.race import run_together
from tests.reports.conftest import opener

VIDEOS = 40
IMPORTS = 3
EDITS = 7
NEW = 5000  # new videos in each of two files: enough that the imports meet while inserting


def _seed(app, tmp_path) -> tuple[list, int]:
    """Videos, and report files that list them from the highest id down: (files, editor)."""
    with app.app_context():
        factories.use_session(db.session, hash_password("race"))
        editor = factories.UserFactory(roles=["editor"])
        keys = [f"impRace{n:04d}" for n in range(VIDEOS)]
        for key in keys:
            service.create_video({"video_id": key, "title": "Before", "views": 1}, actor=editor)
        db.session.commit()
        # Rows move in the table as they are updated: leave them in an order of their own,
        # the order a plan without an ORDER BY meets them in.
        for key in random.Random(7).sample(keys, len(keys)):
            db.session.execute(
                text("UPDATE videos SET notes = 'moved' WHERE video_id = :k"), {"k": key}
            )
            db.session.commit()
        files = []
        for number in range(IMPORTS):
            path = tmp_path / f"report{number}.csv"
            lines = [f"{key},Imported {number},{1000 + number}" for key in reversed(keys)]
            path.write_text("video_id,title,views\n" + "\n".join(lines) + "\n")
            files.append(path)
        return files, editor.id


def test_imports_and_bulk_edits_at_once_do_not_deadlock(race_app, tmp_path, monkeypatch):
    # An import that finds a video changed since its comparison starts over: with this many
    # edits at once, let it start over often enough to get through.
    monkeypatch.setattr(pipeline, "ATTEMPTS", 10)
    files, user_id = _seed(race_app, tmp_path)

    def work(number: int) -> str:
        editor = db.session.get(User, user_id)
        if number < IMPORTS:
            try:
                importer.apply(
                    opener(files[number]), actor=editor, report_id=None, max_bytes=1 << 20
                )
            except importer.ConcurrentChange:
                db.session.rollback()
                return "changed meanwhile"  # a retry of the job's, not a failure
            db.session.commit()
            return "imported"
        bulk_edit.bulk_update(select(Video.id), {"label": f"Edit {number}"}, actor=editor)
        db.session.commit()
        return "edited"

    outcomes, failures = run_together(race_app, IMPORTS + EDITS, work)
    assert failures == [], [str(f)[:300] for f in failures]
    assert outcomes[IMPORTS:] == ["edited"] * EDITS
    assert "imported" in outcomes[:IMPORTS]

    with race_app.app_context():
        rows = db.session.scalars(select(MetadataSync).order_by(MetadataSync.chain_seq)).all()
        videos = db.session.scalars(select(Video)).all()
    for video in videos:
        state = {"title": None, "views": None, "label": None}
        trail = [row for row in rows if row.entity_id == video.id]
        for row in trail:
            for field in state.keys() & row.changes.keys():
                old, new = row.changes[field]
                assert old == state[field], (video.video_id, row.id, field)
                state[field] = new
        assert (video.title, video.views, video.label) == (
            state["title"],
            state["views"],
            state["label"],
        )
        assert video.version == len(trail)


def test_imports_creating_the_same_videos_at_once_do_not_deadlock(race_app, tmp_path):
    """Two files bring the same new videos, listed in opposite orders: each new video id is
    claimed in one order (the id's), so one import waits for the other instead of each
    holding an id the other needs."""
    keys = [f"newRace{n:04d}" for n in range(NEW)]
    files = []
    for number, listed in enumerate((keys, list(reversed(keys)))):
        path = tmp_path / f"new{number}.csv"
        lines = [f"{key},New {number}" for key in listed]
        path.write_text("video_id,title\n" + "\n".join(lines) + "\n")
        files.append(path)

    def work(number: int) -> tuple[int, int]:
        outcome = importer.apply(
            opener(files[number % 2]), actor=None, report_id=None, max_bytes=1 << 20
        )
        db.session.commit()
        return outcome.created, outcome.updated

    outcomes, failures = run_together(race_app, 6, work)
    assert failures == [], [str(f)[:300] for f in failures]
    # One import created them all; each of the others found them made and changed the title
    # (or found it already its own).
    assert sorted(created for created, _updated in outcomes) == [0, 0, 0, 0, 0, NEW]
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Video)) == NEW


def test_a_video_may_join_a_channel_while_an_import_renames_it(race_app, tmp_path, monkeypatch):
    """An import holds the channels it renames until it commits, and then locks its videos.
    A save that holds one of those videos and points it to such a channel must not wait for
    the import (which waits for the save: a deadlock): the import's lock on the channel
    leaves its key alone, which is all a reference to it needs."""
    with race_app.app_context():
        factories.use_session(db.session, hash_password("race"))
        channel = factories.ChannelFactory(name="Old name")
        video = factories.VideoFactory(video_id="renRace0001", channel=None)
        db.session.commit()
        channel_pk, channel_key, video_pk = channel.id, channel.channel_id, video.id
    path = tmp_path / "rename.csv"
    path.write_text(
        f"video_id,title,channel_id,channel_name\nrenRace0001,Imported,{channel_key},New name\n"
    )
    renamed, go_on = threading.Event(), threading.Event()
    real = writing.lock_videos

    def paused(selection):  # the import, between renaming channels and locking videos
        renamed.set()
        go_on.wait(30)
        return real(selection)

    monkeypatch.setattr(writing, "lock_videos", paused)

    def work(_number: int) -> None:
        importer.apply(opener(path), actor=None, report_id=None, max_bytes=1 << 20)
        db.session.commit()

    finished = []
    importing = threading.Thread(target=lambda: finished.append(run_together(race_app, 1, work)[1]))
    importing.start()
    try:
        assert renamed.wait(30)
        with race_app.app_context(), db.engine.connect() as save:
            save.execute(text("SET lock_timeout = '3s'"))
            save.execute(text("SELECT id FROM videos WHERE id = :v FOR UPDATE"), {"v": video_pk})
            save.execute(
                text("UPDATE videos SET channel_id = :c WHERE id = :v"),
                {"c": channel_pk, "v": video_pk},
            )
            save.commit()
    finally:
        go_on.set()
        importing.join(30)
    assert finished == [[]]  # the import went through
    with race_app.app_context():
        video = db.session.get(Video, video_pk)
        assert (video.title, video.channel_id) == ("Imported", channel_pk)
        assert video.channel.name == "New name"
